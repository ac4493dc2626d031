"""Japanese and Mandarin: currency and ranges with 万/千/億, and Japanese minutes
(reported bugs: "$2万" read "2美元万", "2万-3万" read with 负 (minus), "5分30秒"
read ごぶ ("half") by pyopenjtalk)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from voxclone.text.cjk_numbers import japanese_minutes, japanese_ranges, mandarin_ranges

from .conftest import normalized as _normalize
from .conftest import phonemes_of as _phonemes

# --------------------------------------------------- currency after 万/千/億, and ranges


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("zh", "$2万", "两万美元"),  # was 2美元万
    ("zh", "¥2万", "两万元"),
    ("zh", "￥2万", "两万元"),
    ("zh", "$2千", "两千美元"),
    ("zh", "€3亿", "3亿欧元"),
    ("zh", "$2.5万", "2.5万美元"),
    ("zh", "$2万5千", "两万5千美元"),
    ("zh", "¥1亿2000万", "1亿2000万元"),
    ("zh", "$ 3百万", "3百万美元"),
    ("zh", "¥1,200", "1200元"),
    ("zh", "$5", "5美元"),
    ("ja", "$2万", "二万ドル"),
    ("ja", "¥2万", "二万円"),
    ("ja", "2万円", "二万円"),
    ("ja", "$2億", "二億ドル"),
    ("ja", "$3千", "三千ドル"),
    ("ja", "¥1億2000万", "一億二千万円"),
    ("ja", "€1.5万", "一点五万ユーロ"),
    ("ja", "¥1,200", "千二百円"),
])
def test_the_currency_word_comes_after_the_whole_number(code: str, text: str,
                                                       normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("zh", "2万-3万", "两万到3万"),  # "-" was read as 负
    ("zh", "2万～3万", "两万到3万"),  # "～" was dropped
    ("zh", "1万5千-2万人", "1万5千到两万人"),
    ("zh", "2万元-3万元", "两万元到3万元"),
    ("zh", "$2万-3万", "两万到3万美元"),
    ("zh", "$5-10", "5到10美元"),  # was 5美元到10
    ("zh", "$5-$10", "5到10美元"),
    ("zh", "2万-3万kg", "两万到3万公斤"),
    ("ja", "2万-3万", "二万から三万"),  # was 二万マイナス三万
    ("ja", "2万～3万円", "二万から三万円"),  # "～" was read as a pause
    ("ja", "2万円-3万円", "二万円から三万円"),
    ("ja", "$2万-3万", "二万から三万ドル"),
    ("ja", "$5-10", "五から十ドル"),
    ("ja", "2万-3万km", "二万から三万キロメートル"),
])
def test_ranges_of_numbers_with_multipliers_are_read_as_ranges(code: str, text: str,
                                                               normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("zh", "3-5", "3到5"),
    ("zh", "1-2万", "1到两万"),
    ("zh", "2-3万人", "2到3万人"),
    ("zh", "-2万", "-2万"),  # a minus sign, no range
    ("zh", "A-5", "A-5"),
    ("zh", "电话是010-12345678。", "电话是零一零，一二三四五六七八。"),
    ("ja", "3-5", "三から五"),
    ("ja", "5-10人", "五から十人"),
    ("ja", "-2万", "マイナス二万"),
    ("ja", "03-1234-5678", "〇三、一二三四、五六七八"),
])
def test_other_dashes_and_ranges_stay_as_they_were(code: str, text: str,
                                                  normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "sounds", "not_sounds"), [
    ("zh", "$2万", "lja↓ŋ wa↘nmei↓ɥɛ↗n", "ɚ↘"),  # liǎngwàn měiyuán
    ("zh", "2万-3万", "wa↘n tau↘ sa→nwa↘n", "fu↘"),  # ...wàn dào sānwàn, no fù
    ("ja", "$2万", "ɲi maɴ doɾɯ", "ɲi doɾɯ"),  # にまんドル
    ("ja", "2万-3万", "maɴ kaɾa saɴ maɴ", "mainasɨ"),  # ...まん から さんまん
])
def test_amounts_and_ranges_are_spoken(code: str, text: str, sounds: str,
                                       not_sounds: str) -> None:
    phonemes = _phonemes(code, text)
    assert sounds in phonemes and not_sounds not in phonemes


@pytest.mark.parametrize("ranges", [japanese_ranges, mandarin_ranges])
def test_a_long_run_of_multiplied_numbers_is_scanned_in_linear_time(
        ranges: Callable[[str], str]) -> None:
    # Each "1" after 万 is no range's start: scanned from each one, this took ~30 s.
    text = "1万" * 20_000 + "-"
    start = time.perf_counter()
    assert ranges(text) == text
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------------- Japanese minutes


@pytest.mark.parametrize(("text", "normalized"), [
    ("5分", "五ふん"),  # pyopenjtalk: 五分 ごぶ, "half"
    ("5分30秒", "五ふん三十秒"),
    ("約5分", "約五ふん"),
    ("5分後", "五ふん後"),
    ("5分間", "五ふん間"),
    ("5分の休憩", "五ふんの休憩"),
    ("徒歩5分", "徒歩五ふん"),
    ("9時5分発", "九時五ふん発"),
    ("9時05分", "九時五ふん"),  # 〇五分 was ごぶ too
    ("12:05", "十二時五ふん"),  # 十二時五分: ごぶ
    ("2:05:30で完走", "二時間五ふん三十秒で完走"),
    ("2分", "二ふん"),  # にぶん
    ("8分", "八ふん"),  # はちぶ
    ("9分", "九ふん"),  # くぶ
    ("12分", "十二ふん"),  # じゅうにぶん
    ("10分です", "ジュップンです"),  # じゅうぶん, "enough"
    ("10分後", "ジュップン後"),
    ("5-10分", "五からジュップン"),
    ("10min", "ジュップン"),
    ("2.5分", "二点五ふん"),  # にてんごぶ
    ("5分、5分", "五ふん、五ふん"),
])
def test_minutes_pyopenjtalk_misreads_are_written_as_read(text: str, normalized: str) -> None:
    assert _normalize("ja", text) == normalized


@pytest.mark.parametrize(("text", "normalized"), [
    ("五分五分", "五分五分"),  # written in kanji: ごぶごぶ, even odds
    ("5分5分", "五分五分"),
    ("十五分", "十五分"),
    ("15分", "十五分"),  # read じゅうごふん already
    ("45分", "四十五分"),
    ("1分", "一分"),  # いっぷん
    ("3分", "三分"),  # さんぷん
    ("6分", "六分"),  # ろっぷん
    ("20分", "二十分"),
    ("3割5分", "三割五分"),  # a batting average: さんわりごぶ
    ("3割2分5厘", "三割二分五厘"),
    ("37度5分", "三十七度五分"),  # a temperature: ごぶ
    ("9分9厘", "九分九厘"),  # くぶくりん
    ("5分の1", "五分の一"),  # a fifth
    ("2½杯", "二と二分の一杯"),
    ("10分の1", "十分の一"),
    ("5分咲き", "五分咲き"),  # half in bloom
    ("7分袖", "七分袖"),
    ("8分目", "八分目"),
    ("2分割", "二分割"),
    ("2分探索", "二分探索"),
    ("5分野", "五分野"),  # five fields
])
def test_fen_that_is_no_minutes_or_is_read_right_stays(text: str, normalized: str) -> None:
    assert _normalize("ja", text) == normalized


@pytest.mark.parametrize(("text", "sounds"), [
    ("5分30秒", "ɡo ɸɯɴ saɲʥɨː bʲoː"),  # ごふん さんじゅうびょう, was ごぶ
    ("約5分", "jakɯ ɡo ɸɯɴ"),
    ("5分後", "ɡo ɸɯɴ ɡo"),  # ごふんご
    ("12:05", "ʥɨːɲiʥi ɡo ɸɯɴ"),
    ("2分", "ɲi ɸɯɴ"),
    ("8分", "haʨi ɸɯɴ"),
    ("9分", "kʲɨː ɸɯɴ"),
    ("12分", "ʥɨːɲi ɸɯɴ"),
    ("10分です", "ʥɨʔpɯɴ desɨ"),  # じゅっぷんです, was じゅうぶんです
    ("10分後", "ʥɨʔpɯɴ ɡo"),
    ("2.5分", "ɡo ɸɯɴ"),
])
def test_minutes_are_spoken_fun(text: str, sounds: str) -> None:
    phonemes = _phonemes("ja", text)
    assert sounds in phonemes and "bɯ" not in phonemes


@pytest.mark.parametrize(("text", "sounds"), [
    ("五分五分", "ɡobɯɡobɯ"),  # ごぶごぶ
    ("十五分", "ʥɨːɡo ɸɯɴ"),
    ("45分", "joɲʥɨː ɡo ɸɯɴ"),
    ("1分", "iʔpɯɴ"),
    ("3分", "sampɯɴ"),
    ("6分", "ɾoʔpɯɴ"),
    ("3割5分", "βaɾʲi ɡobɯ"),  # さんわりごぶ
    ("5分の1", "ɡobɯɴ no iʨi"),  # ごぶんのいち
])
def test_fen_read_right_keeps_its_reading(text: str, sounds: str) -> None:
    assert sounds in _phonemes("ja", text)


def test_minutes_rule_alone() -> None:
    assert japanese_minutes("5分と10分と15分") == "5ふんとジュップンと15分"
    assert japanese_minutes("五分") == "五分"
