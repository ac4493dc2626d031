"""Enrollment jobs: enrollment takes seconds to minutes, so the server runs it in the
background (one at a time) and the client polls its progress.

Each job holds its uploads in memory until it has run, so the jobs queued or running are
limited, per owner and in all: a request takes its place (:meth:`EnrollmentJobs.admit`)
before its uploads are read, and is refused (HTTP 429) when there is none."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from voxclone.errors import RateLimitError, VoiceNotFoundError

logger = logging.getLogger(__name__)

#: Finished jobs are forgotten after this many newer ones.
KEEP_FINISHED = 200
#: Seconds a client refused for a full queue is told to wait (``Retry-After``): about
#: what a ``fast`` enrollment takes.
RETRY_AFTER = 30.0
#: The statuses of a job that still holds its place (and its uploads).
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Job:
    """An enrollment job's state, as the client sees it."""

    id: str
    owner_id: int
    voice: str
    status: str = "queued"          # queued, running, done, failed
    progress: float = 0.0           # 0..1
    similarity: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    order: int = field(default=0, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "voice": self.voice, "status": self.status,
                "progress": round(self.progress, 3), "similarity": self.similarity,
                "result": self.result, "error": self.error}


Work = Callable[[Callable[[float, float], None]], dict[str, Any]]
ErrorView = Callable[[BaseException], dict[str, str]]


@dataclass
class Place:
    """A place in the queue held for one request while its uploads are read and checked
    (see :meth:`EnrollmentJobs.admit`); :meth:`EnrollmentJobs.submit` turns it into a job."""

    owner_id: int
    used: bool = False


class EnrollmentJobs:
    """Runs enrollment work one job at a time; jobs are kept in memory.

    Args:
        max_jobs: jobs queued or running at once, all owners together (places held by
            requests still being read included).
        max_per_owner: the same for one owner.
    """

    def __init__(self, max_jobs: int = 8, max_per_owner: int = 2) -> None:
        if max_jobs < 1 or max_per_owner < 1:
            raise ValueError(f"job limits must be at least 1, got {max_jobs} in all and "
                             f"{max_per_owner} per owner")
        self.max_jobs = max_jobs
        self.max_per_owner = max_per_owner
        self._jobs: dict[str, Job] = {}
        self._held: Counter[int] = Counter()  # places of requests not yet submitted
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxclone-enroll")
        self._count = 0

    @contextmanager
    def admit(self, owner_id: int) -> Iterator[Place]:
        """Hold a place for one of ``owner_id``'s enrollments while the request is read;
        given back on leaving unless :meth:`submit` took it.

        Raises:
            RateLimitError: the owner already has ``max_per_owner`` enrollments queued or
                running, or the server has ``max_jobs`` (HTTP 429 with ``Retry-After``).
        """
        with self._lock:
            mine = self._active(owner_id)
            if mine >= self.max_per_owner:
                raise RateLimitError(
                    f"you have {mine} enrollment(s) queued or running, this server's limit "
                    f"per owner ({self.max_per_owner}); wait until one is done (GET "
                    "/v1/jobs/{id}) and send this one again", retry_after=RETRY_AFTER)
            if self._active() >= self.max_jobs:
                raise RateLimitError(
                    f"the server has {self.max_jobs} enrollments queued or running, its "
                    "limit; send this one again in a minute or two", retry_after=RETRY_AFTER)
            self._held[owner_id] += 1
        place = Place(owner_id)
        try:
            yield place
        finally:
            if not place.used:
                with self._lock:
                    self._give_back(place)

    def active(self, owner_id: int | None = None) -> int:
        """Jobs queued or running (and places held), of ``owner_id`` or of everyone."""
        with self._lock:
            return self._active(owner_id)

    def _active(self, owner_id: int | None = None) -> int:
        """:meth:`active`, with the lock held."""
        jobs = sum(1 for j in self._jobs.values() if j.status in ACTIVE
                   and owner_id in (None, j.owner_id))
        return jobs + (self._held.total() if owner_id is None else self._held[owner_id])

    def submit(self, place: Place, voice: str, work: Work, describe: ErrorView) -> Job:
        """Queue ``work(progress)`` in ``place`` (from :meth:`admit`); its return value
        becomes the job's ``result``."""
        with self._lock:
            if place.used:
                raise RuntimeError("this place in the queue was already used")
            self._give_back(place)
            place.used = True
            self._count += 1
            job = Job(secrets.token_hex(8), place.owner_id, voice, order=self._count)
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job.id, work, describe)
        return job

    def _give_back(self, place: Place) -> None:
        self._held[place.owner_id] -= 1
        if self._held[place.owner_id] <= 0:
            del self._held[place.owner_id]

    def get(self, owner_id: int, job_id: str) -> Job:
        """The job ``job_id`` if ``owner_id`` started it. Raises VoiceNotFoundError."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner_id != owner_id:
            raise VoiceNotFoundError(f"no enrollment job {job_id!r} of yours")
        return job

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, work: Work, describe: ErrorView) -> None:
        self._update(job_id, status="running")

        def progress(fraction: float, best: float) -> None:
            self._update(job_id, progress=float(fraction), similarity=round(float(best), 4))

        try:
            result = work(progress)
        except Exception as exc:  # reported to the client, who polls for it
            logger.info("enrollment job %s failed: %s", job_id, exc)
            self._update(job_id, status="failed", error=describe(exc))
            return
        self._update(job_id, status="done", progress=1.0, result=result)

    def _forget_old(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.status in ("done", "failed")),
                          key=lambda j: j.order)
        for job in finished[:-KEEP_FINISHED]:
            del self._jobs[job.id]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
