"""The public API end to end: enroll a real voice, speak with it, compare speakers.

Consent is not what these tests are about (tests/test_consent.py is): they enroll with
``i_am_the_speaker=True``, the flag for one's own recordings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import soundfile as sf

import voxclone
from voxclone.audio import Audio, write_audio
from voxclone.audio.pauses import POPULATION_PAUSE_S, sound_span
from voxclone.audio.prosody import prosody_stats
from voxclone.audit import AuditLog
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.pitch_rate_match import PitchRateSettings
from voxclone.consent.voice_seal import seal_voice
from voxclone.detection import MIN_DETECT_SECONDS
from voxclone.errors import (
    AudioError,
    AudioFormatError,
    AuditError,
    NoSpeechError,
    ReferenceQualityError,
    RegistryError,
    SyntheticConsentError,
    TextError,
    VoiceExistsError,
    VoiceNotFoundError,
)
from voxclone.synthesis import render

from .conftest import HELDOUT_TEXT, SPEECH_DIR, longest_inner_silence, piper_speak


def enroll(*args: Any, **kwargs: Any) -> voxclone.VoiceProfile:
    """``voxclone.enroll`` of one's own recordings (no consent recording)."""
    return voxclone.enroll(*args, i_am_the_speaker=True, **kwargs)


