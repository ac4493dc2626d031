"""Where batch lines are rendered: in this process, in a pool of local worker processes,
or on a Ray cluster (:mod:`voxclone.batch.ray_executor`) - all behind :class:`Executor`.

Each worker loads the models once and renders lines one after the other; ONNX Runtime
gets ``cores // workers`` threads per worker, so the workers together use every core
without oversubscribing them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from voxclone.batch.work import LineJob, LineResult, prepare_worker, render_line
from voxclone.errors import BatchError

logger = logging.getLogger(__name__)


class Executor(Protocol):
    """Renders :class:`LineJob` s, yielding each :class:`LineResult` as soon as it is done
    (in any order). Closing the iterator early stops the work; lines in flight may be
    lost, never half-written (the driver writes the files)."""

    @property
    def description(self) -> str:
        """What runs the lines, for reports (``"2 local processes x 1 thread"``)."""
        ...

    def run(self, jobs: Sequence[LineJob]) -> Generator[LineResult, None, None]:
        """Render ``jobs``. Raises BatchError when a worker dies or cannot start."""
        ...


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def plural(count: int, noun: str) -> str:
    """``"1 thread"``, ``"2 threads"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def threads_per_worker(workers: int) -> int:
    """ONNX Runtime threads for each of ``workers`` workers on this machine."""
    return max(1, cores() // max(1, workers))


@dataclass(frozen=True)
class InlineExecutor:
    """Renders the lines one by one in this process (ONNX Runtime on every core)."""

    @property
    def description(self) -> str:
        return f"1 process (this one) x {plural(threads_per_worker(1), 'thread')}"

    def run(self, jobs: Sequence[LineJob]) -> Generator[LineResult, None, None]:
        if not jobs:
            return
        prepare_worker(None)
        for job in jobs:
            yield render_line(job)


@dataclass(frozen=True)
class ProcessPoolLineExecutor:
    """A pool of ``workers`` local processes (started with ``spawn``), each loading the
    models once at start and running ONNX Runtime on ``threads`` threads (default
    ``cores // workers``)."""

    workers: int
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")

    @property
    def description(self) -> str:
        return (f"{plural(self.workers, 'local process').replace('sss', 'sses')} x "
                f"{plural(self._threads, 'thread')}")

    @property
    def _threads(self) -> int:
        return self.threads or threads_per_worker(self.workers)

    def run(self, jobs: Sequence[LineJob]) -> Generator[LineResult, None, None]:
        if not jobs:
            return
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=prepare_worker, initargs=(self._threads,))
        try:
            futures = [pool.submit(render_line, job) for job in jobs]
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool as exc:
            raise BatchError("a batch worker process died (out of memory, or killed?); the "
                             "finished lines are in the manifest: run the same command again "
                             "to resume") from exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def make_executor(workers: int | None = None, ray: str | None = None) -> Executor:
    """The executor for ``workers`` (default: one per core) and ``ray`` (a Ray address,
    ``auto`` or ``local``; None: this machine without Ray).

    One local worker renders in this process; more run as worker processes.

    Raises:
        ValueError: ``workers`` is below 1.
        BatchError: ``ray`` is given but Ray is not installed.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if ray is not None:
        from voxclone.batch.ray_executor import RayExecutor

        return RayExecutor(ray, workers=workers)
    count = workers or cores()
    if count == 1:
        return InlineExecutor()
    return ProcessPoolLineExecutor(count)
