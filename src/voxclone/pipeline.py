"""Text -> speech in a voice: normalise, split, phonemize, render, stream.

Text handling lives in :mod:`voxclone.text`; the engine only sees phoneme ids and a
style vector. Nothing here changes state during synthesis, so one ``Synthesizer``
serves any number of threads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voxclone.audio import Audio
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.base import Engine
from voxclone.errors import ProfileError, TextError
from voxclone.text import normalize_text, phonemize, split_phonemes, split_sentences

logger = logging.getLogger(__name__)

#: The longest text one call accepts (about an hour of speech).
MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options.

    Attributes:
        speed: speaking-rate multiplier, 0.5-2.0 (1.0 = the voice's own rate).
        sentence_pause: seconds of silence added between sentences.
    """

    speed: float = 1.0
    sentence_pause: float = 0.12

    def __post_init__(self) -> None:
        if not 0.5 <= self.speed <= 2.0:
            raise ValueError(f"speed must be between 0.5 and 2.0, got {self.speed}")
        if not 0.0 <= self.sentence_pause <= 2.0:
            raise ValueError(f"sentence_pause must be 0-2 s, got {self.sentence_pause}")


class Synthesizer:
    """Speaks text in a voice profile with one engine and its stock style packs."""

    def __init__(self, engine: Engine, packs: dict[str, np.ndarray]) -> None:
        self.engine = engine
        self.packs = packs

    def plan(self, text: str) -> list[list[int]]:
        """Phoneme-id chunks for ``text``, one or more per sentence, in order.

        Raises:
            TextError: the text is empty, too long, or has nothing to pronounce.
        """
        if not isinstance(text, str) or not text.strip():
            raise TextError("the text is empty; give some words to speak")
        if len(text) > MAX_TEXT_CHARS:
            raise TextError(
                f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS} "
                "per call - split it into several calls"
            )
        chunks: list[list[int]] = []
        for sentence in split_sentences(normalize_text(text)):
            try:
                phonemes = phonemize(sentence)
            except TextError:
                logger.debug("skipping unpronounceable sentence %r", sentence)
                continue
            for piece in split_phonemes(phonemes, self.engine.max_tokens - 10):
                ids = self.engine.tokenize(piece)
                if ids:
                    chunks.append(ids)
        if not chunks:
            raise TextError(f"nothing to pronounce in {text[:60]!r}; give words to speak")
        return chunks

    def stream(self, text: str, voice: VoiceProfile,
               options: SynthesisOptions | None = None) -> Iterator[Audio]:
        """Yield one ``Audio`` (float32 mono at the engine's rate) per chunk, in order.

        The text is checked completely before the first chunk is rendered, so bad
        input fails before any audio is produced.
        """
        options = options or SynthesisOptions()
        if voice.engine != self.engine.name:
            raise ProfileError(
                f"voice {voice.name!r} was made for engine {voice.engine!r}, not "
                f"{self.engine.name!r}; re-enroll it"
            )
        chunks = self.plan(text)
        pause = np.zeros(int(options.sentence_pause * self.engine.sample_rate), np.float32)
        for index, ids in enumerate(chunks):
            style = voice.conditioning.style(self.packs, len(ids))
            wav = self.engine.render(ids, style, options.speed)
            if index < len(chunks) - 1:
                wav = np.concatenate([wav, pause])
            yield Audio(wav, self.engine.sample_rate)

    def synthesize(self, text: str, voice: VoiceProfile,
                   options: SynthesisOptions | None = None) -> Audio:
        """The whole text as one ``Audio``."""
        parts = [chunk.samples for chunk in self.stream(text, voice, options)]
        return Audio(np.concatenate(parts), self.engine.sample_rate)