def snapshot(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def fast_voice(joe_reference: Audio) -> voxclone.VoiceProfile:
    return enroll("joe", joe_reference, effort="fast", save=False)


@pytest.fixture(scope="module")
def matched_voice(joe_reference: Audio) -> voxclone.VoiceProfile:
    return enroll("joe", joe_reference, effort="fast", save=False, match_prosody=True)


def test_enroll_stores_a_profile_that_loads(joe_wav: Path, tmp_path: Path) -> None:
    profile = enroll("joe", [joe_wav], effort="stock", voices_dir=tmp_path)
    assert profile.embedding.shape == (256,)
    assert np.linalg.norm(profile.embedding) == pytest.approx(1.0, abs=1e-4)
    assert 5.0 < profile.speech_seconds < 12.0
    assert len(profile.sources[0].sha256) == 64
    assert 80 < profile.prosody.f0_median < 200  # joe is a male voice
    loaded = voxclone.load_voice("joe", voices_dir=tmp_path)
    np.testing.assert_allclose(loaded.embedding, profile.embedding, atol=1e-6)
    assert [v.name for v in voxclone.list_voices(voices_dir=tmp_path)] == ["joe"]


def test_refinement_beats_the_nearest_stock_voice(
    joe_reference: Audio, joe_heldout: Audio, fast_voice: voxclone.VoiceProfile
) -> None:
    stock = enroll("joe-stock", joe_reference, effort="stock", save=False)
    assert fast_voice.score >= stock.score
    # Judged on other sentences against joe's held-out speech, not the probe.
    text = "A quiet evening by the lake is all I want this weekend."
    clone_sim = voxclone.similarity(voxclone.synthesize(text, fast_voice), joe_heldout)
    stock_sim = voxclone.similarity(voxclone.synthesize(text, stock), joe_heldout)
    assert clone_sim > stock_sim - 0.02
    assert clone_sim > 0.6


def test_clone_is_closer_to_its_speaker_than_to_another(
    fast_voice: voxclone.VoiceProfile, joe_heldout: Audio
) -> None:
    flacs = sorted(SPEECH_DIR.glob("librispeech-clean/*.flac"))
    if not flacs:
        pytest.skip("shared LibriSpeech speech not available")
    clone = voxclone.synthesize("Nobody expected the old bridge to last so long.", fast_voice)
    other = [voxclone.similarity(clone, f) for f in flacs[:3]]
    # Failed before the learned style map: the packs (one male) put joe's clone nearer
    # some LibriSpeech speakers than joe.
    assert voxclone.similarity(clone, joe_heldout) > max(other), other


def test_few_shot_combines_clips(joe_reference: Audio, joe_heldout: Audio) -> None:
    profile = enroll("joe2", [joe_reference, joe_heldout], effort="stock", save=False)
    assert len(profile.sources) == 2
    single = enroll("joe1", joe_reference, effort="stock", save=False)
    assert profile.speech_seconds > single.speech_seconds


def test_progress_ends_on_the_voices_score(joe_reference: Audio) -> None:
    seen: list[tuple[float, float]] = []
    profile = enroll("joe", joe_reference, effort="fast", save=False,
                     progress=lambda done, score: seen.append((done, score)))
    # what the bar and an HTTP job show last (the profile keeps it rounded, as stored)
    assert seen[-1] == (1.0, pytest.approx(profile.score, abs=1e-6))


def test_the_same_reference_enrolls_the_same_voice(joe_reference: Audio,
                                                    fast_voice: voxclone.VoiceProfile) -> None:
    again = enroll("joe", joe_reference, effort="fast", save=False)
    assert again.conditioning.weights == fast_voice.conditioning.weights
    assert np.array_equal(again.conditioning.delta, fast_voice.conditioning.delta)
    assert (again.pitch_shift, again.pitch_range, again.rate, again.formant_ratio) == (
        fast_voice.pitch_shift, fast_voice.pitch_range, fast_voice.rate,
        fast_voice.formant_ratio)
    assert again.tone == fast_voice.tone and again.score == fast_voice.score


def test_synthesize_and_stream_agree(fast_voice: voxclone.VoiceProfile) -> None:
    text = "One sentence. And then another one."  # each under streaming's lead-in cut
    chunks = list(voxclone.synthesize_stream(text, fast_voice))
    whole = voxclone.synthesize(text, fast_voice)
    assert len(chunks) == 2
    assert all(c.sample_rate == 24_000 for c in chunks)
    assert whole.duration == pytest.approx(sum(c.duration for c in chunks), abs=0.01)


def test_stream_starts_a_long_first_sentence_with_a_short_lead_in(
    fast_voice: voxclone.VoiceProfile,
) -> None:
    text = ("Could you pick up some bread and milk on your way home from the station "
            "tonight? Thanks.")
    chunks = list(voxclone.synthesize_stream(text, fast_voice))
    whole = voxclone.synthesize(text, fast_voice)
    assert len(chunks) == 3  # lead-in, rest of the first sentence, second sentence
    assert chunks[0].duration < 0.5 * chunks[1].duration
    streamed = sum(c.duration for c in chunks)
    assert streamed == pytest.approx(whole.duration, rel=0.25)  # same words, same voice
    joined = Audio(np.concatenate([c.samples for c in chunks]), 24_000)
    assert voxclone.detect(joined).found


def test_speed_option(fast_voice: voxclone.VoiceProfile) -> None:
    text = "Counting slowly from one to ten."
    slow = voxclone.synthesize(text, fast_voice, speed=0.75)
    quick = voxclone.synthesize(text, fast_voice, speed=1.5)
    assert slow.duration > 1.4 * quick.duration


def test_voice_rate_factor_scales_every_speed(fast_voice: voxclone.VoiceProfile) -> None:
    """A voice's rate factor multiplies the caller's speed: rate 0.8 at speed s speaks
    exactly like rate 1 at speed 0.8 s."""
    text = "Counting slowly from one to ten."
    # voices changed by hand on purpose, so sealed again (voxclone.consent.voice_seal)
    natural = seal_voice(dataclasses.replace(fast_voice, rate=1.0))
    slower = seal_voice(dataclasses.replace(fast_voice, rate=0.8))
    for speed in (1.0, 1.5):
        audio = voxclone.synthesize(text, slower, speed=speed)
        same = voxclone.synthesize(text, natural, speed=0.8 * speed)
        assert audio.duration == pytest.approx(same.duration, abs=0.01)
        assert audio.duration > 1.15 * voxclone.synthesize(text, natural, speed=speed).duration


def test_matched_clone_keeps_near_the_speakers_pitch(
    joe_heldout: Audio, fast_voice: voxclone.VoiceProfile,
    matched_voice: voxclone.VoiceProfile,
) -> None:
    """With the prosody match, joe's clone speaks new sentences within issue 3's
    semitone of joe's pitch on held-out speech, and within one more semitone of the
    plain fit's (which shifts the whole rendering by PSOLA instead: 0.2 st here). The
    match moves pitch through the style, and one voice's result moves with any change
    of the engine's rounding: 0.65 st with the unfolded Snake tables, 0.73 st folded."""
    joe = prosody_stats(joe_heldout)

    def error(voice: voxclone.VoiceProfile) -> float:
        clone = prosody_stats(voxclone.synthesize(HELDOUT_TEXT, voice))
        return abs(12 * np.log2(clone.f0_median / joe.f0_median))

    matched = error(matched_voice)
    assert matched < 1.0
    assert matched <= error(fast_voice) + 1.0
    assert 0.75 <= matched_voice.rate <= 1.33


def test_clone_speaks_at_the_speakers_pitch_and_rate(
    joe_reference: Audio, joe_heldout: Audio, fast_voice: voxclone.VoiceProfile,
) -> None:
    """The pitch match (on by default) brings joe's clone to joe's pitch level on
    sentences it never saw; turned off, the voice keeps the engine's. ``fast`` matches
    the rate only when asked (``match_rate=True``): then from joe's words, read beside
    the fit."""
    joe = prosody_stats(joe_heldout)
    clone = prosody_stats(voxclone.synthesize(HELDOUT_TEXT, fast_voice))
    # (issue 3's target: within a semitone; joe's reading measures 0.2)
    assert abs(12 * np.log2(clone.f0_median / joe.f0_median)) < 1.0
    assert fast_voice.rate == 1.0  # fast leaves the rate to the engine by default
    paced = enroll("joe", joe_reference, effort="fast", save=False, match_rate=True)
    low, high = PitchRateSettings().rate_bounds
    assert low <= paced.rate <= high and paced.rate != 1.0
    assert paced.pitch_shift == fast_voice.pitch_shift  # the rate alone is added
    plain = enroll("joe", joe_reference, effort="fast", save=False, match_pitch=False,
                   match_rate=False)
    assert plain.pitch_shift == 0.0 and plain.rate == 1.0


def test_a_voices_pitch_shift_moves_its_speech(fast_voice: voxclone.VoiceProfile) -> None:
    """Synthesis shifts the engine's pitch by the voice's semitones and scales its range
    by the voice's factor, keeping timing."""
    text = "We waited outside the station for almost an hour."
    base = seal_voice(dataclasses.replace(fast_voice, pitch_shift=0.0, pitch_range=1.0))
    higher = seal_voice(dataclasses.replace(base, pitch_shift=3.0))
    plain, shifted = voxclone.synthesize(text, base), voxclone.synthesize(text, higher)
    # (the same timing, to the 10 ms frame where the sound is found to start and end)
    assert shifted.duration == pytest.approx(plain.duration, abs=0.03)
    interval = 12 * np.log2(prosody_stats(shifted).f0_median / prosody_stats(plain).f0_median)
    assert interval == pytest.approx(3.0, abs=0.4)
    # and its pitch range factor widens the melody, at the same level
    wider = voxclone.synthesize(text, seal_voice(dataclasses.replace(base, pitch_range=1.4)))
    assert wider.duration == pytest.approx(plain.duration, abs=0.03)
    # (the resynthesis falls short of the factor on some melodies)
    widened = prosody_stats(wider).f0_range_semitones / prosody_stats(plain).f0_range_semitones
    assert 1.1 < widened < 1.7
    assert abs(12 * np.log2(prosody_stats(wider).f0_median / prosody_stats(plain).f0_median)) \
        < 0.75


def test_a_clone_pauses_between_sentences_like_its_speaker() -> None:
    """Enrollment measures how long the speaker pauses between phrases; the clone
    pauses that long between sentences."""
    said = [piper_speak(t) for t in ("The sunlight strikes the raindrops in the air above "
                                     "the hills.", "My grandmother kept bees behind the "
                                     "orchard for almost forty years.")]
    rate = said[0].sample_rate
    sounds = [a.samples[slice(*sound_span(a.samples, rate))] for a in said]  # type: ignore[misc]

    def reading(pause: float) -> Audio:
        return Audio(np.concatenate([sounds[0], np.zeros(round(pause * rate), np.float32),
                                     sounds[1]]), rate)

    brisk = enroll("brisk", reading(0.3), effort="fast", save=False)
    slow = enroll("slow", reading(1.1), effort="fast", save=False)
    # one pause moves a voice only a little way from readers' pause toward its own
    assert brisk.pause is not None and slow.pause is not None
    assert 0.3 < brisk.pause < POPULATION_PAUSE_S < slow.pause < 1.1
    text = "Nobody spoke for a while. Then we all went home."
    for voice in (brisk, slow):
        assert longest_inner_silence(voxclone.synthesize(text, voice)) == pytest.approx(
            voice.pause, abs=0.03)
    plain = enroll("plain", reading(1.1), effort="fast", save=False, match_pauses=False)
    assert plain.pause is None
    assert longest_inner_silence(voxclone.synthesize(text, plain)) == pytest.approx(
        POPULATION_PAUSE_S, abs=0.03)


def test_bad_text_and_unknown_voice(fast_voice: voxclone.VoiceProfile) -> None:
    with pytest.raises(TextError, match="empty"):
        voxclone.synthesize("   ", fast_voice)
    with pytest.raises(TextError, match="empty"):
        voxclone.synthesize_stream("", fast_voice)  # fails before the first chunk
    with pytest.raises(VoiceNotFoundError, match="enroll it first"):
        voxclone.synthesize("Hello.", "nobody")


def test_similarity_separates_speakers(joe_reference: Audio, joe_heldout: Audio) -> None:
    other = piper_speak("Hello there.")  # same speaker, very short
    assert voxclone.similarity(joe_reference, joe_heldout) > 0.8
    with pytest.raises(NoSpeechError):
        voxclone.similarity(joe_reference, Audio(other.samples[:4000], other.sample_rate))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda d: d.joinpath("empty.wav").write_bytes(b""), AudioFormatError, "empty"),
        (lambda d: d.joinpath("corrupt.wav").write_bytes(b"RIFF" + bytes(range(200))),
         AudioFormatError, "not a readable audio file"),
        (lambda d: d.joinpath("notes.mp3").write_text("just some text"),
         AudioFormatError, "notes.mp3"),
        (lambda d: write_audio(Audio(np.zeros(48_000, np.float32), 16_000),
                               d / "silence.wav"), NoSpeechError, "no speech"),
    ],
)
def test_unusable_clips_are_refused_and_nothing_changes(
    tmp_path: Path, joe_reference: Audio, make, error, message  # type: ignore[no-untyped-def]
) -> None:
    voices = tmp_path / "voices"
    enroll("keep", joe_reference, effort="stock", voices_dir=voices)
    before = snapshot(voices)
    clips = tmp_path / "clips"
    clips.mkdir()
    make(clips)
    clip = next(clips.iterdir())
    with pytest.raises(error, match=message):
        enroll("keep", [clip], effort="stock", voices_dir=voices, overwrite=True)
    assert snapshot(voices) == before


