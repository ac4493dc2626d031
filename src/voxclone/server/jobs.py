"""Enrollment jobs: enrollment takes seconds to minutes, so the server runs it in the
background (one at a time) and the client polls its progress."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from voxclone.errors import VoiceNotFoundError

logger = logging.getLogger(__name__)

#: Finished jobs are forgotten after this many newer ones.
KEEP_FINISHED = 200


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


class EnrollmentJobs:
    """Runs enrollment work one job at a time; jobs are kept in memory."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxclone-enroll")
        self._count = 0

    def submit(self, owner_id: int, voice: str, work: Work, describe: ErrorView) -> Job:
        """Queue ``work(progress)``; its return value becomes the job's ``result``."""
        with self._lock:
            self._count += 1
            job = Job(secrets.token_hex(8), owner_id, voice, order=self._count)
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job.id, work, describe)
        return job

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
