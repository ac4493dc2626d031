"""Japanese and Mandarin: units after a number, clock times and per mille, read the
way a Japanese or Chinese reader says them (reported bugs: "5km" read as English
letters, "12:30" as two numbers, "5‰" dropped in Mandarin)."""

from __future__ import annotations

import pytest

from .conftest import normalized as _normalize
from .conftest import phonemes_of as _phonemes

# ------------------------------------------------------------------ units after a number


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "5km", "五キロメートル"),
    ("ja", "3kg", "三キログラム"),
    ("ja", "10cm", "十センチメートル"),
    ("ja", "5mm", "五ミリメートル"),
    ("ja", "5m先", "五メートル先"),
    ("ja", "20mg", "二十ミリグラム"),
    ("ja", "10g", "十グラム"),
    ("ja", "2GB", "二ギガバイト"),
    ("ja", "64MB", "六十四メガバイト"),
    ("ja", "2TB", "二テラバイト"),
    ("ja", "100mL", "百ミリリットル"),
    ("ja", "500ml", "五百ミリリットル"),
    ("ja", "2Lのペットボトル", "二リットルのペットボトル"),
    ("ja", "1.5kg", "一点五キログラム"),
    ("ja", "約5 kmです。", "約五キロメートルです。"),
    ("ja", "1,000km", "千キロメートル"),
    ("ja", "5-10km", "五から十キロメートル"),
    ("ja", "-5m", "マイナス五メートル"),
    ("ja", "24h営業", "二十四時間営業"),
    ("ja", "10min", "ジュップン"),  # 十分 could be じゅうぶん, "enough"
    ("ja", "8m²", "八平方メートル"),
    ("ja", "120㎡", "百二十平方メートル"),
    ("ja", "60Hz", "六十ヘルツ"),
    ("ja", "100Mbps", "百メガビーピーエス"),
    ("ja", "100km/hで走行", "時速百キロメートルで走行"),
    ("ja", "時速60km/hで走る", "時速六十キロメートルで走る"),  # no second 時速
    ("ja", "風速10m/sの風", "風速十メートルの風"),
    ("zh", "5km", "5公里"),
    ("zh", "3kg", "3公斤"),
    ("zh", "2kg", "两公斤"),  # two of a measure is 两, which the G2P does not say
    ("zh", "12kg", "12公斤"),
    ("zh", "10cm", "10厘米"),
    ("zh", "20mg", "20毫克"),
    ("zh", "2GB", "两吉字节"),
    ("zh", "256GB", "256吉字节"),
    ("zh", "100mL", "100毫升"),
    ("zh", "3.5L", "3.5升"),
    ("zh", "5-10km", "5到10公里"),
    ("zh", "8m²", "8平方米"),
    ("zh", "24h营业", "24小时营业"),
    ("zh", "100km/h", "100公里每小时"),
    ("zh", "限速120km/h", "限速120公里"),
])
def test_units_after_a_number_are_read_as_words(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize("code", ["ja", "zh"])
@pytest.mark.parametrize("text", ["5km", "3kg", "10cm", "2GB", "100mL", "60Hz"])
def test_units_are_not_spelled_as_english_letters(code: str, text: str) -> None:
    # The English letter names ("kay em") carried espeak-ng's stress marks.
    phonemes = _phonemes(code, text)
    assert phonemes and "ˈ" not in phonemes and "ˌ" not in phonemes


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "GBとは", "GBとは"),  # no number: an English word stays as it is
    ("ja", "kg単位で", "kg単位で"),
    ("ja", "5W1H", "五W一H"),  # not "five watts"
    ("ja", "5G回線", "五G回線"),
    ("ja", "3Lサイズ", "三Lサイズ"),  # a clothing size, not three litres
    ("ja", "Wi-Fiを使う", "Wi-Fiを使う"),
    ("zh", "GB是什么", "GB是什么"),
    ("zh", "5G网络", "5G网络"),
    ("zh", "A4m", "A4m"),  # the number belongs to "A4"
])
def test_unit_letters_without_a_number_stay(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "五km", "五キロメートル"),
    ("ja", "三kg", "三キログラム"),
    ("ja", "十cm", "十センチメートル"),
    ("ja", "二十五km", "二十五キロメートル"),
    ("ja", "百MB", "百メガバイト"),
    ("ja", "約三kmです。", "約三キロメートルです。"),
    ("ja", "1万km", "一万キロメートル"),  # digits then a kanji multiplier
    ("ja", "2万kg", "二万キログラム"),  # Japanese has no 两
    ("ja", "三万t", "三万トン"),
    ("ja", "百km/hで走行", "時速百キロメートルで走行"),
    ("ja", "時速六十km/h", "時速六十キロメートル"),
    ("zh", "五km", "五公里"),
    ("zh", "三kg", "三公斤"),
    ("zh", "二kg", "两公斤"),
    ("zh", "两kg", "两公斤"),
    ("zh", "十二kg", "十二公斤"),
    ("zh", "走了三km路", "走了三公里路"),
    ("zh", "1万km", "1万公里"),
    ("zh", "一百km/h", "一百公里每小时"),
])
def test_units_after_a_kanji_number_are_read_as_words(code: str, text: str,
                                                       normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize("code", ["ja", "zh"])
@pytest.mark.parametrize("text", ["五km", "三kg", "十cm", "二GB", "数km"])
def test_units_after_a_kanji_number_are_not_spelled_as_english_letters(code: str,
                                                                       text: str) -> None:
    phonemes = _phonemes(code, text)
    assert phonemes and "ˈ" not in phonemes and "ˌ" not in phonemes


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "五W一H", "五W一H"),  # not "five watts"
    ("ja", "五G回線", "五G回線"),
    ("ja", "三Lサイズ", "三Lサイズ"),  # a clothing size
    ("ja", "十GBとは", "十ギガバイトとは"),
    ("zh", "一V一", "一V一"),  # one on one, not one volt
    ("zh", "五G网络", "五G网络"),
    ("zh", "三C产品", "三C产品"),
    ("zh", "十个APP", "十个APP"),
])
def test_kanji_numbers_before_letters_that_are_no_unit_stay(code: str, text: str,
                                                           normalized: str) -> None:
    assert _normalize(code, text) == normalized


