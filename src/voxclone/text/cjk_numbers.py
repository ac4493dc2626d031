"""Japanese and Mandarin: currency amounts, ranges (of numbers with 万/千/億, counters
or kanji numerals), the minutes that the Japanese G2P misreads, and the counts of years
that the Mandarin one reads as years (:func:`mandarin_years`).

Currency: the word goes after the whole number, multipliers included, as a reader
says it: ``$2万`` -> ``2万ドル`` / ``2万美元`` (it was "2美元万", "two dollars ten
thousand"), ``¥1億2000万`` -> ``1億2000万円``. A symbol before a range is said once,
after its end: ``$5-10`` -> ``5-10ドル`` / ``5-10美元`` (and ``$5-$10`` too), which the
range rule then reads with から / 到.

Ranges: ``3-5`` is ``3から5`` / ``3到5``, and so is a range whose ends have 万/千/億
(``2万-3万`` -> ``2万から3万`` / ``2万到3万``; the dash was read as minus) or a
currency word (``2万円-3万円`` -> ``2万円から3万円``). The dash must have a number after
it. So are ranges of counted things, the counter after both ends (``5人-10人`` ->
``5人から10人`` / ``5人到10人``, ``3本～5本``, ``5km-10km``, ``5%-10%``; the dash was
read as minus), of dates (``3月5日-4月10日``), and of numbers in kanji (``二万-三万``,
``五～十人`` -> ``五から十人`` / ``五到十人``; the dash was silent or a pause). A minus
sign may lead a range (``-5～10度`` -> ``-5から10度``). Not ranges: ``5人-10`` (a counter
on one end only), a chain (``三-五-十``, an address; ``3-5-7`` is a code), a zero-led
kanji number (``〇三-一二三四``, a phone number), kanji glued to Latin letters or a dash.

Minutes (Japanese): pyopenjtalk reads some kanji numbers before 分 as 分 "a tenth"
(ぶ) or 十分 "enough": 五分 ごぶ, 二分 にぶん, 八分 はちぶ, 九分 くぶ, 十二分 じゅうにぶん
and 十分 じゅうぶん (before です, 待って...), so ``5分30秒`` was heard as "half, thirty
seconds". Checked for 0-1000 in 28 contexts: only 2, 5, 8, 9, 10 and 12 are misread
(十五分, 四十五分, 三分 are read ふん/ぷん), and every number ending in 8 is read はち
ふん (十八分 じゅうはちふん) where はっぷん is usual. Written with ASCII digits, these
are minutes, so :func:`japanese_minutes` writes the reading out: ``5分`` -> ``5ふん``
(五ふん, ごふん), ``10分`` -> ``ジュップン`` (the hiragana じゅっぷん made 後 あと and 間
ま), ``8分`` -> ``ハップン``, ``18分`` -> ``10ハップン`` (十ハップン, じゅうはっぷん). A
decimal whose last digit is 2, 5, 8 or 9 is written with ふん too (``2.5分`` ->
``2.5ふん``), and so is a zero-padded minute (``9時05分`` -> ``9時5ふん``: 〇五分 was
read ごぶ). 分 stays where it means a tenth or a part: after 割 (``3割5分``), 寸, 尺
or a temperature's 度 (``37度5分``), before 厘 (``9分9厘``), in ``5分5分`` and in
fractions (``5分の1``); before a Han character, only if that starts a minute word
(``5分後``, ``5分間``, ``5分以内`` change; ``5分咲き``, ``7分袖``, ``2分探索``, ``5分野`` stay),
and in the verb 二分する, "to split in two" (``2分する``, ``2分される``; ``2分しか`` and
``2分したら`` are minutes). Kanji written by the user (``五分五分``) is never changed.
"""

from __future__ import annotations

import re

__all__ = ["japanese_currency", "japanese_minutes", "japanese_ranges",
           "mandarin_currency", "mandarin_ranges", "mandarin_years"]

