"""Units of measure and the per mille sign after a number, in Japanese and Mandarin.

The G2Ps read a Latin unit symbol as English letters ("5km" -> "five kay em" in
Mandarin, "五 kay em" in Japanese), but a Japanese or Chinese reader says the unit's
name: ``5km`` -> ``5キロメートル`` / ``5公里``, ``2GB`` -> ``2ギガバイト`` /
``两吉字节``. Only a symbol right after a number is read as a unit, and only as a
whole token: "GBとは", "5W1H", "5G" and "3Lサイズ" (a clothing size) stay as they
are. The number is ASCII digits (one space allowed before the symbol) or kanji
numerals, alone or after digits (``五km``, ``二十五km``, ``1万km``), with no space:
``五km`` -> ``五キロメートル`` / ``五公里``; after kanji, a symbol that another
numeral follows is no unit ("一V一", one on one; "五W一H"). "Several" counts as a
numeral: ``数km`` -> ``数キロメートル`` / ``数公里``, ``几km`` -> ``几公里``, but a lone 数
after another Han character ends a word ("変数m", the variable m) unless that is
"about" or "up to" (約, 约, 近, 达) or 了.
A symbol that a word follows is no unit either: "3Lサイズ" (a size), "W杯" (the World
Cup, which Japanese says ``ワールドカップ``).

Speeds are said the way newsreaders say them: ``100km/h`` -> ``時速100キロメートル`` /
``100公里每小时``, and after a word that already says "speed" (``時速``, ``風速``,
``限速``, ``速度``) only the distance unit is read (``風速10m/s`` -> ``風速10メートル``).

Per mille: ``5‰`` -> ``5パーミル`` (Japanese, as NHK reads railway gradients) and
``千分之5`` (Mandarin, whose G2P dropped the sign; ``3-5‰`` -> ``千分之3到5``).

Numbers stay as written here: each language's later rules spell the digits out
(Japanese) or leave them to the G2P (Mandarin). Mandarin counts two of a unit as
``两``, not ``二`` (``2kg``, ``二kg`` -> ``两公斤``), which its G2P does not do, and
says ``两`` before 千/万/亿 too (:func:`mandarin_two`: ``2万`` -> ``两万``, ``2万kg`` ->
``两万公斤``); not after a minus sign, whose ``-`` the G2P drops before ``两``.

Mandarin's G2P reads ``-5%`` as 百分之负五; :func:`mandarin_negative_percent` puts the
sign first, as a reader does: ``负百分之5``.
"""

from __future__ import annotations

import re

__all__ = ["japanese_per_mille", "japanese_units", "mandarin_negative_percent",
           "mandarin_per_mille", "mandarin_two", "mandarin_units"]

# fmt: off
#: Unit symbol -> (Japanese, Mandarin) name. Speeds (``/h``, ``/s``) are in _SPEEDS.
_UNITS: dict[str, tuple[str, str]] = {
    # length and area, volume
    "km": ("キロメートル", "公里"), "m": ("メートル", "米"), "cm": ("センチメートル", "厘米"),
    "mm": ("ミリメートル", "毫米"), "µm": ("マイクロメートル", "微米"),
    "μm": ("マイクロメートル", "微米"), "nm": ("ナノメートル", "纳米"),
    "km²": ("平方キロメートル", "平方公里"), "km2": ("平方キロメートル", "平方公里"),
    "m²": ("平方メートル", "平方米"), "m2": ("平方メートル", "平方米"),
    "cm²": ("平方センチメートル", "平方厘米"), "m³": ("立方メートル", "立方米"),
    "m3": ("立方メートル", "立方米"), "cm³": ("立方センチメートル", "立方厘米"),
    "ha": ("ヘクタール", "公顷"),
    "L": ("リットル", "升"), "l": ("リットル", "升"), "mL": ("ミリリットル", "毫升"),
    "ml": ("ミリリットル", "毫升"), "dL": ("デシリットル", "分升"),
    "dl": ("デシリットル", "分升"), "kL": ("キロリットル", "千升"),
    "cc": ("シーシー", "毫升"),
    # mass
    "kg": ("キログラム", "公斤"), "g": ("グラム", "克"), "mg": ("ミリグラム", "毫克"),
    "µg": ("マイクログラム", "微克"), "μg": ("マイクログラム", "微克"), "t": ("トン", "吨"),
    # data and data rates
    "KB": ("キロバイト", "千字节"), "kB": ("キロバイト", "千字节"),
    "MB": ("メガバイト", "兆字节"), "GB": ("ギガバイト", "吉字节"),
    "TB": ("テラバイト", "太字节"), "PB": ("ペタバイト", "拍字节"),
    "bps": ("ビーピーエス", "比特每秒"), "kbps": ("キロビーピーエス", "千比特每秒"),
    "Mbps": ("メガビーピーエス", "兆比特每秒"), "Gbps": ("ギガビーピーエス", "吉比特每秒"),
    # frequency, power, energy, electricity, sound
    "Hz": ("ヘルツ", "赫兹"), "kHz": ("キロヘルツ", "千赫"), "MHz": ("メガヘルツ", "兆赫"),
    "GHz": ("ギガヘルツ", "吉赫"), "W": ("ワット", "瓦"), "kW": ("キロワット", "千瓦"),
    "MW": ("メガワット", "兆瓦"), "Wh": ("ワット時", "瓦时"), "kWh": ("キロワット時", "千瓦时"),
    "V": ("ボルト", "伏"), "mA": ("ミリアンペア", "毫安"),
    "mAh": ("ミリアンペアアワー", "毫安时"), "kcal": ("キロカロリー", "千卡"),
    "cal": ("カロリー", "卡"), "dB": ("デシベル", "分贝"),
    # time
    "h": ("時間", "小时"), "min": ("分", "分钟"), "sec": ("秒", "秒"), "ms": ("ミリ秒", "毫秒"),
}
#: Speed symbol -> (distance unit, Japanese "per" word before the number, Mandarin
#: "per" word after the unit).
_SPEEDS: dict[str, tuple[str, str, str]] = {
    "km/h": ("km", "時速", "每小时"), "m/s": ("m", "秒速", "每秒"),
    "km/L": ("km", "リッター", "每升"), "km/l": ("km", "リッター", "每升"),
}
# fmt: on

