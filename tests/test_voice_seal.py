"""Voice seals: synthesis speaks only with profiles this installation enrolled, unchanged."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import voxclone
from voxclone.audio import Audio
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.profile import FORMAT_VERSION, VoiceProfile, VoiceStore
from voxclone.consent import ConsentStore
from voxclone.consent.voice_seal import seal_holds, seal_voice, speakable
from voxclone.errors import ConsentRecordError, VoiceRevokedError, VoiceSealError
from voxclone.registry.voices import _sealed_if_vouched


@pytest.fixture()
def joe(joe_reference: Audio) -> VoiceProfile:
    return voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)


def _stored(name: str) -> dict:
    return json.loads(VoiceStore().path(name).read_text())


def _write(data: dict) -> None:
    VoiceStore().path(str(data["name"])).write_text(json.dumps(data))


def _legacy(profile: VoiceProfile) -> dict:
    """``profile`` as a version 8 file (before seals) would hold it."""
    data = {k: v for k, v in profile.to_json().items() if k != "seal"}
    return {**data, "version": 8}


def test_enrollment_seals_the_voice_and_the_seal_survives_storing(joe: VoiceProfile) -> None:
    assert joe.seal is not None and seal_holds(joe)
    stored = _stored("joe")
    assert stored["version"] == FORMAT_VERSION and stored["seal"] == joe.seal
    loaded = voxclone.load_voice("joe")
    assert seal_holds(loaded)
    assert speakable("joe").seal == joe.seal and speakable(loaded) is loaded
    # the seal is over the content as stored: any float rounds to what a reload gives
    rng = np.random.default_rng(0)
    for _ in range(20):
        odd = dataclasses.replace(joe, embedding=rng.normal(0, 1e-3, 256).astype(np.float32),
                                  rate=float(rng.uniform(0.6, 1.4)), seal=None)
        sealed = seal_voice(odd)
        assert seal_holds(VoiceProfile.from_json(json.loads(json.dumps(sealed.to_json()))))


def test_a_profile_changed_in_memory_or_made_by_hand_is_refused(joe: VoiceProfile) -> None:
    faster = dataclasses.replace(joe, rate=1.3)
    with pytest.raises(VoiceSealError, match=r"fails its seal.*synthesize's options"):
        voxclone.synthesize("Hello there.", faster)
    other = dataclasses.replace(joe, conditioning=StyleConditioning({"jf_gongitsune": 1.0}))
    with pytest.raises(VoiceSealError, match="changed after enrollment"):
        voxclone.synthesize("Hello there.", other)
    # built by hand, even wearing a real voice's name and its recordings' hashes
    forged = VoiceProfile(name="joe", embedding=joe.embedding, conditioning=other.conditioning,
                          prosody=joe.prosody, sources=joe.sources, engine=joe.engine,
                          effort="stock", score=0.9)
    with pytest.raises(VoiceSealError, match="carries no seal"):
        voxclone.synthesize("Hello there.", forged)
    with pytest.raises(VoiceSealError, match="carries no seal"):
        voxclone.synthesize("Hello there.", dataclasses.replace(forged, name="nobody"))


def test_a_profile_edited_on_disk_is_refused_with_its_checksum_redone(
        joe: VoiceProfile) -> None:
    # the checksum anyone can recompute, and the edit keeps the recordings' hashes
    edited = dataclasses.replace(joe, conditioning=StyleConditioning({"jf_nezumi": 1.0}))
    _write(edited.to_json())  # keeps joe's seal, over other content
    assert voxclone.load_voice("joe").sources == joe.sources
    with pytest.raises(VoiceSealError, match="fails its seal"):
        voxclone.synthesize("Hello there.", "joe")
    # nor can the seal be stripped to pass the file off as one from before seals: the
    # consent record names the content it was made for
    _write(_legacy(edited))
    with pytest.raises(ConsentRecordError, match="edited after enrollment"):
        voxclone.synthesize("Hello there.", "joe")
    with pytest.raises(VoiceSealError, match="carries no seal"):
        voxclone.synthesize("Hello there.", dataclasses.replace(joe, seal=None, rate=1.2))


def test_another_installations_seal_is_refused(joe: VoiceProfile) -> None:
    foreign = seal_voice(dataclasses.replace(joe, seal=None), key=b"\x01" * 32)
    assert not seal_holds(foreign)
    with pytest.raises(VoiceSealError, match="another voxclone home"):
        speakable(foreign)


def test_a_voice_stored_before_seals_still_speaks_as_it_is(joe: VoiceProfile) -> None:
    consents = ConsentStore()
    consents.save(dataclasses.replace(consents.load("joe"), profile_sha256=None))
    _write(_legacy(joe))
    legacy = voxclone.load_voice("joe")
    assert legacy.seal is None
    assert speakable("joe").content_digest() == joe.content_digest()
    assert speakable(legacy) is legacy
    assert voxclone.synthesize("Hi.", legacy).duration > 0.2
    with pytest.raises(VoiceSealError, match="carries no seal"):
        speakable(dataclasses.replace(legacy, rate=1.2))
    # and without its consent record it does not speak at all
    ConsentStore().path("joe").unlink()
    with pytest.raises(ConsentRecordError, match="no consent record"):
        speakable("joe")
    with pytest.raises(ConsentRecordError, match="no consent record"):
        speakable(legacy)


def test_registry_voices_are_sealed_on_reading_only_where_their_record_vouches(
        joe: VoiceProfile) -> None:
    consents = ConsentStore()
    record = consents.load("joe")  # names the sealed content
    genuine = VoiceProfile.from_json(_legacy(joe))
    vouched = _sealed_if_vouched(genuine, 8, consents.sealed(record))
    assert seal_holds(vouched) and vouched.content_digest() == joe.content_digest()
    # edited in the database, its seal dropped and its version set back: the record
    # names other content, though the recordings' hashes are the same
    edited = dataclasses.replace(genuine, conditioning=StyleConditioning({"jf_nezumi": 1.0}))
    assert _sealed_if_vouched(edited, 8, consents.sealed(record)).seal is None
    # a record from before seals vouches by the recordings, for a profile from then only
    old = dataclasses.replace(record, profile_sha256=None)
    assert seal_holds(_sealed_if_vouched(genuine, 8, consents.sealed(old)))
    assert _sealed_if_vouched(genuine, 9, consents.sealed(old)).seal is None
    other = dataclasses.replace(old, reference_sha256=("0" * 64,))
    assert _sealed_if_vouched(genuine, 8, consents.sealed(other)).seal is None
    tampered = {**consents.sealed(record), "decision": "waived", "waiver": "edited"}
    assert _sealed_if_vouched(genuine, 8, tampered).seal is None


def test_a_revoked_or_replaced_voice_speaks_from_no_copy(
        joe: VoiceProfile, joe_reference: Audio, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for kind in (VoiceStore(), ConsentStore()):
        name = kind.path("joe").name
        (elsewhere / name).write_bytes((kind.directory / name).read_bytes())
    assert speakable("joe", elsewhere).seal == joe.seal
    voxclone.revoke("joe")
    with pytest.raises(VoiceRevokedError, match="'joe' was revoked at"):
        speakable(joe)
    # the copies: not in the voices directory that holds the revocation record
    for copy in (lambda: speakable(joe, elsewhere), lambda: speakable("joe", elsewhere)):
        with pytest.raises(VoiceRevokedError, match="wherever it is kept"):
            copy()
    # enrolled again: the new profile speaks; replaced once more, the one before does not
    again = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True)
    assert speakable("joe").seal == again.seal
    third = voxclone.enroll("joe", joe_reference, effort="stock", i_am_the_speaker=True,
                            overwrite=True)
    assert speakable(third) is third
    with pytest.raises(VoiceRevokedError, match="replaced by a new enrollment"):
        speakable(again)