_JA_CURRENCIES = {"¥": "円", "￥": "円", "$": "ドル", "€": "ユーロ", "£": "ポンド"}
_ZH_CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}

#: The multipliers that belong to a number written with digits ("2万", "1億2000万",
#: "3百万").
_MULTIPLIERS = "百千万萬亿億兆"
#: A number with its multipliers: "2", "2.5万", "1万5000", "1億2000万". Each digit run
#: but the first follows a multiplier, so the pattern cannot backtrack exponentially.
_NUMBER = rf"\d+(?:\.\d+)?(?:[{_MULTIPLIERS}]+\d+(?:\.\d+)?)*[{_MULTIPLIERS}]*"
_DASH = r"\s?[-\u2013~\uff5e\u301c]\s?"
#: Kanji numerals, and those a number in kanji may start with (not 万 or 億 alone).
_KANJI = "〇零一二三四五六七八九十百千万萬亿億兆两兩"
_KANJI_LEAD = "〇零一二三四五六七八九十百千两兩"
#: Not inside a number: no digit, point or multiplier before (a long "1万1万..." run
#: is then scanned from its start only), nor a dash after a number, letter, point,
#: comma or percent sign ("3-5-7", "1万-2万-3万", "A-5"); a minus sign is fine
#: ("-5～10度").
_START = rf"(?<![\d.{_MULTIPLIERS}])(?<![\dA-Za-z.,%％{_KANJI}]-)"
#: A currency symbol, the amount, and a range's end with the same symbol or none
#: ("$5-10", "$5-$10").
_CURRENCY_RE = re.compile(
    rf"([¥￥$€£])\s?({_NUMBER})(?:({_DASH})\1?({_NUMBER}))?")
#: A number in kanji: a whole run of numerals, not glued to Latin letters, digits or
#: a dash ("MiG二一", a chain "三-五-十", "-五"), nor zero-led ("〇三-", a phone number).
_KANJI_NUMBER = (rf"(?<![A-Za-z\d.\-{_KANJI}])(?=[{_KANJI_LEAD}])(?![〇零][{_KANJI}])"
                 rf"[{_KANJI}]+")
#: A range's second end (digits or kanji), looked at from after the dash.
_SECOND = rf"(?:{_NUMBER}|[{_KANJI_LEAD}][{_KANJI}]*)"
#: A counter or unit after a range's first end: "人", "个", "ヶ月", "ページ", "km",
#: "%"; not a numeral ("五-十" is a range of numbers).
_COUNTER = (rf"(?![{_KANJI}])"
            r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々A-Za-z%％]{1,6}")


def _range_re(words: dict[str, str]) -> re.Pattern[str]:
    """A range's first end and its dash: a number in digits or kanji with a currency
    word of ``words`` (any number after the dash), a date word (年月日: a date after
    it, "3月5日-4月10日"), a counter (the same counter after the second end: "5人-10人",
    not "5人-10") or nothing (a number after the dash). Not the first two ends of a
    chain ("三-五-十", an address)."""
    currency = "|".join(sorted(set(words.values()), key=len, reverse=True))
    first = rf"(?:{_START}{_NUMBER}|{_KANJI_NUMBER})"
    suffix = rf"(?:{currency}|(?P<date>[年月日])|(?P<counter>{_COUNTER}))?"
    second = (rf"(?(date)(?={_SECOND}[年月日])|(?(counter)(?={_SECOND}(?P=counter))"
              rf"|(?=[\d{_KANJI_LEAD}])))")
    chain = rf"(?![\d{_KANJI}.]+{_DASH}[\d{_KANJI_LEAD}])"
    return re.compile(rf"({first}{suffix}){_DASH}{second}{chain}")


_JA_RANGE_RE = _range_re(_JA_CURRENCIES)
_ZH_RANGE_RE = _range_re(_ZH_CURRENCIES)


def _currency(text: str, words: dict[str, str]) -> str:
    """Each currency symbol's word (``words``) after its amount or range."""
    def spoken(match: re.Match[str]) -> str:
        symbol, amount, dash, last = match.groups()
        return amount + (f"{dash}{last}" if last else "") + words[symbol]
    return _CURRENCY_RE.sub(spoken, text)


