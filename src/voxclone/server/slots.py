"""Who renders next when more syntheses wait than the CPU can run at once.

Streams are rendered a chunk at a time. A request still waiting for its first audio
goes before chunks of streams already playing (whose listeners have audio queued), and
requests of the same kind go in arrival order. Round-robin over all chunks instead made
every stream's first audio wait for a chunk of every other stream.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FIRST, LATER = 0, 1


class SynthesisSlots:
    """``capacity`` slots handed out by priority (``FIRST`` before ``LATER``), then FIFO."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("synthesis_slots must be at least 1")
        self._free = capacity
        self._waiting: list[tuple[int, int]] = []
        self._tickets = itertools.count()
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        """How many are waiting for a slot now."""
        with self._cond:
            return len(self._waiting)

    @contextmanager
    def slot(self, priority: int = FIRST) -> Iterator[None]:
        """Hold one slot for the duration of the ``with`` block."""
        ticket = (priority, next(self._tickets))
        with self._cond:
            heapq.heappush(self._waiting, ticket)
            while not (self._free and self._waiting[0] == ticket):
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._free -= 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()
