"""Voice profiles: versioned, checksummed, atomically stored, never silently damaged."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from voxclone.audio.prosody import ProsodyStats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.profile import SourceClip, VoiceProfile, VoiceStore
from voxclone.consent import ConsentRecord, ConsentStore
from voxclone.consent.record import WAIVED
from voxclone.consent.voice_seal import sealed_with_record
from voxclone.errors import ProfileError, VoiceExistsError, VoiceNotFoundError


def make_profile(name: str = "ada", seed: int = 0) -> VoiceProfile:
    rng = np.random.default_rng(seed)
    embedding = rng.standard_normal(256).astype(np.float32)
    return VoiceProfile(
        name=name,
        embedding=embedding / np.linalg.norm(embedding),
        conditioning=StyleConditioning({"jf_alpha": 0.7, "jm_kumo": 0.3},
                                       rng.standard_normal(256) * 0.01),
        prosody=ProsodyStats(180.0, 150.0, 260.0, 4.2, 0.6),
        sources=(SourceClip("ab" * 32, 6.0, 5.1),),
        engine="kokoro-82m-int8",
        effort="fast",
        score=0.71,
    )


def save_consented(profile: VoiceProfile, voices_dir: Path | None = None) -> VoiceProfile:
    """Store ``profile``, sealed, with a consent record made for it (a waiver), as
    enrollment would: synthesis by name needs both. The sealed profile."""
    sealed, record = sealed_with_record(profile, ConsentRecord(
        name=profile.name, decision=WAIVED,
        reference_sha256=tuple(s.sha256 for s in profile.sources),
        waiver="tests: a made-up profile"))
    VoiceStore(voices_dir).save(sealed)
    ConsentStore(voices_dir).save(record)
    return sealed


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    original = make_profile()
    store.save(original)
    loaded = store.load("ada")
    np.testing.assert_allclose(loaded.embedding, original.embedding, atol=1e-6)
    np.testing.assert_allclose(loaded.conditioning.delta, original.conditioning.delta, atol=1e-6)
    assert loaded.conditioning.weights == pytest.approx(original.conditioning.weights)
    assert loaded.prosody == original.prosody
    assert loaded.sources == original.sources
    assert store.names() == ["ada"]


def test_profile_holds_hashes_not_audio(tmp_path: Path) -> None:
    path = VoiceStore(tmp_path).save(make_profile())
    data = json.loads(path.read_text())
    assert set(data) >= {"format", "version", "sha256", "embedding", "conditioning", "sources"}
    assert path.stat().st_size < 20_000  # numbers and hashes, no waveform


def test_edited_profile_is_detected(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(make_profile())
    data = json.loads(path.read_text())
    data["embedding"][0] += 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError, match="checksum"):
        store.load("ada")


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]", '{"format": "other"}'])
def test_damaged_file_gives_profile_error(tmp_path: Path, content: str) -> None:
    store = VoiceStore(tmp_path)
    store.path("ada").parent.mkdir(parents=True, exist_ok=True)
    store.path("ada").write_text(content)
    with pytest.raises(ProfileError):
        store.load("ada")


def test_future_version_is_refused_with_advice(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(make_profile())
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError, match="upgrade voxclone"):
        store.load("ada")


def test_unknown_voice_names_known_ones(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    store.save(make_profile("bob"))
    with pytest.raises(VoiceNotFoundError, match="bob"):
        store.load("alice")


def test_no_overwrite_without_consent_and_file_unchanged(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(make_profile(seed=1))
    before = path.read_bytes()
    with pytest.raises(VoiceExistsError, match="--force"):
        store.save(make_profile(seed=2))
    assert path.read_bytes() == before
    store.save(make_profile(seed=2), overwrite=True)
    assert path.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x" * 65, "sp ace"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid voice name"):
        VoiceStore(tmp_path).path(name)


def test_conditioning_table_mixes_packs() -> None:
    packs = {"a": np.ones((510, 256), np.float32), "b": np.zeros((510, 256), np.float32)}
    cond = StyleConditioning({"a": 0.25, "b": 0.75}, np.full(256, 0.1))
    table = cond.table(packs)
    assert table.shape == (510, 256)
    np.testing.assert_allclose(table, 0.35, atol=1e-6)
    np.testing.assert_allclose(cond.style(packs, 10), table[9])
    with pytest.raises(ProfileError, match="not installed"):
        StyleConditioning({"zz": 1.0}).table(packs)


def rewrite_as_version(path: Path, version: int, *, without: tuple[str, ...]) -> None:
    """Rewrite a saved profile as an older format version would have stored it: without
    the fields that version lacked, with a valid checksum."""
    data = json.loads(path.read_text())
    body = {k: v for k, v in data.items()
            if k not in ("format", "version", "sha256", *without)}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    path.write_text(json.dumps({"format": data["format"], "version": version,
                                "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
                                **body}))


def test_rate_factor_round_trips(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    store.save(dataclasses.replace(make_profile(), rate=0.87))
    assert store.load("ada").rate == pytest.approx(0.87)


def test_version_1_profile_still_loads_at_its_own_rate(tmp_path: Path) -> None:
    """A profile saved before the speaking-rate factor existed keeps working, at rate 1."""
    store = VoiceStore(tmp_path)
    rewrite_as_version(store.save(make_profile()), 1,
                       without=("rate", "tone", "pitch_shift", "pitch_range", "pause",
                                "formant_ratio", "warnings"))
    loaded = store.load("ada")
    assert loaded.rate == 1.0
    np.testing.assert_allclose(loaded.embedding, make_profile().embedding, atol=1e-6)


def test_tone_curve_round_trips_and_version_2_reads_without_one(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    curve = tuple(np.linspace(-4.5, 3.25, 32).round(2))
    path = store.save(dataclasses.replace(make_profile(), tone=curve))
    assert store.load("ada").tone == pytest.approx(curve)
    rewrite_as_version(path, 2, without=("tone", "pitch_shift", "pitch_range", "pause",
                                         "formant_ratio", "warnings"))
    assert store.load("ada").tone is None


def test_pitch_shift_round_trips_and_version_3_reads_without_one(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(dataclasses.replace(make_profile(), pitch_shift=-4.25))
    assert store.load("ada").pitch_shift == pytest.approx(-4.25)
    rewrite_as_version(path, 3, without=("pitch_shift", "pitch_range", "pause",
                                         "formant_ratio", "warnings"))
    assert store.load("ada").pitch_shift == 0.0


def test_pitch_range_round_trips_and_version_4_reads_without_one(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(dataclasses.replace(make_profile(), pitch_shift=2.0, pitch_range=1.35))
    assert store.load("ada").pitch_range == pytest.approx(1.35)
    rewrite_as_version(path, 4, without=("pitch_range", "pause", "formant_ratio",
                                         "warnings"))
    loaded = store.load("ada")
    assert (loaded.pitch_range, loaded.pitch_shift) == (1.0, 2.0)


def test_pause_round_trips_and_version_5_reads_without_one(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(dataclasses.replace(make_profile(), pitch_range=1.2, pause=0.734))
    assert store.load("ada").pause == pytest.approx(0.734)
    rewrite_as_version(path, 5, without=("pause", "formant_ratio", "warnings"))
    loaded = store.load("ada")
    assert (loaded.pause, loaded.pitch_range) == (None, 1.2)


def test_formant_ratio_round_trips_and_version_6_reads_without_one(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    path = store.save(dataclasses.replace(make_profile(), pause=0.6, formant_ratio=0.937))
    assert store.load("ada").formant_ratio == pytest.approx(0.937)
    rewrite_as_version(path, 6, without=("formant_ratio", "warnings"))
    loaded = store.load("ada")
    assert (loaded.formant_ratio, loaded.pause) == (1.0, 0.6)


def test_warnings_round_trip_and_version_7_reads_without_any(tmp_path: Path) -> None:
    store = VoiceStore(tmp_path)
    said = ("clip 1: a fan hums under the speech - move away from the fan",)
    path = store.save(dataclasses.replace(make_profile(), formant_ratio=0.95, warnings=said))
    assert store.load("ada").warnings == said
    rewrite_as_version(path, 7, without=("warnings",))
    loaded = store.load("ada")
    assert (loaded.warnings, loaded.formant_ratio) == ((), 0.95)


def test_warnings_must_be_strings() -> None:
    with pytest.raises(ProfileError, match=r"warnings must be a list of strings"):
        dataclasses.replace(make_profile(), warnings="record again")  # type: ignore[arg-type]


@pytest.mark.parametrize("ratio", [0.5, 1.3, 0.0, float("nan")])
def test_absurd_formant_ratio_is_refused(ratio: float) -> None:
    with pytest.raises(ProfileError, match=r"formant ratio.*re-enroll"):
        dataclasses.replace(make_profile(), formant_ratio=ratio)


@pytest.mark.parametrize("pause", [0.0, 3.5, -1.0, float("nan")])
def test_absurd_pause_is_refused(pause: float) -> None:
    with pytest.raises(ProfileError, match=r"pause.*re-enroll"):
        dataclasses.replace(make_profile(), pause=pause)


@pytest.mark.parametrize("factor", [0.3, 2.5, 0.0, float("nan")])
def test_absurd_pitch_range_is_refused(factor: float) -> None:
    with pytest.raises(ProfileError, match=r"pitch range.*re-enroll"):
        dataclasses.replace(make_profile(), pitch_range=factor)


@pytest.mark.parametrize("shift", [12.5, -30.0, float("nan")])
def test_absurd_pitch_shift_is_refused(shift: float) -> None:
    with pytest.raises(ProfileError, match=r"pitch shift.*re-enroll"):
        dataclasses.replace(make_profile(), pitch_shift=shift)


@pytest.mark.parametrize("tone", [(1.0,) * 31, (30.0,) * 32, (float("nan"),) * 32])
def test_malformed_tone_curve_is_refused(tone: tuple[float, ...]) -> None:
    with pytest.raises(ProfileError, match=r"tone curve.*re-enroll"):
        dataclasses.replace(make_profile(), tone=tone)


@pytest.mark.parametrize("rate", [0.2, 3.0, float("nan")])
def test_absurd_rate_factor_is_refused(rate: float) -> None:
    with pytest.raises(ProfileError, match="re-enroll"):
        dataclasses.replace(make_profile(), rate=rate)