def japanese_currency(text: str) -> str:
    """Currency symbols as the word after the amount: ``$2万`` -> ``2万ドル``, ``¥2万``
    -> ``2万円``, ``€3億`` -> ``3億ユーロ``, ``$5-10`` -> ``5-10ドル``. Never raises."""
    return _currency(text, _JA_CURRENCIES)


def mandarin_currency(text: str) -> str:
    """Currency symbols as the word after the amount: ``$2万`` -> ``2万美元``, ``¥2万``
    -> ``2万元``, ``€3亿`` -> ``3亿欧元``, ``$5-10`` -> ``5-10美元``. Never raises."""
    return _currency(text, _ZH_CURRENCIES)


def japanese_ranges(text: str) -> str:
    """Ranges read with から: ``5-10人`` -> ``5から10人``, ``2万-3万`` ->
    ``2万から3万``, ``2万円～3万円`` -> ``2万円から3万円``, ``5人-10人`` ->
    ``5人から10人``, ``二万-三万`` -> ``二万から三万``. Never raises."""
    return _JA_RANGE_RE.sub(r"\1から", text)


def mandarin_ranges(text: str) -> str:
    """Ranges read with 到: ``5-10人`` -> ``5到10人``, ``2万-3万`` -> ``2万到3万``,
    ``2万元-3万元`` -> ``2万元到3万元``, ``5个-10个`` -> ``5个到10个``, ``五-十`` ->
    ``五到十``. Never raises."""
    return _ZH_RANGE_RE.sub(r"\1到", text)


_NUMERALS = "〇一二三四五六七八九十"
#: Han characters after 分 that keep it minutes ("5分後", "5分間", "5分以内",
#: "9時5分発"); any other Han character may make a word with 分 ("5分咲き", "5分野").
_MINUTE_WORDS = ("後前間遅以程弱強未超足待経過半頃位近余刻歩先早短延毎置単台内休停走"
                 "乗続掛要少長差圏枠発着開現更終締閉集到" + _NUMERALS)
#: A number in ASCII digits before 分, not where 分 is a tenth or a part (the module's
#: notes).
_JA_MINUTES_RE = re.compile(
    rf"(?<![\d.割寸尺分])(?<![\d{_NUMERALS}]度)(\d+)(?:\.(\d+))?分"
    rf"(?!の\s?[\d{_NUMERALS}百千万]|[\d{_NUMERALS}]+[分厘]|づき|がゆ)"
    rf"(?![\u3400-\u9fff\uf900-\ufaff](?<![{_MINUTE_WORDS}]))")
#: Numbers whose 分 pyopenjtalk reads ぶ or ぶん (ごぶ, にぶん, くぶ, じゅうにぶん).
_READ_BU = frozenset({"2", "5", "9", "12"})
#: After "2分": the verb 二分する, "to split in two" (する, される, させる, した,
#: します; not "2分しか", "2分したら", "2分して", "2分しない", which are minutes).
_SPLIT_VERB_RE = re.compile(r"す[るれ]|さ[れせ]|し(?:た(?!ら)|ま)")


def _minutes(match: re.Match[str]) -> str:
    """One :data:`_JA_MINUTES_RE` match, with 分 written as read where pyopenjtalk
    misreads it, and a zero-padded minute without its zero ("05分" was 〇五分, ごぶ)."""
    integer, fraction = match[1], match[2]
    if integer == "2" and fraction is None and _SPLIT_VERB_RE.match(match.string,
                                                                    match.end()):
        return match[0]  # 二分する, read にぶんする
    if len(integer) == 2 and integer[0] == "0":  # "9時05分": not read digit by digit
        integer = integer[1]
    if fraction is None:
        if integer == "10":
            return "ジュップン"  # 十分 is also じゅうぶん, "enough"
        if integer[-1] == "8" and integer[0] != "0" and len(integer) <= 15:
            # はっぷん: 八分 was はちぶ, 十八分 じゅうはちふん; "18" -> "10ハップン" (a
            # longer number is read digit by digit: normalize_multilingual's limit)
            return (str(int(integer) - 8) if integer != "8" else "") + "ハップン"
        return integer + ("ふん" if integer in _READ_BU else "分")
    return f"{integer}.{fraction}" + ("ふん" if fraction[-1] in "2589" else "分")