def test_too_little_speech_is_refused(joe_reference: Audio, tmp_path: Path) -> None:
    short = Audio(joe_reference.samples[: int(2.0 * joe_reference.sample_rate)],
                  joe_reference.sample_rate)
    with pytest.raises(ReferenceQualityError, match=r"record \d+ more seconds of speech"):
        enroll("short", short, effort="stock", voices_dir=tmp_path)
    assert not tmp_path.joinpath("short.voice.json").exists()


def test_existing_voice_is_kept(joe_reference: Audio, tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    enroll("joe", joe_reference, effort="stock", voices_dir=voices)
    before = snapshot(voices)
    with pytest.raises(VoiceExistsError):
        enroll("joe", joe_reference, effort="stock", voices_dir=voices)
    assert snapshot(voices) == before


def test_a_failed_audit_entry_leaves_the_stored_voices_as_they_were(
    joe_reference: Audio, joe_heldout: Audio, tmp_path: Path
) -> None:
    voices = tmp_path / "voices"
    enroll("joe", joe_reference, effort="stock", voices_dir=voices)
    before = snapshot(voices)
    append = AuditLog.append

    def refuse_enrollments(self: AuditLog, event: str, **kwargs: Any) -> Any:
        if event == "enroll":
            raise AuditError("cannot write to the audit log (test); the enroll was not done")
        return append(self, event, **kwargs)

    with mock.patch.object(AuditLog, "append", refuse_enrollments):
        with pytest.raises(AuditError, match="the enroll was not done"):  # the replacement
            enroll("joe", joe_heldout, effort="stock", voices_dir=voices, overwrite=True)
        assert snapshot(voices) == before  # the voice it was to replace is still there
        with pytest.raises(AuditError):  # a new voice
            enroll("ann", joe_heldout, effort="stock", voices_dir=voices)
        assert snapshot(voices) == before
    assert voxclone.load_voice("joe", voices_dir=voices).sources == \
        enroll("joe", joe_reference, effort="stock", save=False).sources


def test_an_unreachable_database_fails_before_the_fit(
    joe_reference: Audio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXCLONE_DATABASE_URL", f"sqlite:///{tmp_path}/file.wav/audit.db")
    (tmp_path / "file.wav").write_bytes(b"not a folder")
    with mock.patch("voxclone.api._build", side_effect=AssertionError("fitted")), \
            pytest.raises(RegistryError, match="cannot open the voxclone database"):
        enroll("joe", joe_reference, effort="stock", voices_dir=tmp_path / "voices")
    assert snapshot(tmp_path / "voices") == {}


def test_voxclones_own_speech_is_no_reference(fast_voice: voxclone.VoiceProfile,
                                             tmp_path: Path) -> None:
    spoken = voxclone.synthesize(HELDOUT_TEXT, fast_voice)
    with pytest.raises(SyntheticConsentError, match="clip 1 carries this installation's "
                                                    "watermark"):
        enroll("echo", spoken, effort="stock", voices_dir=tmp_path / "voices")
    assert snapshot(tmp_path / "voices") == {}


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e20])
def test_a_clip_with_impossible_samples_is_refused(joe_reference: Audio, bad: float,
                                                   tmp_path: Path) -> None:
    samples = joe_reference.samples.copy()
    samples[100] = bad  # one sample once hid a watermark from the detector
    clip = Audio(samples, joe_reference.sample_rate)
    with pytest.raises(AudioFormatError, match=r"the clip (contains invalid samples|has "
                                               r"samples over)"):
        voxclone.detect(clip)
    with pytest.raises(AudioFormatError, match="clip 1"):
        enroll("odd", clip, effort="stock", save=False)
    if np.isfinite(bad):  # the same in a float WAV file (the QA pass's case)
        path = tmp_path / "spike.wav"
        sf.write(path, samples, joe_reference.sample_rate, subtype="FLOAT")
        with pytest.raises(AudioFormatError, match="has samples over"):
            voxclone.detect(path)