# ---------------------------------------------------------------------------- clock times


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "12:30", "十二時三十分"),
    ("ja", "9:05", "九時五ふん"),  # 五分 alone is ごぶ
    ("ja", "12:00", "十二時"),
    ("ja", "0:00", "零時"),
    ("ja", "23:59", "二十三時五十九分"),
    ("ja", "１２：３０", "十二時三十分"),  # full-width digits and colon
    ("ja", "会議は10:00〜11:30です。", "会議は十時から十一時三十分です。"),
    ("ja", "9:00-17:00", "九時から十七時"),  # not "〇〇、一七" (a phone number)
    ("ja", "午後3:30", "午後三時三十分"),
    ("ja", "3:30pm", "午後三時三十分"),
    ("ja", "PM3:30", "午後三時三十分"),
    ("ja", "12:30am", "午前零時三十分"),
    ("ja", "時刻:12:30", "時刻:十二時三十分"),
    ("zh", "12:30", "12点30分"),
    ("zh", "9:05", "9点零5分"),
    ("zh", "12:00", "12点"),
    ("zh", "2:00", "两点"),
    ("zh", "9:00-17:00", "9点到17点"),
    ("zh", "3:30pm", "下午3点30分"),
    ("zh", "8:00pm", "晚上8点"),
    ("zh", "12:30am", "凌晨0点30分"),
])
def test_clock_times_are_read_as_times(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "10:30:15", "十時三十分十五秒"),
    ("ja", "9:05:00", "九時五ふん"),  # no seconds said for :00
    ("ja", "12:00:00", "十二時"),
    ("ja", "12:00:15", "十二時零分十五秒"),
    ("ja", "23:59:59", "二十三時五十九分五十九秒"),
    ("ja", "１０：３０：１５", "十時三十分十五秒"),
    ("ja", "9:00:00-17:30:00", "九時から十七時三十分"),
    ("ja", "3:30:15pm", "午後三時三十分十五秒"),
    ("ja", "時刻は1:02:03です", "時刻は一時二ふん三秒です"),
    ("zh", "10:30:15", "10点30分15秒"),
    ("zh", "9:05:00", "9点零5分"),
    ("zh", "10:30:05", "10点30分零5秒"),
    ("zh", "12:00:15", "12点零分15秒"),
    ("zh", "2:00:00", "两点"),
    ("zh", "1:02:03", "1点零2分零3秒"),
    ("zh", "9:00:00-17:30:00", "9点到17点30分"),
    ("zh", "3:30:15pm", "下午3点30分15秒"),
])
def test_clock_times_with_seconds_are_read_as_times(code: str, text: str,
                                                    normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "sounds"), [
    ("ja", "12:30", "ʥɨːɲiʥi saɲʥɨʔpɯɴ"),  # じゅうにじ さんじゅっぷん
    ("ja", "9:05", "kɯʥi ɡo ɸɯɴ"),  # くじ ごふん
    ("zh", "12:30", "ʂɨ↗ɚ↘tjɛ↓n sa→nʂɨ↗fə→n"),  # shí'èr diǎn sānshí fēn
    ("zh", "9:05", "li↗ŋu↓fə→n"),  # líng wǔ fēn
    ("ja", "10:30:15", "ʥɨːʥi saɲʥɨʔpɯɴ ʥɨːɡo bʲoː"),  # じゅうじ さんじゅっぷん じゅうごびょう
    ("zh", "10:30:15", "sa→nʂɨ↗fə→n ʂɨ↗u↓mjau↓"),  # sānshí fēn shíwǔ miǎo
])
def test_clock_times_are_spoken(code: str, text: str, sounds: str) -> None:
    assert sounds in _phonemes(code, text)


