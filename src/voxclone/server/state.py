"""What the server's routes share: the registry, the audit log, the enrollment jobs, and
a limit on how many syntheses run at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine

from voxclone.audit import AuditLog
from voxclone.clone.fit import EFFORTS, Effort
from voxclone.errors import RateLimitError
from voxclone.provenance import AuditContext
from voxclone.registry.access import Access, Principal
from voxclone.registry.voices import VoiceRegistry
from voxclone.server.jobs import EnrollmentJobs
from voxclone.server.slots import FIRST, LATER, SynthesisSlots

#: What a metered iterator yields: audio chunks, or a rendering's steps (seconds).
Piece = TypeVar("Piece")


@dataclass(frozen=True)
class ServerConfig:
    """Server settings (``voxclone serve`` takes each as an option).

    Attributes:
        max_text_chars: longest ``input`` accepted for synthesis.
        max_upload_bytes: largest audio file accepted in an upload.
        synthesis_slots: syntheses run at once (more queue); 1 by default, since each
            synthesis's ONNX sessions use every core.
        max_references: reference recordings one enrollment (or quality check) may send.
        max_request_bytes: the audio files of one enrollment (references and consent
            recording) or quality check together; what a queued job holds in memory.
        max_enrollments: enrollment jobs queued or running at once, all owners together
            (one runs at a time; each holds its uploads until it has run).
        max_enrollments_per_owner: the same for one owner.
        max_effort: the highest ``effort`` an enrollment may ask for (``balanced`` takes
            about 45 s, ``best`` about 4 min of the one enrollment worker, and both need
            about 5 GB of memory while they run).
        max_stream_chars: the most text one connection of the text-streaming route
            (``WebSocket /v1/audio/speech/stream-input``) may send, all its pieces
            together (100,000 characters: about 2 h 20 min of speech). Each of its
            messages may hold ``max_text_chars``, and it is sent no more text than
            that while it has that much not yet rendered (it is not read meanwhile).
        stream_idle_seconds: how long that route waits for the client's next message
            while it has no text left to speak, before it gives up (on a stream
            started or not).
        max_streams: the most connections that route keeps open at once (each holds
            a thread while it waits for text); one more is refused as a rate limit.
    """

    max_text_chars: int = 20_000
    max_upload_bytes: int = 50 * 1024 * 1024
    synthesis_slots: int = 1
    max_references: int = 10
    max_request_bytes: int = 100 * 1024 * 1024
    max_enrollments: int = 8
    max_enrollments_per_owner: int = 2
    max_effort: Effort = "balanced"
    max_stream_chars: int = 100_000
    stream_idle_seconds: float = 60.0
    max_streams: int = 16

    def __post_init__(self) -> None:
        for name in ("max_text_chars", "max_upload_bytes", "synthesis_slots", "max_references",
                     "max_request_bytes", "max_enrollments", "max_enrollments_per_owner",
                     "max_stream_chars", "max_streams"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ServerConfig.{name} must be a positive whole number, "
                                 f"got {value!r}")
        idle = self.stream_idle_seconds
        if isinstance(idle, bool) or not isinstance(idle, (int, float)) \
                or not 0 < idle < float("inf"):
            raise ValueError("ServerConfig.stream_idle_seconds must be a positive number of "
                             f"seconds, got {idle!r}")
        if self.max_effort not in EFFORTS:
            raise ValueError(f"ServerConfig.max_effort must be one of {', '.join(EFFORTS)}, "
                             f"got {self.max_effort!r}")

    def effort_allowed(self, effort: str) -> bool:
        """Whether an enrollment may ask for ``effort`` (one of :data:`EFFORTS`)."""
        return EFFORTS.index(effort) <= EFFORTS.index(self.max_effort)


class OpenStreams:
    """The text-streaming route's connections open now, at most ``limit`` (thread-safe)."""

    #: What a refused client is told to wait, seconds.
    RETRY_AFTER_S = 5.0

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open = 0
        self._lock = threading.Lock()

    @contextmanager
    def one(self) -> Iterator[None]:
        """Count one connection while the block runs.

        Raises:
            RateLimitError: ``limit`` are open already.
        """
        with self._lock:
            if self._open >= self._limit:
                raise RateLimitError(
                    f"{self._limit} text streams are open, the most this server keeps at "
                    "once: try again in a few seconds (its operator sets the limit, "
                    "`voxclone serve --max-streams N`)", retry_after=self.RETRY_AFTER_S)
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1


class ServerState:
    """The server's shared objects (one per app)."""

    def __init__(self, engine: Engine, config: ServerConfig) -> None:
        self.config = config
        self.engine = engine
        self.access = Access(engine)
        self.voices = VoiceRegistry(engine)
        self.audit = AuditLog(engine)
        self.jobs = EnrollmentJobs(config.max_enrollments, config.max_enrollments_per_owner)
        self.slots = SynthesisSlots(config.synthesis_slots)
        self.streams = OpenStreams(config.max_streams)

    def context(self, principal: Principal, owner_id: int | None = None) -> AuditContext:
        """Audit context of a request by ``principal`` concerning ``owner_id``'s things."""
        return AuditContext(actor=principal.actor,
                            owner_id=principal.owner.id if owner_id is None else owner_id,
                            log=self.audit)

    def metered(self, chunks: Iterator[Piece]) -> Iterator[Piece]:
        """``chunks`` (audio, or a rendering's steps), each rendered while holding a
        synthesis slot (the first one with priority: see :mod:`voxclone.server.slots`)."""
        iterator = iter(chunks)
        priority = FIRST
        try:
            while True:
                with self.slots.slot(priority):
                    chunk = next(iterator, None)
                if chunk is None:
                    return
                priority = LATER
                yield chunk
        finally:
            close(iterator)


def close(iterator: Iterator[object]) -> None:
    """Close ``iterator`` if it can be (a generator: its ``finally`` blocks run now rather
    than whenever it is garbage-collected)."""
    closer = getattr(iterator, "close", None)
    if callable(closer):
        closer()