def japanese_minutes(text: str) -> str:
    """Minutes in ASCII digits that pyopenjtalk would misread, their 分 as read:
    ``5分30秒`` -> ``5ふん30秒``, ``約5分`` -> ``約5ふん``, ``10分後`` -> ``ジュップン後``,
    ``8分`` -> ``ハップン``, ``18分`` -> ``10ハップン``, ``2.5分`` -> ``2.5ふん``; ``15分``,
    ``3分``, ``3割5分``, ``5分の1``, ``5分咲き``, ``2分する`` and ``五分`` stay. Never
    raises."""
    return _JA_MINUTES_RE.sub(_minutes, text)


#: Han digits for Mandarin numerals, 0-9 (zero as 零: the G2P drops "〇").
ZH_DIGITS = "零一二三四五六七八九"
#: A count of years: two digits, a round hundred, or 2 (两年; not 第2年 "the second
#: year" nor 2年级 "second grade", 二).
_ZH_COUNT = r"(?:[1-9]\d|[1-9]00|(?<!第)2(?!年[级級]))(?!\d)"
#: Mandarin: a count of years. misaki's G2P reads every number before 年 as a year,
#: digit by digit ("10年前" was 一零年前, "one zero years ago"; "2年前" 二年前, where
#: 两年前 is said). A count (:data:`_ZH_COUNT`) is read as one where the words around it
#: say so: after 第, 近, 约, 每, 了, 达, 过(去), 这, 几, 满, 整... or a range's 到
#: ("第10年", "过去20年", "工作了30年", "5到10年", "5年到10年"), or before 代, 前, 后,
#: 间, 内, 以, 来, 多, 余, 左右, 里, 半, 级, 期 ("80年代", "10年前", "20年来", "10年期").
#: Elsewhere it may be a year cut short ("98年出生" is 九八年), so it stays as the G2P
#: reads it; so do zero-led numbers ("08年"), other numbers of three digits, and a
#: number after 自, 从, 于 or 在, which name a point in time ("从98年以来").
_ZH_YEARS_RE = re.compile(
    r"(?:(?:(?<=[第近约約每了达達过過去这這那几幾数數头頭前后後满滿整足少多花用有])"
    r"|(?<=[\d年][到至]))"
    rf"(?P<after>{_ZH_COUNT})(?=年)"
    rf"|(?<![\d.自从從于於在])(?P<before>{_ZH_COUNT})"
    r"(?=年(?:[代前后後间間内內以来來多余餘里裡半级級期]|左右)))")


def _mandarin_count(digits: str) -> str:
    """A count of years (:data:`_ZH_COUNT`) in Han numerals: 2 -> 两, 10 -> 十, 25 ->
    二十五, 300 -> 三百."""
    if digits == "2":
        return "两"
    if digits.endswith("00"):
        return ZH_DIGITS[int(digits[0])] + "百"
    tens, units = int(digits[0]), int(digits[1])
    return ("" if tens == 1 else ZH_DIGITS[tens]) + "十" + (ZH_DIGITS[units] if units else "")


def mandarin_years(text: str) -> str:
    """Counts of years in Han numerals, where misaki would read them digit by digit
    as a year: ``10年前`` -> ``十年前``, ``过去20年`` -> ``过去二十年``, ``80年代`` ->
    ``八十年代``; ``98年出生``, ``2024年`` and ``08年`` stay. Never raises."""
    return _ZH_YEARS_RE.sub(lambda m: _mandarin_count(m[0]), text)
