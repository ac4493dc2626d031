"""The server's synthesis slots: a request waiting for its first audio is served before
later chunks of streams already playing; otherwise first come, first served."""

from __future__ import annotations

import threading
import time

import pytest

from voxclone.server.slots import FIRST, LATER, SynthesisSlots


def test_first_chunks_go_before_later_ones_then_in_arrival_order() -> None:
    slots = SynthesisSlots(1)
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with slots.slot(FIRST):
            holding.set()
            release.wait(5)

    def waiter(name: str, priority: int) -> None:
        with slots.slot(priority):
            order.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert holding.wait(5)
    for name, priority in (("later-1", LATER), ("first-1", FIRST), ("later-2", LATER),
                           ("first-2", FIRST)):
        thread = threading.Thread(target=waiter, args=(name, priority))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # arrive in this order
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first-1", "first-2", "later-1", "later-2"]


def test_capacity_is_respected() -> None:
    slots = SynthesisSlots(2)
    inside, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with slots.slot(LATER):
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert peak == 2 and inside == 0
    with pytest.raises(ValueError):
        SynthesisSlots(0)
