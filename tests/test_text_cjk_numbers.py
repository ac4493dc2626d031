"""Japanese and Mandarin: currency and ranges with 万/千/億, counters or kanji numerals,
and Japanese minutes (reported bugs: "$2万" read "2美元万", "2万-3万" and "5人-10人"
read with 负 / マイナス (minus), "二万-三万" with a silent dash, "5分30秒" read ごぶ
("half") and "8分" はちふん by pyopenjtalk, "2分する" (to split in two) read as
minutes), and Mandarin counts of years ("10年前" read 一零年前, as a year)."""

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


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "5人-10人", "五人から十人"),  # was 五人マイナス十人
    ("ja", "5人～10人", "五人から十人"),  # "～" was a pause
    ("ja", "3本-5本", "三本から五本"),  # was "mimoto mainasu gohon"
    ("ja", "5回-10回", "五回から十回"),
    ("ja", "5万人-10万人", "五万人から十万人"),
    ("ja", "1ヶ月-3ヶ月", "一ヶ月から三ヶ月"),
    ("ja", "5時間-10時間", "五時間から十時間"),
    ("ja", "5ページ-10ページ", "五ページから十ページ"),
    ("ja", "5km-10km", "五キロメートルから十キロメートル"),
    ("ja", "5%-10%", "五パーセントから十パーセント"),
    ("ja", "2020年-2024年", "二千二十年から二千二十四年"),
    ("ja", "3月5日-4月10日", "三月五日から四月十日"),
    ("ja", "5分-10分", "五ふんからジュップン"),
    ("ja", "気温は-5～10℃", "気温はマイナス五から十度"),  # a minus sign leads the range
    ("ja", "-5℃～10℃", "マイナス五度から十度"),
    ("zh", "5人-10人", "5人到10人"),  # was 5人负10人
    ("zh", "5个-10个", "5个到10个"),
    ("zh", "3本-5本", "3本到5本"),
    ("zh", "5次～10次", "5次到10次"),  # "～" was dropped
    ("zh", "5km-10km", "5公里到10公里"),
    ("zh", "5%-10%", "5%到10%"),  # was 5%负百分之10
    ("zh", "3月5日-4月10日", "3月5日到4月10日"),
    ("zh", "-5～10℃", "-5到10度"),
])
def test_ranges_with_a_counter_on_both_ends_are_read_as_ranges(code: str, text: str,
                                                              normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "二万-三万", "二万から三万"),  # the dash was silent: "two ten-thousand three..."
    ("ja", "五-十", "五から十"),
    ("ja", "五～十人", "五から十人"),  # "～" was a pause
    ("ja", "五人-十人", "五人から十人"),
    ("ja", "2万-三万", "二万から三万"),
    ("ja", "零-五歳", "零から五歳"),
    ("zh", "二万-三万", "二万到三万"),
    ("zh", "五-十", "五到十"),
    ("zh", "五～十人", "五到十人"),
    ("zh", "第一-三", "第一到三"),
    ("zh", "三分之一-二分之一", "三分之一到二分之一"),
])
def test_ranges_of_kanji_numbers_are_read_as_ranges(code: str, text: str,
                                                    normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "5人-10", "五人マイナス十"),  # a counter on one end only: no range
    ("ja", "三-五-十", "三-五-十"),  # a chain (an address), no range
    ("ja", "〇三-一二三四", "〇三-一二三四"),  # zero-led: a phone number
    ("ja", "-五-十", "-五-十"),  # a dash before the first end
    ("ja", "MiG二一-二三", "MiG二一-二三"),  # glued to a model's letters
    ("ja", "F-15", "F-十五"),
    ("ja", "3-5-7", "三、五、七"),  # a code
    ("ja", "5人-10人-", "五人から十人-"),
    ("zh", "5人-10", "5人-10"),
    ("zh", "三-五-十", "三-五-十"),
    ("zh", "〇三-一二三四", "〇三-一二三四"),
    ("zh", "A-5", "A-5"),
    ("zh", "-5%", "负百分之5"),
    ("zh", "周一-周五", "周一-周五"),  # no number after the dash
])
def test_dashes_that_join_no_range_of_counters_or_kanji_stay(code: str, text: str,
                                                            normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "sounds", "not_sounds"), [
    ("zh", "$2万", "lja↓ŋ wa↘nmei↓ɥɛ↗n", "ɚ↘"),  # liǎngwàn měiyuán
    ("zh", "2万-3万", "wa↘n tau↘ sa→nwa↘n", "fu↘"),  # ...wàn dào sānwàn, no fù
    ("ja", "$2万", "ɲi maɴ doɾɯ", "ɲi doɾɯ"),  # にまんドル
    ("ja", "2万-3万", "maɴ kaɾa saɴ maɴ", "mainasɨ"),  # ...まん から さんまん
    ("ja", "5人-10人", "ɡo ɲiɴ kaɾa ʥɨːɲiɴ", "mainasɨ"),  # ごにん から じゅうにん
    ("ja", "3本-5本", "saɴ boɴ kaɾa ɡohoɴ", "mainasɨ"),  # さんぼん から ごほん
    ("ja", "二万-三万", "ɲi maɴ kaɾa saɴ maɴ", "—"),
    ("ja", "五～十人", "ɡo kaɾa ʥɨːɲiɴ", "—"),  # "～" was a pause
    ("zh", "5个-10个", "u↓kɤ↘ tau↘ ʂɨ↗kɤ↘", "fu↘"),  # wǔ gè dào shí gè
    ("zh", "5人～10人", "ɻə↗ntau↘ ʂɨ↗ɻə↗n", "fu↘"),
    ("zh", "五-十", "u↓tau↘ ʂɨ↗", "fu↘"),
    ("zh", "5%-10%", "tau↘ pai↓fə→nꭧɨ→ʂɨ↗", "fu↘"),
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


@pytest.mark.parametrize("ranges", [japanese_ranges, mandarin_ranges])
@pytest.mark.parametrize("text", [
    "五万" * 20_000 + "-", "一-" * 20_000, "〇" * 20_000 + "-1", "5" + "人" * 20_000 + "-5",
    "5人" * 20_000 + "-", "五" * 20_000 + "-" + "五" * 20_000 + "人", "1-" * 20_000,
])
def test_long_runs_of_kanji_numbers_and_counters_are_scanned_in_linear_time(
        ranges: Callable[[str], str], text: str) -> None:
    start = time.perf_counter()
    ranges(text)
    assert time.perf_counter() - start < 1.0


def test_long_runs_of_ranges_of_counters_are_read_in_linear_time() -> None:
    start = time.perf_counter()
    assert japanese_ranges("5人-10人、" * 10_000) == "5人から10人、" * 10_000
    assert mandarin_ranges("5个～10个，" * 10_000) == "5个到10个，" * 10_000
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
    ("8分", "ハップン"),  # はちぶ, then はちふん
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
    ("8分", "haʔpɯɴ"),  # はっぷん
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


# ------------------------------------------- minutes ending in 8, and 二分する (to split)


@pytest.mark.parametrize(("text", "normalized"), [
    ("8分", "ハップン"),  # はっぷん: pyopenjtalk said はちぶ, the last rule はちふん
    ("8分後", "ハップン後"),
    ("8分の休憩", "ハップンの休憩"),
    ("9時08分", "九時ハップン"),
    ("12:08", "十二時ハップン"),
    ("18分", "十ハップン"),  # 十八分 was じゅうはちふん
    ("28分", "二十ハップン"),
    ("108分", "百ハップン"),
    ("12:18", "十二時十ハップン"),
    ("2:08:30で完走", "二時間ハップン三十秒で完走"),
    ("5-8分", "五からハップン"),
    ("2分しかない", "二ふんしかない"),  # "only two minutes": minutes
    ("あと2分したら", "あと二ふんしたら"),  # "in two more minutes"
    ("2分して戻る", "二ふんして戻る"),  # "came back two minutes later"
    ("12分する", "十二ふんする"),
])
def test_minutes_ending_in_eight_are_read_happun(text: str, normalized: str) -> None:
    assert _normalize("ja", text) == normalized


@pytest.mark.parametrize(("text", "normalized"), [
    ("2分する", "二分する"),  # にぶんする, to split in two: no minutes
    ("国論を2分した", "国論を二分した"),
    ("2分される", "二分される"),
    ("2分すれば", "二分すれば"),
    ("2分します", "二分します"),
    ("二分する", "二分する"),  # kanji as written
    ("3分割", "三分割"),
    ("2分の1", "二分の一"),
    ("8分目", "八分目"),  # はちぶんめ
    ("8分咲き", "八分咲き"),
    ("2.8分", "二点八ふん"),  # a decimal: にてんはちふん
    ("8割8分", "八割八分"),  # a batting average
])
def test_fen_that_is_no_minutes_or_is_a_decimal_stays(text: str, normalized: str) -> None:
    assert _normalize("ja", text) == normalized


@pytest.mark.parametrize(("text", "sounds", "not_sounds"), [
    ("1分", "iʔpɯɴ", "iʨi"),  # いっぷん
    ("3分", "sampɯɴ", "bɯ"),  # さんぷん
    ("4分", "jompɯɴ", "bɯ"),  # よんぷん
    ("6分", "ɾoʔpɯɴ", "bɯ"),  # ろっぷん
    ("8分", "haʔpɯɴ", "haʨi"),  # はっぷん
    ("8分後", "haʔpɯɴ ɡo", "haʨi"),
    ("10分", "ʥɨʔpɯɴ", "bɯ"),  # じゅっぷん
    ("18分", "ʥɨː haʔpɯɴ", "haʨi"),  # じゅうはっぷん
    ("28分", "ɲiʥɨː haʔpɯɴ", "haʨi"),  # にじゅうはっぷん
    ("12:18", "ʥɨː haʔpɯɴ", "haʨi"),
    ("2分する", "ɲibɯɴ sɨɾɯ", "ɸɯɴ"),  # にぶんする
    ("二分する", "ɲibɯɴ sɨɾɯ", "ɸɯɴ"),
    ("3分割", "saɴ bɯŋkaʦɨ", "pɯɴ"),  # さんぶんかつ
    ("2分の1", "ɲibɯɴ no iʨi", "ɸɯɴ"),  # にぶんのいち
])
def test_minutes_and_their_look_alikes_are_spoken(text: str, sounds: str,
                                                  not_sounds: str) -> None:
    phonemes = _phonemes("ja", text)
    assert sounds in phonemes and not_sounds not in phonemes


def test_no_minutes_up_to_120_is_read_bu_or_hachi_fun() -> None:
    for minutes in range(121):
        phonemes = _phonemes("ja", f"{minutes}分")
        assert "bɯ" not in phonemes and "haʨi ɸɯɴ" not in phonemes, minutes
        if minutes % 10 == 8:
            assert phonemes.endswith("haʔpɯɴ"), minutes


# ------------------------------------------------------------ Mandarin counts of years


@pytest.mark.parametrize(("text", "normalized"), [
    ("10年前", "十年前"),  # misaki read 一零年前, "one zero years ago"
    ("过去20年", "过去二十年"),
    ("工作了30年", "工作了三十年"),
    ("第15年", "第十五年"),
    ("近100年来", "近一百年来"),
    ("80年代", "八十年代"),
    ("20年来", "二十年来"),
    ("10年期国债", "十年期国债"),
    ("50年左右", "五十年左右"),
    ("5年-10年", "5年到十年"),
    ("3到15年", "3到十五年"),
    ("2年前", "两年前"),  # not 二年前
    ("过去2年", "过去两年"),
    ("2年多", "两年多"),
])
def test_mandarin_counts_of_years_are_read_as_numbers(text: str, normalized: str) -> None:
    assert _normalize("zh", text) == normalized


@pytest.mark.parametrize("text", [
    "98年出生",  # a year cut short: 九八年
    "2024年",
    "1998年以来",
    "从98年以来",  # since '98: a point in time
    "在99年前后",
    "618年",  # a three-digit year
    "第1000年",
    "3.10年",
    "第2年",  # the second year: 第二年
    "2年级",  # second grade
    "12年",
])
def test_mandarin_years_stay_as_the_g2p_reads_them(text: str) -> None:
    assert _normalize("zh", text) == text


def test_a_zero_led_year_is_read_digit_by_digit() -> None:
    assert _normalize("zh", "08年奥运会") == "零八年奥运会"  # not 八年


def test_mandarin_counts_of_years_sound_as_numbers() -> None:
    # 十年 shí nián, not yī líng nián
    assert _phonemes("zh", "10年前") == _phonemes("zh", "十年前")
    assert _phonemes("zh", "10年前") != _phonemes("zh", "一零年前")
    assert _phonemes("zh", "98年出生") == _phonemes("zh", "九八年出生")


def test_counts_of_years_in_a_long_text_are_found_in_one_pass() -> None:
    text = "过去20年" * 20_000 + "98年出生" * 20_000
    began = time.perf_counter()
    out = _normalize("zh", text)
    assert time.perf_counter() - began < 5.0
    assert out.count("二十年") == 20_000 and out.count("98年出生") == 20_000