@pytest.mark.parametrize("code", ["ja", "zh"])
@pytest.mark.parametrize("text", ["3:2", "24:00", "16:9", "12:75", "1:2:3", "25:00:00",
                                  "10:61:00", "10:30:75", "10:30:5", "10:30:15:20",
                                  "100:00:00"])
def test_what_is_no_time_of_day_is_not_read_as_one(code: str, text: str) -> None:
    # A score, an hour past 23, one-digit or impossible minutes or seconds, a ratio
    # (1:2:3), four parts.
    normalized = _normalize(code, text)
    assert ":" in normalized and "時" not in normalized and "点" not in normalized


# ------------------------------------------------------------------------------ per mille


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "5‰", "五パーミル"),
    ("ja", "勾配は33‰です", "勾配は三十三パーミルです"),
    ("ja", "0.5‰", "零点五パーミル"),
    ("zh", "5‰", "千分之5"),
    ("zh", "0.5‰", "千分之0.5"),
    ("zh", "-5‰", "负千分之5"),
    ("zh", "3-5‰", "千分之3到5"),
])
def test_per_mille_is_read(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


def test_per_mille_is_spoken_in_mandarin() -> None:
    # The G2P dropped "‰": "5‰" was heard as "five".
    assert "ʨʰjɛ→nfə→nꭧɨ→ u↓" in _phonemes("zh", "5‰")
    assert "paːmʲiɾɯ" in _phonemes("ja", "5‰")


# ----------------------------------------------------------------------- negative percent


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("zh", "-5%", "负百分之5"),  # the G2P said 百分之负五
    ("zh", "\u22125%", "负百分之5"),  # the Unicode minus sign
    ("zh", "－5％", "负百分之5"),
    ("zh", "-5.5%", "负百分之5.5"),
    ("zh", "-5 %", "负百分之5"),
    ("zh", "-1,200%", "负百分之1200"),
    ("zh", "同比下降-3%", "同比下降负百分之3"),
    ("zh", "5%", "5%"),  # the G2P reads the rest itself
    ("zh", "+5%", "+5%"),
    ("zh", "3-5%", "3到5%"),  # a range, not minus five
    ("zh", "A-5%", "A-5%"),
    ("ja", "-5%", "マイナス五パーセント"),
    ("ja", "\u22125%", "マイナス五パーセント"),
    ("ja", "-5.5%", "マイナス五点五パーセント"),
    ("ja", "前年比-3%", "前年比マイナス三パーセント"),
])
def test_negative_percent_is_read_sign_first(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize("text", ["-5%", "\u22125%"])
def test_negative_percent_is_spoken_sign_first_in_mandarin(text: str) -> None:
    # fù bǎifēnzhī wǔ, not bǎifēnzhī fù wǔ
    assert "fu↘ pai↓fə→nꭧɨ→u↓" in _phonemes("zh", text)


# ------------------------------------------------------------ Mandarin 两 before 千/万/亿


@pytest.mark.parametrize(("text", "normalized"), [
    ("2万kg", "两万公斤"),  # as "2kg" is 两公斤
    ("2万", "两万"),
    ("2千", "两千"),
    ("2亿", "两亿"),
    ("2千万", "两千万"),
    ("2亿元", "两亿元"),
    ("2千米", "两千米"),
    ("2万多人", "两万多人"),
    ("2千kg", "两千公斤"),
    ("2亿t", "两亿吨"),
    ("2万5千kg", "两万5千公斤"),
    ("二万kg", "两万公斤"),
    ("1-2万", "1到两万"),
])
def test_mandarin_says_two_thousand_with_liang(text: str, normalized: str) -> None:
    assert _normalize("zh", text) == normalized


@pytest.mark.parametrize(("text", "normalized"), [
    ("12万", "12万"),  # 十二万: 二 after ten
    ("12万kg", "12万公斤"),
    ("十二万kg", "十二万公斤"),
    ("20万kg", "20万公斤"),  # 二十万
    ("二十万kg", "二十万公斤"),
    ("2.5万kg", "2.5万公斤"),
    ("0.2万", "0.2万"),
    ("第2万", "第2万"),  # an ordinal keeps 二
    ("2百", "2百"),  # 二百 is as standard as 两百
    ("A2万", "A2万"),
    ("二千金", "二千金"),  # a second daughter, no number
    ("-2万", "-2万"),  # the G2P drops the minus of "-两万"
    ("-2kg", "-2公斤"),
])
def test_mandarin_keeps_er_where_it_is_said(text: str, normalized: str) -> None:
    assert _normalize("zh", text) == normalized


# ------------------------------------------------------------------ W杯, the World Cup


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "2022W杯", "二千二十二ワールドカップ"),  # not 2022 watts
    ("ja", "第22回W杯", "第二十二回ワールドカップ"),
    ("ja", "W杯", "ワールドカップ"),
    ("ja", "５W杯", "五ワールドカップ"),
    ("ja", "5W", "五ワット"),  # a watt is still one
    ("ja", "100W電球", "百ワット電球"),
    ("ja", "DW杯", "DW杯"),
    ("zh", "2022W杯", "2022W杯"),
    ("zh", "5W", "5瓦"),
])
def test_w_before_hai_is_the_world_cup(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


# --------------------------------------------------------------- race times as durations


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "2:05:30で完走", "二時間五ふん三十秒で完走"),
    ("ja", "2:05:30のタイム", "二時間五ふん三十秒のタイム"),
    ("ja", "2:05:30の記録", "二時間五ふん三十秒の記録"),
    ("ja", "2:00:35の世界新記録", "二時間零分三十五秒の世界新記録"),
    ("ja", "2:05:00でゴール", "二時間五ふんでゴール"),
    ("ja", "3:00:00で完走", "三時間で完走"),
    ("ja", "0:45:30で完走", "四十五分三十秒で完走"),
    ("zh", "2:05:30的成绩", "两小时5分30秒的成绩"),
    ("zh", "以2:05:30的成绩夺冠", "以两小时5分30秒的成绩夺冠"),
    ("zh", "2:00:35的世界纪录", "两小时0分35秒的世界纪录"),
    ("zh", "以2:05:30夺冠", "以两小时5分30秒夺冠"),
    ("zh", "3:05:30完赛", "3小时5分30秒完赛"),
])
def test_race_times_are_read_as_durations(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "2:05:30", "二時五ふん三十秒"),  # nothing says it is a result
    ("ja", "10:30:15の記録", "十時三十分十五秒の記録"),  # a log's timestamp
    ("ja", "02:05:30で完走", "二時五ふん三十秒で完走"),  # zero-padded: a clock's
    ("ja", "2:05で完走", "二時五ふんで完走"),  # h:mm or m:ss? left a time
    ("ja", "午前2:05:30の記録", "午前二時五ふん三十秒の記録"),
    ("ja", "2:05:30pmの記録", "午後二時五ふん三十秒の記録"),
    ("zh", "2:05:30", "两点零5分30秒"),
    ("zh", "凌晨2:05:30的记录", "凌晨两点零5分30秒的记录"),
    ("zh", "10:30:15的记录", "10点30分15秒的记录"),
])
def test_times_that_are_no_race_result_stay_times(code: str, text: str,
                                                  normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "sounds"), [
    ("ja", "2:10:30で完走", "ɲiʥikaɴ ʥɨʔpɯɴ"),  # にじかん じゅっぷん
    ("zh", "2:05:30的成绩", "lja↓ŋ ɕjau↓ʂɨ↗"),  # liǎng xiǎoshí
    ("zh", "2万kg", "lja↓ŋ wa↘n"),  # liǎngwàn
    ("zh", "-2kg", "fu↘"),  # was "-两公斤", its minus lost
    ("ja", "2022W杯", "βaːɾɯdokaʔpɯ"),  # ワールドカップ, not ワット
])
def test_two_thousands_race_times_and_the_world_cup_are_spoken(code: str, text: str,
                                                               sounds: str) -> None:
    assert sounds in _phonemes(code, text)


