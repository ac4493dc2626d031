"""Rows that keep another row's voice and measure only its rate factor again.

``balanced`` and ``best`` ascend for a fixed time, so two enrollments of one speaker
reach different voices whenever the machine is shared, and a pair of rows that should
differ only in the rate factor differs in identity too (7 Dec: 0.577 against 0.556 for
one speaker). A same-voice row removes that: the earlier row's enrollment records its
pitch and rate match (the fitter and the arguments it was called with), and the row
calls that match again under its own ``PitchRateSettings``. The fitted conditioning,
pitch shift, range factor, formant ratio and tone curve stay the earlier row's; only
the rate factor is the row's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import voxclone
from voxclone.clone.fit import VoiceFitter
from voxclone.consent.voice_seal import seal_voice


@dataclass(frozen=True)
class MatchCall:
    """One call of ``VoiceFitter.match_pitch_rate``: the fitter and its arguments."""

    fitter: VoiceFitter
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def again(self) -> Any:
        return self.fitter.match_pitch_rate(*self.args, **self.kwargs)


@contextlib.contextmanager
def recording_match() -> Iterator[list[MatchCall]]:
    """Within it, enrollment's pitch and rate match runs as it does, and each call is
    appended to the yielded list."""
    calls: list[MatchCall] = []
    original = VoiceFitter.match_pitch_rate

    def recorded(self: VoiceFitter, *args: Any, **kwargs: Any) -> Any:
        calls.append(MatchCall(self, args, kwargs))
        return original(self, *args, **kwargs)

    with mock.patch.object(VoiceFitter, "match_pitch_rate", recorded):
        yield calls


class SameVoiceError(RuntimeError):
    """The earlier row's voice cannot be kept: its match did not run, or ran twice, or
    the match run again moved more than the rate factor."""


def rerated(profile: voxclone.VoiceProfile, calls: list[MatchCall],
            settings: Callable[[], contextlib.AbstractContextManager[Any]],
            ) -> tuple[voxclone.VoiceProfile, float]:
    """``profile`` (an enrollment's voice, whose match is recorded in ``calls``) with its
    rate factor measured again within ``settings()`` (e.g. ``rate_from_words``), sealed,
    and the seconds that took.

    Raises:
        SameVoiceError: the enrollment did not run the match exactly once, or the match
            run again gives another pitch shift or range factor (it must not: only the
            rate factor's reading changes).
    """
    if len(calls) != 1:
        raise SameVoiceError(f"the earlier row's match ran {len(calls)} times, not once")
    began = time.perf_counter()
    with settings():
        levels = calls[0].again()
    seconds = time.perf_counter() - began
    if (levels.pitch_shift, levels.pitch_range) != (profile.pitch_shift,
                                                     profile.pitch_range):
        raise SameVoiceError(
            f"the match run again moved the pitch (shift {levels.pitch_shift} against "
            f"{profile.pitch_shift}, range {levels.pitch_range} against "
            f"{profile.pitch_range}): the rows would not share a voice")
    # the bench's own change to an enrolled voice, so sealed here to speak
    return seal_voice(dataclasses.replace(profile, rate=levels.rate)), seconds