_SYMBOLS = "|".join(re.escape(symbol)
                    for symbol in sorted([*_UNITS, *_SPEEDS], key=len, reverse=True))
#: Kanji numerals, Japanese and Mandarin (两 and traditional 兩 too), and "several"
#: (数, 几, 幾): "数km", "十几km".
_KANJI = "〇零一二三四五六七八九十百千万萬億亿两兩数几幾"
#: The multipliers before which Mandarin says 两, not 二 ("两万"; "十二万" keeps 二).
_LIANG_BEFORE = "千万萬亿億"
_DIGITS = r"\d+(?:\.\d+)?"
#: A number, not glued to letters or another number before it ("A4", "1.2.3"), then a
#: unit symbol that is a whole token: no letter or digit after it ("5W1H"; in "5min"
#: the longest symbol, "min", is the one matched). The number is digits (group
#: "digits") or kanji numerals, after digits or not ("kanji": "五", "1万", "1万5千"),
#: each digit run followed by kanji so that the pattern cannot backtrack
#: exponentially. No space after kanji: "一 V" is more likely a word and a letter.
_UNIT_RE = re.compile(
    rf"(?:(?<![A-Za-z\d.])(?P<digits>{_DIGITS}) ?"
    rf"|(?<![A-Za-z\d.{_KANJI}])"
    rf"(?P<kanji>(?:{_DIGITS})?[{_KANJI}]+(?:{_DIGITS}[{_KANJI}]+)*))"
    rf"(?P<symbol>{_SYMBOLS})(?![A-Za-z\d])(?(kanji)(?![{_KANJI}]))")
#: Symbol -> a word after it that makes it no unit: "3Lサイズ" (a clothing size),
#: "2022W杯" (the World Cup).
_SIZE_WORD_RE = re.compile(r"\s?(?:サイズ|码|碼)")
_WORD_AFTER: dict[str, re.Pattern[str]] = {"L": _SIZE_WORD_RE, "l": _SIZE_WORD_RE,
                                           "W": re.compile("杯")}
#: A Han character before a lone 数 that makes it a word's end ("変数", "系数"), not
#: "several"; "about" (約, 约, 近), "up to" (达) and 了 end no such word.
_WORD_BEFORE_SEVERAL_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々](?<![約约近达達了])")
#: Japanese: "W杯" (not after a Latin letter: "DW杯" is some other cup).
_JA_WORLD_CUP_RE = re.compile(r"(?<![A-Za-z])W杯")
#: Mandarin: a 2 that leads a number (not "12万", "0.2万", "A2", "-2", "第2") before
#: 千/万/亿.
_ZH_TWO_RE = re.compile(rf"(?<![A-Za-z\d.\-第])2(?=[{_LIANG_BEFORE}])")
#: A word before the number that already says "speed": "時速", "風速", "限速", "速度".
_SPEED_WORD_RE = re.compile(r"速度?[はが为是：:]?\s?$")

#: Mandarin: a minus sign (not a range's dash: "3-5%", "5%-10%", nor a code's:
#: "A-5%"), a number, a percent sign.
_ZH_NEGATIVE_PERCENT_RE = re.compile(r"(?<![\dA-Za-z.,%％])-(\d+(?:\.\d+)?)\s?[%％]")

_PER_MILLE_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?‰")
#: Mandarin: a minus sign before, or a range ("3-5‰", "3～5‰") with its first number.
_ZH_PER_MILLE_RE = re.compile(
    r"((?<![\dA-Za-z.,])-)?(?<![\d.])(\d+(?:\.\d+)?)"
    r"(?:\s?[-\u2013~\uff5e\u301c]\s?(\d+(?:\.\d+)?))?\s?‰"
)


