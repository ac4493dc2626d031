"""The reverberation estimate and the gate's advice for an echoing room.

A room is simulated by convolving joe's dry speech with a synthetic room response: the
direct sound, then Gaussian noise decaying 60 dB in the room's RT60.
"""

from __future__ import annotations

import io
import math
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

import voxclone
from voxclone.audio import Audio, write_audio
from voxclone.cli import main
from voxclone.consent.consent_speech import consent_embedding, consent_speech
from voxclone.errors import ReferenceQualityError
from voxclone.quality import gate
from voxclone.quality.analyse import analyse_clip
from voxclone.quality.dereverb import dereverberate
from voxclone.quality.report import REVERB_REFUSE_S, REVERB_WARN_S
from voxclone.quality.reverb import estimate_reverb
from voxclone.speaker import cosine, default_encoder
from voxclone.speaker.verify import same_speaker

from .conftest import with_noise

ADVICE = ("record in a smaller room with soft furnishings (curtains, a sofa, a bed), away "
          "from bare walls, and speak close to the microphone")


def in_room(audio: Audio, rt60: float, direct_to_reverb_db: float, seed: int = 0) -> Audio:
    """``audio`` played in a room whose echo dies 60 dB in ``rt60`` seconds."""
    rate = audio.sample_rate
    t = np.arange(round(1.2 * rt60 * rate)) / rate
    echo = np.random.default_rng(seed).standard_normal(t.size) * 10 ** (-3 * t / rt60)
    echo *= 10 ** (-direct_to_reverb_db / 20) / np.sqrt(np.sum(echo ** 2))
    echo[0] = 1.0  # the direct sound
    wet = signal.fftconvolve(audio.samples, echo)[: len(audio)]
    return Audio((wet * 0.5 / np.max(np.abs(wet))).astype(np.float32), rate)


def problem(report: voxclone.QualityReport, code: str) -> voxclone.quality.report.Problem:
    (found,) = [p for p in report.clips[0].problems if p.code == code]
    return found


def test_dry_speech_reads_short_and_a_room_longer(joe_reference: Audio) -> None:
    dry = estimate_reverb(joe_reference)
    assert dry is not None and dry < REVERB_WARN_S
    small, large = (estimate_reverb(in_room(joe_reference, rt, 4.0)) for rt in (0.2, 0.3))
    assert small is not None and large is not None
    assert dry < small < large  # a longer echo reads longer
    assert 0.2 <= large <= 0.45  # and near the room's RT60
    assert estimate_reverb(in_room(joe_reference, 0.8, 0.0)) == math.inf


def test_noisy_or_short_speech_cannot_tell(joe_reference: Audio) -> None:
    # The noise hides the syllables' decays: no estimate rather than a wrong one.
    assert estimate_reverb(with_noise(joe_reference, 10.0)) is None
    short = Audio(joe_reference.samples[: joe_reference.sample_rate], joe_reference.sample_rate)
    assert estimate_reverb(short) is None


def test_an_echoing_room_is_refused_with_advice(joe_reference: Audio, tmp_path: Path) -> None:
    echoing = in_room(joe_reference, 0.8, 0.0)
    report = voxclone.check(echoing)
    assert report.verdict == "refused"
    assert report.clips[0].reverb_s == math.inf
    found = problem(report, "reverberant")
    assert found.severity == "refuse"
    assert found.message == "the room echoes too much (very strong echo)"
    assert found.advice == ADVICE
    with pytest.raises(ReferenceQualityError, match="soft furnishings"):
        voxclone.enroll("echo", echoing, i_am_the_speaker=True, effort="stock",
                        voices_dir=tmp_path / "voices")
    assert not (tmp_path / "voices").exists()


def test_a_little_echo_is_a_warning(joe_reference: Audio) -> None:
    report = voxclone.check(in_room(joe_reference, 0.3, 4.0))
    reverb = report.clips[0].reverb_s
    assert reverb is not None and REVERB_WARN_S <= reverb < REVERB_REFUSE_S
    assert report.verdict == "usable with warnings"
    found = problem(report, "reverberant")
    assert found.severity == "warning"
    assert found.message == f"the room echoes (echo lasting about {reverb:.1f} s)"
    assert found.advice == "for a closer clone, " + ADVICE


def test_a_noisy_clip_is_warned_of_its_noise_not_of_a_room(joe_reference: Audio) -> None:
    report = voxclone.check(with_noise(joe_reference, 20.0))
    codes = [p.code for p in report.clips[0].problems]
    assert "noisy" in codes and "reverberant" not in codes


def test_an_echo_is_taken_out_before_enrollment(joe_reference: Audio,
                                                joe_heldout: Audio) -> None:
    echoing = in_room(joe_reference, 0.3, 4.0)
    heldout = voxclone.embed(joe_heldout)
    kept = analyse_clip(echoing, "room", dereverb_from_s=None)
    taken_out = analyse_clip(echoing, "room", dereverb_from_s=REVERB_WARN_S)
    assert not kept.dereverberated and taken_out.dereverberated
    assert taken_out.embedding is not None and kept.embedding is not None
    # the enrolled d-vector comes closer to joe's dry speech
    assert cosine(taken_out.embedding, heldout) > cosine(kept.embedding, heldout) + 0.01
    report = voxclone.check(echoing)  # the gate's default dereverberates a warned room
    assert report.clips[0].dereverberated


def test_dry_speech_is_left_as_it_is(joe_reference: Audio) -> None:
    dry = analyse_clip(joe_reference, "dry", dereverb_from_s=REVERB_WARN_S)
    assert not dry.dereverberated
    assert not voxclone.check(joe_reference).clips[0].dereverberated


def test_dereverberation_keeps_length_and_rate(joe_reference: Audio) -> None:
    out = dereverberate(in_room(joe_reference, 0.3, 4.0))
    assert out.sample_rate == 16_000 and out.samples.dtype == np.float32
    assert abs(out.duration - joe_reference.duration) < 0.01
    assert np.isfinite(out.samples).all()


def test_cli_check_shows_the_echo_and_what_to_do(joe_reference: Audio,
                                                 tmp_path: Path) -> None:
    room = tmp_path / "room.wav"
    write_audio(in_room(joe_reference, 0.8, 0.0), room)
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["check", str(room)])
    lines = out.getvalue().splitlines()
    assert status == 1 and lines[0] == f"{room}: REFUSED"
    assert "echo: very strong" in lines[1]
    assert "  - the room echoes too much (very strong echo)" in lines
    assert f"    -> {ADVICE}" in lines


def test_a_consent_recorded_in_the_same_room_is_treated_like_the_reference(
        joe_reference: Audio, joe_heldout: Audio) -> None:
    reference = analyse_clip(in_room(joe_reference, 0.3, 4.0), "room",
                             dereverb_from_s=gate.DEREVERB_FROM_S)
    speech = consent_speech(in_room(joe_heldout, 0.3, 4.0))
    assert reference.dereverberated and speech.dereverberated
    assert reference.embedding is not None
    decision = same_speaker(consent_embedding(speech, default_encoder()),
                            reference.embedding)
    assert decision.same and decision.cosine > 0.9