# --------------------------------------------------------- "several" (数, 几) before a unit


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "数km", "数キロメートル"),
    ("ja", "数km先", "数キロメートル先"),
    ("ja", "約数km", "約数キロメートル"),
    ("ja", "わずか数kmの距離", "わずか数キロメートルの距離"),
    ("ja", "十数km", "十数キロメートル"),
    ("ja", "数十km", "数十キロメートル"),
    ("ja", "数m/s", "秒速数メートル"),
    ("zh", "几km", "几公里"),
    ("zh", "走了几km路", "走了几公里路"),
    ("zh", "好几km", "好几公里"),
    ("zh", "十几km", "十几公里"),
    ("zh", "几百m", "几百米"),
    ("zh", "数km", "数公里"),
    ("zh", "长达数km", "长达数公里"),
])
def test_units_after_several_are_read_as_words(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized


@pytest.mark.parametrize(("code", "text", "normalized"), [
    ("ja", "変数mを使う", "変数mを使う"),  # the variable m, not metres
    ("ja", "係数t", "係数t"),
    ("ja", "半径数km", "半径数km"),  # a lone 数 after Han is taken for a word's end
    ("zh", "变数t", "变数t"),
    ("zh", "参数m", "参数m"),
])
def test_su_that_ends_a_word_is_no_number(code: str, text: str, normalized: str) -> None:
    assert _normalize(code, text) == normalized
