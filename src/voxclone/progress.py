"""Progress reporting for long work (enrollment): a tqdm bar or a user callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# fraction of the work done in [0, 1], best similarity so far
ProgressCallback = Callable[[float, float], None]


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback that drives a tqdm bar on stderr (percent done, best similarity)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=100, desc=description, unit="%", leave=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}"
              ) as bar:

        def update(fraction: float, score: float) -> None:
            bar.n = round(100 * fraction)
            bar.set_postfix_str(f"similarity {score:.3f}", refresh=False)
            bar.refresh()

        yield update
        bar.n = 100
        bar.refresh()
