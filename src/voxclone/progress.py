"""Progress reporting for long work (enrollment, batch jobs): tqdm bars or a user callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# fraction of the work done in [0, 1], best similarity so far
ProgressCallback = Callable[[float, float], None]
# fraction of the work done in [0, 1], the bar's postfix text (None: none shown)
_PercentCallback = Callable[[float, str | None], None]


@contextmanager
def _percent_bar(description: str, enabled: bool) -> Iterator[_PercentCallback | None]:
    """A callback that drives a tqdm bar on stderr in percent done, with an optional
    postfix after the time left (``None`` leaves the postfix as it was)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=100, desc=description, unit="%", leave=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}"
              ) as bar:

        def update(fraction: float, postfix: str | None) -> None:
            bar.n = round(100 * fraction)
            if postfix is not None:
                bar.set_postfix_str(postfix, refresh=False)
            bar.refresh()

        yield update
        bar.n = 100
        bar.refresh()


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback that drives a tqdm bar on stderr (percent done, best similarity)."""
    with _percent_bar(description, enabled) as show:
        if show is None:
            yield None
            return

        def update(fraction: float, score: float) -> None:
            show(fraction, f"similarity {score:.3f}")

        yield update


@contextmanager
def share_bar(description: str, enabled: bool = True) -> Iterator[Callable[[float], None] | None]:
    """A callback that drives a tqdm bar on stderr from the share of the work done (0-1);
    no similarity is shown."""
    with _percent_bar(description, enabled) as show:
        if show is None:
            yield None
            return

        def advance(fraction: float) -> None:
            show(fraction, None)

        yield advance


@contextmanager
def count_bar(description: str, total: int, unit: str,
              enabled: bool = True) -> Iterator[Callable[[], None] | None]:
    """A callback that advances a tqdm bar of ``total`` items on stderr by one (shows
    items per second and the time left)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit=unit, leave=True, smoothing=0.1) as bar:

        def advance() -> None:
            bar.update(1)

        yield advance
