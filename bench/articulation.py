"""Articulation rate read from the words: syllables of a transcript over seconds of speech.

``voxclone.audio.prosody.syllable_rate`` counts syllable nuclei as voiced intensity
peaks, which needs no words but merges the syllables of quick, sonorant speech: a clone
spoken 10 % quicker reads a median 3 % quicker on the benchmark's sentences
(``bench/results/rate_response.md``). Here the syllables are counted in the words
spoken (``voxclone.text.syllables``) - the sentence a clone was given, or a
recogniser's transcript of a recording - and divided by the same speech time (the
frames within 25 dB of the loudest), so the reading follows the tempo whatever was said.
"""

from __future__ import annotations

from voxclone.audio import Audio, prosody
from voxclone.text.syllables import count_syllables


def articulation_rate(audio: Audio, text: str) -> float:
    """Syllables of ``text`` per second of speech in ``audio`` (which speaks it); NaN
    when ``text`` has no syllables or ``audio`` no speech time."""
    return prosody.articulation_rate(audio, count_syllables(text))
