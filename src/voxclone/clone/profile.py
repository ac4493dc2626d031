"""Voice profiles: what voxclone keeps about a cloned voice, and where.

A profile holds the speaker embedding, the engine conditioning, pitch and rate
statistics, and SHA-256 hashes of the source clips - never the audio itself. It is
stored as one JSON file, ``<voices dir>/<name>.voice.json``, with a format version,
a checksum of its content and the installation's seal (:mod:`voxclone.consent.voice_seal`),
written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.atomic_file import write_text_atomic
from voxclone.audio.prosody import ProsodyStats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.errors import ProfileError, VoiceExistsError, VoiceNotFoundError
from voxclone.keys import home_dir

FORMAT = "voxclone.voice"
FORMAT_VERSION = 9
#: Versions this voxclone reads: version 1 had no speaking-rate factor (it reads as 1.0),
#: versions 1-2 no tone curve (they read as none), versions 1-3 no pitch shift (0),
#: versions 1-4 no pitch range factor (1), versions 1-5 no pause (none), versions 1-6
#: no formant ratio (1), versions 1-7 no enrollment warnings (none), versions 1-8 no
#: seal (they speak only while their stored consent record vouches for them).
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
#: The first format version whose profiles are sealed.
SEALED_SINCE = 9
#: Envelope fields of the stored form: not part of the content the checksum covers.
_ENVELOPE = ("format", "version", "sha256", "seal")
#: Bands of a tone curve (:data:`voxclone.audio.equalizer.BAND_CENTRES_HZ`) and its limit, dB.
TONE_BANDS = 32
TONE_LIMIT_DB = 24.0
#: The range of a voice's speaking-rate factor.
RATE_BOUNDS = (0.5, 2.0)
#: The largest pitch shift a voice may hold, semitones either way.
PITCH_SHIFT_LIMIT = 12.0
#: The range of a voice's F0 range factor.
PITCH_RANGE_BOUNDS = (0.5, 2.0)
#: The range of a voice's formant ratio.
FORMANT_RATIO_BOUNDS = (0.8, 1.25)
#: The range of a voice's pause, seconds.
PAUSE_BOUNDS = (0.05, 3.0)
SUFFIX = ".voice.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SourceClip:
    """One reference clip: its SHA-256, duration and seconds of speech."""

    sha256: str
    seconds: float
    speech_seconds: float


@dataclass(frozen=True)
class VoiceProfile:
    """A cloned voice.

    Attributes:
        name: identifier (letters, digits, ``_ . -``; up to 64 characters).
        embedding: float32 unit d-vector of the speaker, shape ``(256,)``.
        conditioning: the engine conditioning fitted to the embedding.
        prosody: the speaker's pitch and tempo statistics.
        sources: the reference clips it was made from (hashes only).
        engine: engine identifier the conditioning is for.
        effort: effort level of the fit.
        score: cosine between the clone's probe speech and ``embedding``.
        created: ISO-8601 UTC timestamp.
        rate: speaking-rate factor fitted to the speaker (their syllable rate over the
            clone's at engine speed 1); synthesis multiplies the caller's speed by it.
        tone: equaliser gains in dB for 32 log-spaced bands (100 Hz-7.6 kHz) that give
            the clone its speaker's long-term spectrum
            (:mod:`voxclone.clone.tone_match`); None: no equaliser.
        pitch_shift: semitones by which synthesis shifts the engine's pitch to the
            speaker's (:mod:`voxclone.clone.pitch_rate_match`); 0: none.
        pitch_range: factor by which synthesis scales the F0 range (in semitones)
            of its speech (same module); 1: none.
        pause: the speaker's typical pause between phrases, seconds of silence (the
            median of the reference's pauses drawn toward readers',
            :func:`voxclone.audio.pauses.speaker_pause`); synthesis puts it between
            sentences. None: the reference showed no pause (or an older profile).
        formant_ratio: factor by which synthesis moves the formants of its speech
            (:mod:`voxclone.clone.formant_match`); 1: none.
        warnings: what enrollment warned of, in plain words with advice: the quality
            gate's warnings on the kept clips, clips left out, a forced refusal, a
            refinement that found nothing closer than its start. Empty: none.
        seal: hex HMAC-SHA256 of :meth:`content_digest` under this installation's
            voice-seal key, given by enrollment once consent was verified or waived
            (:mod:`voxclone.consent.voice_seal`); synthesis refuses a profile whose seal
            does not check. None: unsealed (made before format version 9, or by hand).
    """

    name: str
    embedding: np.ndarray
    conditioning: StyleConditioning
    prosody: ProsodyStats
    sources: tuple[SourceClip, ...]
    engine: str
    effort: str
    score: float
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    rate: float = 1.0
    tone: tuple[float, ...] | None = None
    pitch_shift: float = 0.0
    pitch_range: float = 1.0
    pause: float | None = None
    formant_ratio: float = 1.0
    warnings: tuple[str, ...] = ()
    seal: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.tone is not None:
            tone = tuple(float(g) for g in self.tone)
            if len(tone) != TONE_BANDS or not all(abs(g) <= TONE_LIMIT_DB for g in tone):
                raise ProfileError(f"a voice's tone curve needs {TONE_BANDS} gains within "
                                   f"+-{TONE_LIMIT_DB:g} dB; re-enroll the voice")
            object.__setattr__(self, "tone", tone)
        if not RATE_BOUNDS[0] <= self.rate <= RATE_BOUNDS[1]:
            raise ProfileError(
                f"speaking-rate factor {self.rate} is outside {RATE_BOUNDS[0]}-{RATE_BOUNDS[1]}; "
                "re-enroll the voice"
            )
        if not abs(self.pitch_shift) <= PITCH_SHIFT_LIMIT:  # NaN too
            raise ProfileError(f"pitch shift {self.pitch_shift} is outside "
                               f"+-{PITCH_SHIFT_LIMIT:g} semitones; re-enroll the voice")
        object.__setattr__(self, "pitch_shift", float(self.pitch_shift))
        if not PITCH_RANGE_BOUNDS[0] <= self.pitch_range <= PITCH_RANGE_BOUNDS[1]:
            raise ProfileError(f"pitch range factor {self.pitch_range} is outside "
                               f"{PITCH_RANGE_BOUNDS[0]}-{PITCH_RANGE_BOUNDS[1]}; "
                               "re-enroll the voice")
        object.__setattr__(self, "pitch_range", float(self.pitch_range))
        if not FORMANT_RATIO_BOUNDS[0] <= self.formant_ratio <= FORMANT_RATIO_BOUNDS[1]:
            raise ProfileError(f"formant ratio {self.formant_ratio} is outside "
                               f"{FORMANT_RATIO_BOUNDS[0]}-{FORMANT_RATIO_BOUNDS[1]}; "
                               "re-enroll the voice")
        object.__setattr__(self, "formant_ratio", float(self.formant_ratio))
        if self.pause is not None:
            if not PAUSE_BOUNDS[0] <= self.pause <= PAUSE_BOUNDS[1]:  # NaN too
                raise ProfileError(f"pause {self.pause} s is outside {PAUSE_BOUNDS[0]}-"
                                   f"{PAUSE_BOUNDS[1]} s; re-enroll the voice")
            object.__setattr__(self, "pause", float(self.pause))
        object.__setattr__(self, "embedding", np.asarray(self.embedding, dtype=np.float32))
        object.__setattr__(self, "sources", tuple(self.sources))
        if isinstance(self.warnings, str) or not all(isinstance(w, str) for w in self.warnings):
            raise ProfileError("a voice's warnings must be a list of strings; re-enroll the voice")
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def speech_seconds(self) -> float:
        """Total seconds of reference speech."""
        return float(sum(s.speech_seconds for s in self.sources))

    def to_json(self) -> dict[str, Any]:
        """The stored form: format, version, checksum and seal (if any), then the content."""
        body = self._content()
        envelope: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION,
                                    "sha256": _digest(body)}
        if self.seal is not None:
            envelope["seal"] = self.seal
        return {**envelope, **body}

    def content_digest(self) -> str:
        """Hex SHA-256 of the profile's content as stored (every field but the seal)."""
        return _digest(self._content())

    def _content(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "engine": self.engine,
            "effort": self.effort,
            "score": round(float(self.score), 6),
            "embedding": [round(float(x), 7) for x in self.embedding],
            "conditioning": self.conditioning.to_json(),
            "prosody": {k: round(float(v), 4) for k, v in asdict(self.prosody).items()},
            "sources": [asdict(s) for s in self.sources],
            "rate": round(float(self.rate), 4),
            "tone": None if self.tone is None else [round(g, 2) for g in self.tone],
            "pitch_shift": round(float(self.pitch_shift), 3),
            "pitch_range": round(float(self.pitch_range), 3),
            "pause": None if self.pause is None else round(float(self.pause), 3),
            "formant_ratio": round(float(self.formant_ratio), 3),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, origin: str = "profile") -> VoiceProfile:
        """Parse and verify a stored profile.

        Raises:
            ProfileError: wrong format, unknown version, failed checksum or bad fields.
        """
        if data.get("format") != FORMAT:
            raise ProfileError(f"{origin} is not a voxclone voice profile")
        if data.get("version") not in READABLE_VERSIONS:
            raise ProfileError(
                f"{origin} has format version {data.get('version')}; this voxclone reads "
                f"versions {READABLE_VERSIONS[0]}-{READABLE_VERSIONS[-1]} - upgrade voxclone "
                "or re-enroll the voice"
            )
        body = {k: v for k, v in data.items() if k not in _ENVELOPE}
        if data.get("sha256") != _digest(body):
            raise ProfileError(
                f"{origin} fails its checksum: it was edited or damaged; re-enroll the voice"
            )
        try:
            embedding = np.asarray(body["embedding"], dtype=np.float32)
            if embedding.shape != (256,):
                raise ValueError(f"embedding has shape {embedding.shape}, expected (256,)")
            return cls(
                name=str(body["name"]),
                embedding=embedding,
                conditioning=StyleConditioning.from_json(body["conditioning"]),
                prosody=ProsodyStats(**body["prosody"]),
                sources=tuple(SourceClip(**s) for s in body["sources"]),
                engine=str(body["engine"]),
                effort=str(body["effort"]),
                score=float(body["score"]),
                created=str(body["created"]),
                rate=float(body.get("rate", 1.0)),  # version 1: no rate factor
                tone=None if body.get("tone") is None else tuple(body["tone"]),  # v1-2: none
                pitch_shift=float(body.get("pitch_shift", 0.0)),  # versions 1-3: none
                pitch_range=float(body.get("pitch_range", 1.0)),  # versions 1-4: none
                pause=None if body.get("pause") is None else float(body["pause"]),  # v1-5
                formant_ratio=float(body.get("formant_ratio", 1.0)),  # versions 1-6: none
                warnings=body.get("warnings", ()),  # versions 1-7: none
                seal=None if data.get("seal") is None else str(data["seal"]),  # v1-8: none
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"{origin} is malformed: {exc}") from exc


