"""One call run on a thread of its own, beside the caller's work (the reference's
DeepFilterNet pass during the clip's analysis, the speaker's transcript during the
fit)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def start_beside(name: str, call: Callable[P, T], *args: P.args,
                 **kwargs: P.kwargs) -> Future[T]:
    """``call(*args, **kwargs)`` started now on a thread named ``voxclone-<name>``; its
    result (or what it raises) comes from the future's ``.result()``. The thread ends
    with its one task; nothing waits for it if the caller never asks."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"voxclone-{name}")
    try:
        return pool.submit(call, *args, **kwargs)
    finally:
        pool.shutdown(wait=False)