def test_the_wrong_kind_of_input_is_named() -> None:
    with pytest.raises(TypeError, match="NumPy array; wrap it"):
        voxclone.embed(np.zeros(16_000, np.float32))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not NoneType"):
        voxclone.detect(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not int"):
        voxclone.check(5)  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="claims 1 samples per second"):
        voxclone.check(Audio(np.zeros(8, np.float32), 1))  # 8 s "at 1 Hz" once ran 12 min


def test_arguments_of_the_wrong_kind_are_named(fast_voice: voxclone.VoiceProfile,
                                               joe_reference: Audio) -> None:
    with pytest.raises(TextError, match="must be a string, not int"):
        voxclone.synthesize(42, fast_voice)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"speed must be a number, got '1\.2'"):
        voxclone.synthesize("Hi.", fast_voice, speed="1.2")  # type: ignore[arg-type]
    for days in (float("nan"), 1e12):
        with pytest.raises(ValueError, match="valid_for must be"):
            voxclone.challenge("ada", valid_for=days)
    with pytest.raises(TypeError, match="i_am_the_speaker must be True or False"):
        voxclone.enroll("ada", joe_reference, i_am_the_speaker="no",  # type: ignore[arg-type]
                        effort="stock", save=False)
    _, record = render("Hello.", fast_voice)
    assert voxclone.find_synthesis(record.hex_id) == voxclone.find_synthesis(record.id)
    assert voxclone.find_synthesis(record.hex_id) is not None
    with pytest.raises(ValueError, match="not a synthesis id"):
        voxclone.find_synthesis("zz")


