"""Rendering batch lines on a Ray cluster (``pip install 'voxclone[batch-ray]'``).

Each worker is a Ray actor (:class:`voxclone.batch.work.LineWorker`) that loads the
models once and renders lines one by one; the driver (the ``voxclone batch`` process)
hands the lines out as actors become free and writes every file and manifest entry
itself, so the output directory need only exist on the driver's machine.

Every node renders with this installation's watermark key and writes to its audit log,
so every node needs the same installation secret (``$VOXCLONE_HOME/secret.key``) and
the same registry database (``$VOXCLONE_DATABASE_URL``, PostgreSQL for several
machines) - as servers sharing a database do. The voice profiles travel with the lines.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from types import ModuleType
from typing import Any

from voxclone.batch.executors import cores, plural
from voxclone.batch.work import LineJob, LineResult, LineWorker
from voxclone.errors import BatchError

logger = logging.getLogger(__name__)

#: ``--ray local`` starts a private Ray instance on this machine for the job.
LOCAL = "local"


def import_ray() -> ModuleType:
    """The ``ray`` module.

    Raises:
        BatchError: Ray is not installed (the message says how to install it).
    """
    try:
        import ray
    except ImportError as exc:
        raise BatchError("Ray is not installed: pip install 'voxclone[batch-ray]' (or run "
                         "without --ray to use worker processes on this machine)") from exc
    return ray


class RayExecutor:
    """Renders lines on Ray actors, each using ``threads`` ONNX Runtime threads (and
    asking Ray for as many CPUs).

    Args:
        address: a Ray cluster address (``ray://host:10001``, ``host:6379``), ``auto``
            (the cluster this machine belongs to) or ``local`` (a private instance on
            this machine with ``workers`` CPUs, shut down after the job). When this
            process is already connected to Ray (``ray.init`` was called), that
            connection is used and ``address`` is ignored.
        workers: actors to start (default: the cluster's CPUs divided by ``threads``;
            capped by that too, so no actor waits for a CPU forever).
        threads: ONNX Runtime threads (and Ray CPUs) per actor.
    """

    def __init__(self, address: str, *, workers: int | None = None, threads: int = 1) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.address = address
        self.workers = workers
        self.threads = threads
        self._actors_started = 0

    @property
    def description(self) -> str:
        actors = self._actors_started or self.workers
        count = plural(actors, "actor") if actors else "one actor per CPU"
        return f"Ray ({self.address}): {count} x {plural(self.threads, 'thread')}"

    def _connect(self, ray: ModuleType) -> bool:
        """Connect to Ray unless already connected; True when this call connected."""
        if ray.is_initialized():
            return False
        try:
            if self.address == LOCAL:
                ray.init(num_cpus=max(self.workers or cores(), self.threads),
                         include_dashboard=False, logging_level=logging.WARNING,
                         _node_ip_address="127.0.0.1")  # this machine only: loopback
            else:
                ray.init(address=self.address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BatchError(f"cannot connect to Ray at {self.address!r}: {exc}; start the "
                             "cluster (`ray start --head`), or use --ray local for a "
                             "private instance on this machine") from exc
        return True

    def _actor_count(self, ray: ModuleType, lines: int) -> int:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        room = max(1, cpus // self.threads)
        wanted = self.workers or room
        if wanted > room:
            logger.warning("the Ray cluster has %d CPUs: starting %d actors of %d threads, "
                           "not %d", cpus, room, self.threads, wanted)
        return max(1, min(wanted, room, lines))

    def run(self, jobs: Sequence[LineJob]) -> Generator[LineResult, None, None]:
        if not jobs:
            return
        ray = import_ray()
        from ray.exceptions import RayError
        from ray.util import ActorPool

        connected = self._connect(ray)
        actors: list[Any] = []
        try:
            worker_class = ray.remote(num_cpus=self.threads)(LineWorker)
            actors = [worker_class.remote(self.threads)
                      for _ in range(self._actor_count(ray, len(jobs)))]
            self._actors_started = len(actors)
            logger.info("rendering %d lines on %s", len(jobs), self.description)
            pool = ActorPool(actors)
            yield from pool.map_unordered(lambda actor, job: actor.render.remote(job),
                                         list(jobs))
        except RayError as exc:
            raise BatchError(f"a Ray worker failed ({type(exc).__name__}: {exc}); the "
                             "finished lines are in the manifest: run the same command "
                             "again to resume") from exc
        finally:
            for actor in actors:
                ray.kill(actor)
            if connected:
                ray.shutdown()
