"""The benchmark's articulation rate counts the syllables of the words spoken and
follows a voice's tempo; clone_quality's table shares it only where a run measured it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import voxclone
from voxclone.audio import Audio
from voxclone.text.syllables import count_syllables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from articulation import articulation_rate
from clone_quality_report import prosody_shares

SENTENCE = "She said the children would be home by seven, after the game."


def test_syllables_are_counted_in_the_words_as_spoken() -> None:
    assert count_syllables(SENTENCE) == 15
    assert count_syllables("The meeting has been moved to Thursday afternoon.") == 12
    assert count_syllables("I have 25 cats") == 6  # "twenty-five": numbers are read out
    assert count_syllables("  ") == 0


def test_the_rate_follows_the_voices_tempo(joe_reference: Audio) -> None:
    voice = voxclone.enroll("tempo", joe_reference, effort="stock", save=False,
                            i_am_the_speaker=True)  # the tests' own stock reading
    slow, quick = (voxclone.synthesize(SENTENCE, voice, speed=s) for s in (0.8, 1.25))
    ratio = articulation_rate(quick, SENTENCE) / articulation_rate(slow, SENTENCE)
    # The engine's durations scale by 1.56; the speech time by 1.49 (its edges). The
    # clips' whole lengths scale by 1.41 (fixed silences) and the syllable-peak
    # reading by 1.19 (its peaks merge).
    assert 1.44 < ratio < 1.65
    assert 2.5 < articulation_rate(slow, SENTENCE) < 6.0


def row(rate: float, tempo: float | None = None) -> dict:
    out = {"f0_error_st": 0.2, "f0_range_ratio": 1.0, "rate_ratio": rate}
    return out if tempo is None else {**out, "tempo_ratio": tempo, "tempo_asr_ratio": tempo}


def test_tempo_is_shared_only_where_every_row_has_it() -> None:
    shares = prosody_shares([row(1.0, 1.05), row(1.3, 0.8)])
    assert shares["rate_within_10pct"] == 0.5
    assert shares["tempo_within_10pct"] == 0.5
    assert shares["tempo_asr_within_10pct"] == 0.5
    old = prosody_shares([row(1.0), row(1.0, 1.0)])  # a run from before the reading
    assert "tempo_within_10pct" not in old
    assert old["rate_within_10pct"] == pytest.approx(1.0)


def test_the_benchmarks_word_rate_rows_turn_the_setting_on() -> None:
    import clone_variants as cv
    import intelligibility

    from voxclone.clone import pitch_rate_match

    assert cv.parse_effort("fast+wordrate").word_rate is True
    assert cv.parse_effort("fast+peakrate").word_rate is False
    assert cv.parse_effort("fast").word_rate is None  # as shipped
    assert intelligibility.variant("fast:word-rate") == {"effort": "fast"}
    assert intelligibility.variant("fast:rate") == {"effort": "fast", "match_rate": True}
    assert cv.parse_effort("fast+rate").match_rate is True
    assert cv.parse_effort("fast").match_rate is None  # as the effort says
    with intelligibility.settings_of("fast:word-rate"):
        assert pitch_rate_match.PitchRateSettings().rate_from_words
    with intelligibility.settings_of("fast:peak-rate"):
        assert not pitch_rate_match.PitchRateSettings().rate_from_words
    shipped = pitch_rate_match.PitchRateSettings
    with intelligibility.settings_of("fast:no-rate"):  # the settings as shipped
        assert pitch_rate_match.PitchRateSettings is shipped
    with pytest.raises(SystemExit, match="word-rate"):
        intelligibility.variant("fast:wordrate")
