"""pocketsphinx with its bundled US English acoustic model, language model and
dictionary: open-vocabulary transcription of a clip."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from voxclone.audio import Audio
from voxclone.errors import ModelError

#: The rate pocketsphinx's acoustic model was trained at.
ASR_SAMPLE_RATE = 16_000

#: Silence put before and after a clip for the decoder, seconds. pocketsphinx expects
#: silence before the first word: synthesis starts speaking 20 ms in, and without it the
#: first word was lost or misheard ("could you" as "the pay cuts"); on clones' sentences
#: 0.2 s or more took word errors from 24.6 % to 22.0 % (8 speakers), and stock voices'
#: from 41 % to 28 % (6 speakers).
PAD_S = 0.3

#: pocketsphinx's search narrowed to one pass, for a transcript whose syllables are
#: counted, not its words read (the speaker's tempo,
#: :func:`voxclone.clone.pitch_rate_match.reference_tempo`): no second (flat) pass, no
#: best-path rescoring, beams 1e8 narrower than the defaults. On the benchmark's 48
#: references (``bench/results/tempo_asr.md``, one run) it reads the full search's tempo
#: (median ratio 1.000, 83 % within 5 %; within 10 % of the whole utterance's for 92 %,
#: as the full search) in half its time (0.91 s against 1.86 s a reference, medians).
#: Beams narrower still were quicker but read a median 7 % slow.
QUICK_SEARCH: Mapping[str, Any] = {"fwdflat": False, "bestpath": False, "beam": 1e-40,
                                   "pbeam": 1e-40, "wbeam": 1e-25}


def peak_normalized(samples: np.ndarray) -> np.ndarray:
    """``samples`` scaled to a peak of 0.9 (unchanged if silent): the recognizer's
    features assume a reasonable level, whatever the recording's gain."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return samples * (0.9 / peak) if peak > 0 else samples


def pcm16(samples: np.ndarray) -> bytes:
    """float samples (full scale 1.0) as the 16-bit little-endian PCM pocketsphinx reads."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


class EnglishRecognizer:
    """Transcribes English speech. Safe to share between threads (decoding is
    serialised).

    Raises:
        ModelError: pocketsphinx is not installed or its model cannot be loaded.
    """

    def __init__(self, pad_s: float = PAD_S, search: Mapping[str, Any] | None = None,
                 ) -> None:
        """``pad_s``: silence put before and after each clip (see ``PAD_S``);
        ``search``: pocketsphinx decoder settings other than its defaults (e.g.
        :data:`QUICK_SEARCH`).

        Raises:
            ModelError: as the class says, or a ``search`` setting pocketsphinx refuses.
        """
        self.pad_s = pad_s
        try:
            import pocketsphinx
        except ImportError as exc:
            raise ModelError(f"speech recognition needs pocketsphinx ({exc}); install it "
                             "with: pip install 'pocketsphinx>=5,<6'") from exc
        try:
            self._decoder: Any = pocketsphinx.Decoder(loglevel="FATAL", **(search or {}))
        except (RuntimeError, ValueError, KeyError) as exc:
            raise ModelError(f"pocketsphinx could not load its English model with these "
                             f"settings ({dict(search or {})}): {exc}") from exc
        self._lock = threading.Lock()

    def transcribe(self, audio: Audio) -> str:
        """Lowercase words heard in ``audio`` (any rate: resampled to 16 kHz,
        peak-normalised and given ``pad_s`` of silence at each end); empty if nothing
        was."""
        pad = np.zeros(round(self.pad_s * ASR_SAMPLE_RATE), dtype=np.float32)
        samples = peak_normalized(audio.resample(ASR_SAMPLE_RATE).samples)
        pcm = pcm16(np.concatenate([pad, samples, pad]))
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


_lock = threading.Lock()


@lru_cache(maxsize=2)
def _shared(quick: bool) -> EnglishRecognizer:
    return EnglishRecognizer(search=QUICK_SEARCH if quick else None)


def default_recognizer() -> EnglishRecognizer:
    """The process-wide recognizer, loaded on first use."""
    with _lock:
        return _shared(False)


def quick_recognizer() -> EnglishRecognizer:
    """The process-wide recognizer with :data:`QUICK_SEARCH`, loaded on first use: for
    transcripts whose syllables are counted, not their words read."""
    with _lock:
        return _shared(True)