def _digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_name(name: str) -> str:
    """Validate a voice name. Raises ValueError saying which names are allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"invalid voice name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def default_voices_dir() -> Path:
    """``$VOXCLONE_HOME/voices``, else ``$XDG_DATA_HOME/voxclone/voices`` (~/.local/share)."""
    return home_dir() / "voices"


class VoiceStore:
    """A directory of voice profiles, one JSON file each."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_voices_dir()

    def path(self, name: str) -> Path:
        """File of the voice ``name`` (which need not exist)."""
        return self.directory / f"{check_name(name)}{SUFFIX}"

    def names(self) -> list[str]:
        """Sorted names of the stored voices."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name[: -len(SUFFIX)] for p in self.directory.glob(f"*{SUFFIX}"))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def load(self, name: str) -> VoiceProfile:
        """Load and verify a voice.

        Raises:
            VoiceNotFoundError: no such voice (the message lists the known ones).
            ProfileError: the file is damaged or of another version.
        """
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none"
            raise VoiceNotFoundError(
                f"no voice named {name!r} in {self.directory} (known voices: {known}); "
                "enroll it first with `voxclone enroll`"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(f"{path} is unreadable ({exc}); re-enroll the voice") from exc
        if not isinstance(data, dict):
            raise ProfileError(f"{path} is not a voxclone voice profile")
        profile = VoiceProfile.from_json(data, origin=str(path))
        if profile.name != name:
            raise ProfileError(f"{path} holds voice {profile.name!r}, not {name!r}")
        return profile

    def check_free(self, name: str) -> None:
        """Raise VoiceExistsError if ``name`` is taken."""
        if self.path(name).exists():
            raise VoiceExistsError(
                f"a voice named {name!r} already exists; pick another name "
                "or pass --force (overwrite=True) to replace it"
            )

    def save(self, profile: VoiceProfile, *, overwrite: bool = False) -> Path:
        """Write a profile atomically.

        Raises:
            VoiceExistsError: the name is taken and ``overwrite`` is false.
        """
        path = self.path(profile.name)
        if not overwrite:
            self.check_free(profile.name)
        write_text_atomic(path, json.dumps(profile.to_json(), indent=1))
        return path

    def delete(self, name: str) -> None:
        """Remove a voice. Raises VoiceNotFoundError if it does not exist."""
        path = self.path(name)
        if not path.is_file():
            raise VoiceNotFoundError(f"no voice named {name!r} in {self.directory}")
        path.unlink()
