"""The reference-audio quality gate: check clips before cloning, and say what to fix.

``check(clips) -> QualityReport`` measures each clip (speech, loudness, SNR, clipping,
bandwidth, other sounds, a second speaker) and the set (a clip of another person) and
gives a verdict per clip with advice. :func:`voxclone.enroll` applies the same check
(:func:`screen`) and refuses what would make a bad clone unless forced.
"""

from voxclone.quality.gate import check, screen
from voxclone.quality.report import ClipVerdict, Problem, QualityReport

__all__ = ["ClipVerdict", "Problem", "QualityReport", "check", "screen"]