def test_a_clip_too_short_to_tell_says_so(fast_voice: voxclone.VoiceProfile,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="voxclone.synthesis"):
        spoken = voxclone.synthesize("Hi.", fast_voice)
    assert spoken.duration < MIN_DETECT_SECONDS
    assert "its watermark may not be readable on its own" in caplog.text
    quiet = voxclone.detect(Audio(np.zeros(16_000, np.float32), 16_000))
    assert not quiet.found and quiet.too_short
    longer = voxclone.detect(Audio(np.zeros(48_000, np.float32), 16_000))
    assert not longer.found and not longer.too_short


def test_missing_file_and_bad_effort(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nope\.wav"):
        enroll("x", [tmp_path / "nope.wav"], effort="stock", voices_dir=tmp_path)
    with pytest.raises(ValueError, match="balanced"):
        enroll("x", [tmp_path / "nope.wav"], effort="turbo")
    with pytest.raises(AudioError, match="no reference clips"):
        enroll("x", [], effort="stock", voices_dir=tmp_path)


def test_profile_from_another_engine_is_refused(fast_voice: voxclone.VoiceProfile) -> None:
    alien = voxclone.VoiceProfile(
        name="alien", embedding=fast_voice.embedding,
        conditioning=StyleConditioning({"jf_alpha": 1.0}), prosody=fast_voice.prosody,
        sources=fast_voice.sources, engine="other-engine", effort="stock", score=0.0,
    )
    with pytest.raises(voxclone.VoxcloneError, match="re-enroll"):
        voxclone.synthesize("Hello.", seal_voice(alien))
