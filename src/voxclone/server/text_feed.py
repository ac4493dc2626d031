"""The thread side of text streamed in over a WebSocket
(:mod:`voxclone.server.routes_stream_input`): the bridge from the connection's
receiving task to the rendering thread that :func:`voxclone.synthesis.render_stream`
pulls text in, a synthesis slot held only while rendering, and the quota estimate of
a text that arrives in pieces.

The rendering thread blocks while it waits for the client's next piece. It must not
hold a synthesis slot meanwhile - with one slot, an idle connection would stop every
other request - so :class:`TextFeed` gives the slot back (:class:`SlotLease`) while it
waits and takes it again when text comes. That is why these streams are not rendered
through :meth:`voxclone.server.state.ServerState.metered`, which holds the slot for
the whole of each ``next()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

from voxclone.server.quota import estimate_seconds
from voxclone.server.slots import FIRST, SynthesisSlots


class StreamStopped(Exception):
    """Raised in the rendering thread, from the text it pulls, once the connection has
    stopped the stream (the client left, or an error ended it): the synthesis then ends
    there, logged as incomplete. Not an error of its own: whoever stopped the stream
    reports why."""

    def __init__(self) -> None:
        super().__init__("the text stream was stopped (the client left, or an error "
                         "ended it); open a new connection to speak again")


class SlotLease:
    """One of ``slots``, held while a stream renders and given back while it waits for
    text. Used by one thread at a time (the stream's rendering calls, one after another).

    ``priority`` is the one asked with (``FIRST`` until the stream's first audio, then
    ``LATER``: see :mod:`voxclone.server.slots`).
    """

    def __init__(self, slots: SynthesisSlots) -> None:
        self._slots = slots
        self._held: ExitStack | None = None
        self.priority = FIRST

    def take(self) -> None:
        """Hold a slot (waiting for one); a no-op while one is held."""
        if self._held is None:
            held = ExitStack()
            held.enter_context(self._slots.slot(self.priority))
            self._held = held

    def release(self) -> None:
        """Give the slot back; a no-op when none is held."""
        held, self._held = self._held, None
        if held is not None:
            held.close()


class TextFeed:
    """Text handed from a connection's receiving task to the thread rendering it
    (thread-safe). The receiving side calls :meth:`put`, :meth:`end` and :meth:`stop`,
    none of which blocks; the rendering side iterates :meth:`pieces`.
    """

    #: The most text handed to the renderer at once, characters: what it holds beyond
    #: :attr:`held` (which the connection bounds) stays about this much.
    PULL_CHARS = 2000

    def __init__(self, lease: SlotLease) -> None:
        self._lease = lease
        self._cond = threading.Condition()
        self._queued: list[str] = []
        self._held = 0
        self._ended = False
        self._stopped = False
        self._starved_since: float | None = None

    @property
    def held(self) -> int:
        """Characters given and not yet taken by the rendering thread."""
        with self._cond:
            return self._held

    @property
    def starved_since(self) -> float | None:
        """When (``time.monotonic()``) the rendering thread began waiting with no text
        to take; None while it has text or is not waiting."""
        with self._cond:
            return self._starved_since

    def put(self, text: str) -> None:
        """Hand on a piece of the text (ignored once ended or stopped)."""
        with self._cond:
            if text and not (self._ended or self._stopped):
                self._queued.append(text)
                self._held += len(text)
                self._cond.notify_all()

    def end(self) -> None:
        """The text is complete: the pieces end after what was put."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the stream: the rendering thread's next pull of text - or the one it is
        waiting in - raises :class:`StreamStopped`, text queued or not. Idempotent."""
        with self._cond:
            self._stopped = True
            self._queued.clear()
            self._held = 0
            self._cond.notify_all()

    def pieces(self) -> Iterator[str]:
        """The text as it comes, for ``render_stream`` (runs in the rendering thread,
        which holds the stream's slot: given back while this waits). What has queued up
        since the last pull comes as one piece, of at most :attr:`PULL_CHARS`.

        Raises:
            StreamStopped: the stream was stopped (:meth:`stop`).
        """
        while True:
            with self._cond:
                ready = self._ready()
            if not ready:
                # (outside the feed's lock: the slots have a lock of their own)
                self._lease.release()
                with self._cond:
                    self._starved_since = time.monotonic()
                    self._cond.wait_for(self._ready)
                    self._starved_since = None
                    stopped = self._stopped
                if not stopped:
                    self._lease.take()
            with self._cond:
                if self._stopped:
                    raise StreamStopped()
                if not self._queued:  # ready, nothing queued: ended
                    return
                queued = "".join(self._queued)
                text, rest = queued[:self.PULL_CHARS], queued[self.PULL_CHARS:]
                self._queued[:] = [rest] if rest else []
                self._held = len(rest)
            yield text

    def _ready(self) -> bool:
        return bool(self._queued) or self._ended or self._stopped


class TextEstimate:
    """The seconds of audio a text arriving in pieces is expected to make: what
    :func:`voxclone.server.quota.estimate_seconds` gives for the text so far, kept up to
    date piece by piece in time proportional to the piece (not to the whole).

    Exact because that estimate counts characters, with a run of whitespace as one, and
    ``<break>`` tags: a piece's share depends, beyond the piece, only on the last
    character before it and whether whitespace followed that - or, while a tag is open,
    on the tag's text so far (kept, up to a tag's longest).
    """

    #: The most characters an open ``<`` is kept for: no ``<break>`` tag is longer.
    OPEN_TAG_CHARS = 320

    def __init__(self, speed: float, rate: float) -> None:
        self._speed = speed
        self._rate = rate
        self._tail = ""
        self.seconds = estimate_seconds("", speed, rate)

    def add(self, piece: str) -> float:
        """Count ``piece`` in; the estimate for the text so far, seconds."""
        joined = self._tail + piece
        self.seconds += (estimate_seconds(joined, self._speed, self._rate)
                         - estimate_seconds(self._tail, self._speed, self._rate))
        opened = joined.rfind("<")
        if opened >= 0 and ">" not in joined[opened:] and \
                len(" ".join(joined[opened:].split())) <= self.OPEN_TAG_CHARS:
            self._tail = joined[opened:]
        else:
            words = joined.rstrip()
            self._tail = words[-1:] + (" " if len(words) < len(joined) else "")
        return self.seconds
