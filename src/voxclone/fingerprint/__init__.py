"""Fingerprints: a second way to trace a synthesis, where its watermark is lost.

Every synthesis's acoustic fingerprint (16 bits per 16 ms, :mod:`.extract`) is stored
with its audit entry (:mod:`.store`). A clip whose watermark cannot be read - under 2 s,
a voice message coded at 12-17 kbit/s, a word spliced into other speech - is looked up
among them (:mod:`.match`), which names the synthesis it was cut from. Unlike the mark,
a fingerprint is not in the audio: only the installation that stored it can match it.
"""

from voxclone.fingerprint.extract import (
    DEFAULT_CONFIG,
    Fingerprint,
    FingerprintConfig,
    Fingerprinter,
    fingerprint,
    shifted_fingerprints,
)
from voxclone.fingerprint.match import SHIFTS, SPEEDS, FingerprintIndex, Match, search_clip
from voxclone.fingerprint.store import cached_index, load_index, save_fingerprint

__all__ = [
    "DEFAULT_CONFIG",
    "SHIFTS",
    "SPEEDS",
    "Fingerprint",
    "FingerprintConfig",
    "FingerprintIndex",
    "Fingerprinter",
    "Match",
    "cached_index",
    "fingerprint",
    "load_index",
    "save_fingerprint",
    "search_clip",
    "shifted_fingerprints",
]