def _says_speed(match: re.Match[str]) -> bool:
    """Whether the words just before the number already say it is a speed."""
    return bool(_SPEED_WORD_RE.search(match.string, max(0, match.start() - 4), match.start()))


def _is_no_unit(match: re.Match[str]) -> bool:
    """Whether a word after the symbol makes it no unit ("3Lサイズ", "W杯"), or the
    number is a lone 数 that ends a word before it ("変数m")."""
    word = _WORD_AFTER.get(match["symbol"])
    if word is not None and word.match(match.string, match.end()):
        return True
    start = match.start()
    return (match["kanji"] == "数" and start > 0
            and bool(_WORD_BEFORE_SEVERAL_RE.match(match.string, start - 1)))


def _number_and_symbol(match: re.Match[str]) -> tuple[str, str]:
    """The number (digits or kanji, as written) and the unit symbol of a :data:`_UNIT_RE`
    match."""
    return match["digits"] or match["kanji"], match["symbol"]


def _japanese_unit(match: re.Match[str]) -> str:
    """One :data:`_UNIT_RE` match in Japanese (no unit, "3Lサイズ", left as it is)."""
    number, symbol = _number_and_symbol(match)
    if _is_no_unit(match):
        return match[0]
    if symbol not in _SPEEDS:
        return number + _UNITS[symbol][0]
    unit, per, _ = _SPEEDS[symbol]
    return ("" if _says_speed(match) else per) + number + _UNITS[unit][0]


def _mandarin_unit(match: re.Match[str]) -> str:
    """One :data:`_UNIT_RE` match in Mandarin (no unit, "3Lサイズ", left as it is)."""
    number, symbol = _number_and_symbol(match)
    if _is_no_unit(match):
        return match[0]
    minus = match.string[max(0, match.start() - 1):match.start()] == "-"
    # Two of a measure is "两" (两公斤, 两小时), and two thousand is 两千 (两万公斤);
    # but "-两公斤" the G2P reads without its minus.
    if not minus and number[0] in "2二" and number[1:2] in ("", *_LIANG_BEFORE):
        number = "两" + number[1:]
    if symbol not in _SPEEDS:
        return number + _UNITS[symbol][1]
    unit, _, per = _SPEEDS[symbol]
    return number + _UNITS[unit][1] + ("" if _says_speed(match) else per)


def japanese_units(text: str) -> str:
    """Unit symbols after a number as their Japanese names: ``5km`` ->
    ``5キロメートル``, ``五km`` -> ``五キロメートル``, ``100km/h`` ->
    ``時速100キロメートル``, ``24h`` -> ``24時間``. A symbol with no number before it
    stays; ``W杯`` is ``ワールドカップ``. Never raises."""
    return _JA_WORLD_CUP_RE.sub("ワールドカップ", _UNIT_RE.sub(_japanese_unit, text))


def mandarin_units(text: str) -> str:
    """Unit symbols after a number as their Mandarin names: ``5km`` -> ``5公里``,
    ``五km`` -> ``五公里``, ``2kg`` -> ``两公斤``, ``100km/h`` -> ``100公里每小时``. A
    symbol with no number before it stays. Never raises."""
    return _UNIT_RE.sub(_mandarin_unit, text)


def mandarin_two(text: str) -> str:
    """A leading 2 before 千/万/亿 as ``两``, as a reader says it: ``2万`` -> ``两万``,
    ``2千万`` -> ``两千万``; ``12万``, ``0.2万``, ``-2万`` and ``第2万`` stay (the G2P
    reads 二 there). Never raises."""
    return _ZH_TWO_RE.sub("两", text)


def japanese_per_mille(text: str) -> str:
    """``5‰`` -> ``5パーミル``. Never raises."""
    return _PER_MILLE_RE.sub(r"\1パーミル", text)


def _mandarin_per_mille(match: re.Match[str]) -> str:
    """One :data:`_ZH_PER_MILLE_RE` match: minus, 千分之, the number, 到 the range's end."""
    minus, first, last = match[1], match[2], match[3]
    return ("负" if minus else "") + f"千分之{first}" + (f"到{last}" if last else "")


def mandarin_per_mille(text: str) -> str:
    """``5‰`` -> ``千分之5``, ``-5‰`` -> ``负千分之5``, ``3-5‰`` -> ``千分之3到5``
    (the G2P dropped the sign). Never raises."""
    return _ZH_PER_MILLE_RE.sub(_mandarin_per_mille, text)


def mandarin_negative_percent(text: str) -> str:
    """``-5%`` -> ``负百分之5``, the sign first as a reader says it (the G2P said
    百分之负五). Other percentages are left to the G2P. Never raises."""
    return _ZH_NEGATIVE_PERCENT_RE.sub(r"负百分之\1", text)
