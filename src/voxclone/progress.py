"""Progress reporting for long work (enrollment, batch jobs): tqdm bars or a user callback."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# fraction of the work done in [0, 1], best similarity so far
ProgressCallback = Callable[[float, float], None]


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback that drives a tqdm bar on stderr (percent done, best similarity; a
    NaN similarity is not shown)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=100, desc=description, unit="%", leave=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}"
              ) as bar:

        def update(fraction: float, score: float) -> None:
            bar.n = round(100 * fraction)
            if not math.isnan(score):  # NaN: no similarity to show (share_bar)
                bar.set_postfix_str(f"similarity {score:.3f}", refresh=False)
            bar.refresh()

        yield update
        bar.n = 100
        bar.refresh()


@contextmanager
def share_bar(description: str, enabled: bool = True) -> Iterator[Callable[[float], None] | None]:
    """A callback that drives a tqdm bar on stderr from the share of the work done (0-1)."""
    with progress_bar(description, enabled) as update:
        if update is None:
            yield None
            return

        def advance(fraction: float) -> None:
            update(fraction, float("nan"))

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
