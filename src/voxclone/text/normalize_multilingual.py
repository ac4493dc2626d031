"""Text normalisation for the languages other than English.

Numbers, ISO dates (``2024-03-05``), percentages and currency amounts are rewritten
the way a speaker of the language reads them:

- Spanish, French, Italian, Brazilian Portuguese: spelled out with num2words, with the
  locale's decimal comma and thousands dot (``1.234,5``; a lone ``3.5`` is read as a
  decimal too), ordinals ``1º 2ª`` / ``1er 2e``, dates as "5 de marzo de 2024".
- Hindi: num2words has no Hindi, and espeak-ng's Hindi reads digits well, so numbers
  stay digits; decimals, dates, percent and currency get Hindi words around them and
  the danda ``।`` becomes a full stop.
- Japanese: numbers become kanji numerals with num2words (``2024年3月5日`` ->
  ``二千二十四年三月五日``): pyopenjtalk reads counters right only after kanji
  (``三月`` sangatsu, ``五日`` itsuka, but ``3月`` "san tsuki"). ISO dates become 年月日,
  decimals ``三点五``, ``%`` パーセント, currency symbols units after the number.
- Mandarin: misaki's G2P reads digits, decimals, percent and negatives itself (with
  cn2an, years digit by digit), so only ISO dates (to 年月日), counts of years, commas and
  currency symbols are rewritten, and numbers too long for it (which it drops).
- Both: clock times (:mod:`~voxclone.text.cjk_clock`), units after a number and
  ``‰`` (:mod:`~voxclone.text.cjk_units`) as words: ``12:30`` -> 十二時三十分 / 12点30分;
  currency after 万/億, ranges and Japanese minutes (:mod:`~voxclone.text.cjk_numbers`):
  ``$2万-3万`` -> 二万から三万ドル / 两万到3万美元, ``5分`` -> 五ふん (pyopenjtalk: ごぶ).

Numbers of more than :data:`MAX_SPELLED_DIGITS` digits (account numbers, ids) are
read digit by digit in every language, as in English: num2words cannot say them
(Spanish fails from 28 digits, Brazilian Portuguese from 19) and Python refuses
``int()`` of more than 4,300 digits. A num2words failure on a shorter number falls
back to the digits one by one too: normalisation never raises.

Everything is table-driven; the only import-time work is compiling regexes.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

from voxclone.text import cjk_clock, cjk_numbers, cjk_units
from voxclone.text.characters import fold_digits
from voxclone.text.normalize import clean_characters

__all__ = ["MAX_SPELLED_DIGITS", "multilingual_normalizer"]

logger = logging.getLogger(__name__)

#: Longer numbers are read digit by digit (as English does).
MAX_SPELLED_DIGITS = 15

# Digit lookarounds, not \b: in Japanese and Mandarin a number touches word characters.
_ISO_DATE_RE = re.compile(r"(?<!\d)(\d{4})-(0?[1-9]|1[0-2])-(0?[1-9]|[12]\d|3[01])(?!\d)")
_DMY_DATE_RE = re.compile(r"(?<![\d/])(0?[1-9]|[12]\d|3[01])/(0?[1-9]|1[0-2])/(\d{4})(?!\d)")
_YMD_SLASH_RE = re.compile(r"(?<!\d)(\d{4})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?!\d)")
_THOUSANDS_COMMA_RE = re.compile(r"(?<=\d),(?=\d{2,3}(?!\d))")  # "1,200", Indian "1,20,000"
_SPACES_RE = re.compile(r"[ ]{2,}")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" +([.,!?;:…)])")
_NEGATIVE_RE = re.compile(r"(?<![\w.,])-(?=\d)")


def _tidy(text: str) -> str:
    text = _SPACES_RE.sub(" ", text)
    return _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text).strip()


@functools.cache
def _digit_names(lang: str) -> tuple[str, ...]:
    """num2words' words for 0-9 in ``lang``."""
    return tuple(str(num2words(digit, lang=lang)) for digit in range(10))


def _spell(digits: str, lang: str, to: str = "cardinal") -> str:
    """A run of ASCII digits in words (num2words ``lang``, ``to`` ``"cardinal"`` or
    ``"ordinal"``); more than :data:`MAX_SPELLED_DIGITS` digits, or a number num2words
    fails on, digit by digit. Never calls ``int()`` on a long run; never raises."""
    names = _digit_names(lang)
    if len(digits) <= MAX_SPELLED_DIGITS:
        try:
            # pt_BR writes "mil, duzentos": a comma would be read as a pause.
            return str(num2words(int(digits), lang=lang, to=to)).replace(",", "")
        except Exception as exc:  # num2words raises anything (Overflow-, Recursion-,
            # Key-, NotImplementedError) on numbers it cannot say
            logger.debug("num2words(%s, lang=%s, to=%s) failed (%r); reading the digits",
                         digits, lang, to, exc)
    return " ".join(names[int(digit)] for digit in digits)


# ------------------------------------------------------------ Latin-script languages


@dataclass(frozen=True)
class _LatinWords:
    """The words one Latin-script language needs around numbers."""

    num2words: str
    decimal: str  # the spoken decimal separator
    percent: str
    minus: str
    months: tuple[str, ...]
    date: str  # with {day} {month} {year}
    first_day: str  # "premier mars": day 1 is an ordinal in some languages
    currencies: dict[str, tuple[str, str, str, str]]  # unit, units, cent, cents
    cents_joiner: str  # "doce euros con cincuenta céntimos"
    ordinal_suffix: str  # regex of the ordinal mark after the digits
    feminine_mark: str  # the mark that makes the ordinal feminine ("ª"), "" for none


# fmt: off
_LATIN: dict[str, _LatinWords] = {
    "es": _LatinWords(
        "es", "coma", "por ciento", "menos",
        ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre"),
        "{day} de {month} de {year}", "",
        {"€": ("euro", "euros", "céntimo", "céntimos"),
         "$": ("dólar", "dólares", "centavo", "centavos"),
         "£": ("libra", "libras", "penique", "peniques"),
         "R$": ("real", "reales", "centavo", "centavos")},
        "con", r"\.?[ºª]", "ª"),
    "fr": _LatinWords(
        "fr", "virgule", "pour cent", "moins",
        ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
         "septembre", "octobre", "novembre", "décembre"),
        "{day} {month} {year}", "premier",
        {"€": ("euro", "euros", "centime", "centimes"),
         "$": ("dollar", "dollars", "cent", "cents"),
         "£": ("livre", "livres", "penny", "pence"),
         "R$": ("réal", "réais", "centavo", "centavos")},
        "et", r"(?:er|re|ère|ème|e)\b", ""),
    "it": _LatinWords(
        "it", "virgola", "per cento", "meno",
        ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
         "settembre", "ottobre", "novembre", "dicembre"),
        "{day} {month} {year}", "primo",
        {"€": ("euro", "euro", "centesimo", "centesimi"),
         "$": ("dollaro", "dollari", "centesimo", "centesimi"),
         "£": ("sterlina", "sterline", "penny", "pence"),
         "R$": ("real", "real", "centavo", "centavos")},
        "e", r"\.?[ºª]", "ª"),
    "pt-br": _LatinWords(
        "pt_BR", "vírgula", "por cento", "menos",
        ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
         "setembro", "outubro", "novembro", "dezembro"),
        "{day} de {month} de {year}", "primeiro",
        {"R$": ("real", "reais", "centavo", "centavos"),
         "€": ("euro", "euros", "centavo", "centavos"),
         "$": ("dólar", "dólares", "centavo", "centavos"),
         "£": ("libra", "libras", "pêni", "pence")},
        "e", r"\.?[ºª]", "ª"),
}
# fmt: on

#: A number in a Latin-script locale: "1.234.567,89", "3,5", "3.5", "42", and
#: English-style "1,234,567.89" (two or more comma groups cannot be a decimal).
_LATIN_NUM = (r"\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![.,]?\d)"
              r"|\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?(?![.,]?\d)"
              r"|\d+(?:[,.]\d+)?")
_LATIN_NUM_RE = re.compile(rf"(?<![\d,.])(?:{_LATIN_NUM})")
_LATIN_CURRENCY = r"R\$|[€$£]"
_LATIN_MONEY_BEFORE_RE = re.compile(rf"({_LATIN_CURRENCY})\s?({_LATIN_NUM})")
# (?<!\d): a match starts where a number does (no retrying from inside a long run).
_LATIN_MONEY_AFTER_RE = re.compile(rf"(?<!\d)({_LATIN_NUM})\s?({_LATIN_CURRENCY})")
_LATIN_PERCENT_RE = re.compile(rf"(?<!\d)({_LATIN_NUM})\s?%")


def _latin_parts(token: str) -> tuple[str, str]:
    """Integer and fraction digits of a locale number ("1.234,5" -> ("1234", "5"))."""
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", token):
        token = token.replace(".", "")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?", token):
        token = token.replace(",", "")
    integer, _, fraction = token.replace(",", ".").partition(".")
    return integer, fraction


def _cardinal(digits: str, words: _LatinWords) -> str:
    return _spell(digits, words.num2words)


def _latin_number(token: str, words: _LatinWords) -> str:
    integer, fraction = _latin_parts(token)
    spoken = _cardinal(integer, words)
    if not fraction:
        return spoken
    if fraction.startswith("0") or len(fraction) > 3:  # "3,05", "3,14159": digit by digit
        tail = " ".join(_cardinal(d, words) for d in fraction)
    else:
        tail = _cardinal(fraction, words)
    return f"{spoken} {words.decimal} {tail}"


def _latin_money(amount: str, symbol: str, words: _LatinWords) -> str:
    unit, units, cent, cents = words.currencies[symbol]
    integer, fraction = _latin_parts(amount)
    if len(fraction) > 2:  # not cents: "3,125 €" -> "tres coma ciento veinticinco euros"
        return f"{_latin_number(amount, words)} {units}"
    change = int(fraction.ljust(2, "0")) if fraction else 0
    one = integer.lstrip("0") == "1"
    spoken = f"{_cardinal(integer, words)} {unit if one else units}"
    if change:
        spoken += (f" {words.cents_joiner} {_cardinal(str(change), words)} "
                   f"{cent if change == 1 else cents}")
    return spoken


def _latin_ordinal(match: re.Match[str], words: _LatinWords) -> str:
    spoken = _spell(match[1], words.num2words, to="ordinal")
    if words.feminine_mark and match[2].endswith(words.feminine_mark):
        spoken = re.sub(r"o\b", "a", spoken)  # "primero" -> "primera", "terzo" -> "terza"
    return spoken


def _latin_date(day: str, month: str, year: str, words: _LatinWords) -> str:
    day_words = (words.first_day if int(day) == 1 and words.first_day
                 else _cardinal(str(int(day)), words))
    return words.date.format(day=day_words, month=words.months[int(month) - 1],
                             year=_cardinal(year, words))


def _latin_normalizer(words: _LatinWords) -> Callable[[str], str]:
    ordinal_re = re.compile(rf"\b(\d+)({words.ordinal_suffix})")

    def normalize(text: str) -> str:
        text = clean_characters(text)
        text = _ISO_DATE_RE.sub(lambda m: _latin_date(m[3], m[2], m[1], words), text)
        text = _DMY_DATE_RE.sub(lambda m: _latin_date(m[1], m[2], m[3], words), text)
        text = _NEGATIVE_RE.sub(f"{words.minus} ", text)
        text = _LATIN_MONEY_BEFORE_RE.sub(lambda m: _latin_money(m[2], m[1], words), text)
        text = _LATIN_MONEY_AFTER_RE.sub(lambda m: _latin_money(m[1], m[2], words), text)
        text = _LATIN_PERCENT_RE.sub(lambda m: f"{m[1]} {words.percent}", text)
        text = ordinal_re.sub(lambda m: _latin_ordinal(m, words), text)
        text = _LATIN_NUM_RE.sub(lambda m: f" {_latin_number(m[0], words)} ", text)
        return _tidy(text)

    return normalize


# ----------------------------------------------------------------------------- Hindi

_HINDI_MONTHS = ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त",
                 "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर")
_HINDI_CURRENCIES = {"₹": "रुपये", "Rs.": "रुपये", "Rs": "रुपये", "$": "डॉलर",
                     "€": "यूरो", "£": "पाउंड"}
_HINDI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_HINDI_CURRENCY_RE = re.compile(r"(₹|Rs\.?|[$€£])\s?(\d+(?:\.\d+)?)")
_HINDI_DECIMAL_RE = re.compile(r"(\d)\.(\d+)")
_LONG_DIGITS_RE = re.compile(rf"\d{{{MAX_SPELLED_DIGITS + 1},}}")
_DANDA_RE = re.compile(r"\s*[।॥]+")


def _normalize_hindi(text: str) -> str:
    text = clean_characters(text).translate(_HINDI_DIGITS)
    text = _DANDA_RE.sub(".", text)  # espeak-ng reads the danda as nothing: no sentence end
    text = _ISO_DATE_RE.sub(lambda m: f"{int(m[3])} {_HINDI_MONTHS[int(m[2]) - 1]} {m[1]}", text)
    text = _DMY_DATE_RE.sub(lambda m: f"{int(m[1])} {_HINDI_MONTHS[int(m[2]) - 1]} {m[3]}", text)
    text = _THOUSANDS_COMMA_RE.sub("", text)
    text = _HINDI_CURRENCY_RE.sub(lambda m: f"{m[2]} {_HINDI_CURRENCIES[m[1]]}", text)
    text = text.replace("%", " प्रतिशत")
    text = _NEGATIVE_RE.sub("माइनस ", text)
    # espeak-ng drops the point: "3.5" -> "3 दशमलव 5" with the decimals digit by digit.
    text = _HINDI_DECIMAL_RE.sub(lambda m: f"{m[1]} दशमलव {' '.join(m[2])}", text)
    # espeak-ng reads long numbers in part only: digit by digit, each one a word.
    text = _LONG_DIGITS_RE.sub(lambda m: " ".join(m[0]), text)
    return _tidy(text)


# ------------------------------------------------------------------ Japanese, Mandarin

_KANJI_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")
_INTEGER_RE = re.compile(r"\d+")
_CJK_DECIMAL_RE = re.compile(r"(\d)\.(\d+)")
_CJK_PERCENT_RE = re.compile(r"(\d)\s?[%％]")


#: Phone numbers and codes: three or more digit groups joined by hyphens, or two when
#: the first is zero-led ("03-1234-5678", "010-12345678"): digit by digit, not a range.
_CJK_CODE_RE = re.compile(r"(?<![\d.-])(?:\d+(?:-\d+){2,}|0\d+-\d+)(?![\d-])")
#: ".5": a decimal without its zero, whose point both G2Ps drop ("0.5" they read).
_BARE_DECIMAL_RE = re.compile(r"(?<![A-Za-z\d.])\.(?=\d)")
#: A minus sign: Japanese words touch numbers ("と-5度"), so only a Latin letter or a
#: digit before the hyphen makes it something else ("A-5", "5-10" is a range).
_CJK_NEGATIVE_RE = re.compile(r"(?<![\dA-Za-z.,])-(?=\d)")
#: Degrees ("℃" arrives as "°C"): read in English with the "C" otherwise.
_CJK_DEGREES_RE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?°\s?([CF](?![A-Za-z]))?")
#: "2½": vulgar fractions, which the Mandarin G2P drops and the Japanese reads "1 2".
#: (Each number pattern starts only where a number does: a long digit run is scanned
#: once, not from each of its digits.)
_VULGAR_RE = re.compile(r"(?<!\d)(\d*)([\u00bc-\u00be\u2150-\u215e])")


def _cjk_common(text: str, code_digits: dict[int, int], pause: str,
                clock: Callable[[str], str]) -> str:
    """What Japanese and Mandarin share: text cleaned, all digits ASCII (the G2Ps
    read no other: "٣" made misaki's Japanese raise), clock times read by ``clock``
    (before codes: "9:00-17:00" is no phone number), dates as 年月日, codes digit by
    digit (``code_digits``, groups joined by ``pause``)."""
    text = clock(_BARE_DECIMAL_RE.sub("0.", fold_digits(clean_characters(text))))
    text = _ISO_DATE_RE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", text)
    text = _YMD_SLASH_RE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", text)
    return _CJK_CODE_RE.sub(lambda m: pause.join(m[0].translate(code_digits).split("-")), text)


def _cjk_degrees(text: str, celsius: str, fahrenheit: str) -> str:
    """"5°C" -> "5" + ``celsius``, "5°F" -> ``fahrenheit`` with "{}" as the number."""
    return _CJK_DEGREES_RE.sub(lambda m: (fahrenheit.format(m[1]) if m[2] == "F"
                                          else m[1] + celsius), text)


def _cjk_fractions(text: str, spoken: str, mixed: str) -> str:
    """Vulgar fractions as "{denominator}{spoken}{numerator}", after a whole number
    joined by ``mixed`` ("2½" -> "2と2分の1" with "分の", "と")."""
    def fraction(match: re.Match[str]) -> str:
        top, _, bottom = unicodedata.normalize("NFKC", match[2]).partition("\u2044")
        return (match[1] + mixed if match[1] else "") + f"{bottom}{spoken}{top or 1}"
    return _VULGAR_RE.sub(fraction, text)


def _normalize_japanese(text: str) -> str:
    text = _cjk_common(text, _KANJI_DIGITS, "、", cjk_clock.japanese_clock)
    text = _cjk_degrees(_cjk_fractions(text, "分の", "と"), "度", "華氏{}度")
    # Currency before ranges (its word after the range's end: "$5-10" is 5から10ドル).
    text = cjk_numbers.japanese_currency(_THOUSANDS_COMMA_RE.sub("", text))
    text = cjk_numbers.japanese_ranges(text)
    text = cjk_units.japanese_per_mille(cjk_units.japanese_units(text))
    text = cjk_numbers.japanese_minutes(text)  # units first: "5min" is 5分
    text = _CJK_PERCENT_RE.sub(r"\1パーセント", text)
    text = _CJK_NEGATIVE_RE.sub("マイナス", text)
    # pyopenjtalk drops the point of "3.5": "3点五" (decimals read digit by digit).
    text = _CJK_DECIMAL_RE.sub(lambda m: f"{m[1]}点{m[2].translate(_KANJI_DIGITS)}", text)
    return _INTEGER_RE.sub(_kanji_number, text).strip()


def _kanji_number(match: re.Match[str]) -> str:
    digits = match[0]
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > MAX_SPELLED_DIGITS:
        return digits.translate(_KANJI_DIGITS)  # codes, ids: digit by digit
    try:
        return str(num2words(int(digits), lang="ja"))
    except Exception:  # num2words' failures have no common type
        return digits.translate(_KANJI_DIGITS)


#: Digit by digit in Mandarin: the G2P drops "〇", so zero is "零".
_HAN_DIGITS = str.maketrans("0123456789", cjk_numbers.ZH_DIGITS)
#: The longest number misaki's G2P reads; it silently drops longer ones.
_ZH_MAX_DIGITS = 16
#: A number, with its minus sign and percent sign if any; not the decimals of one
#: (".05", "3.14"), but after an abbreviation's dot ("No.18654...") it is a number.
_ZH_NUMBER_RE = re.compile(
    r"((?<![\w.,])-)?(?<!\d)(?:(?<=[A-Za-z]\.)|(?<!\.))(\d+)(?:\.(\d+))?(?!\d)(?:\s?([%％]))?")


def _mandarin_number(match: re.Match[str]) -> str:
    """A number too long for the G2P, or zero-led, digit by digit in Han (others unchanged)."""
    minus, integer, fraction, percent = match[1], match[2], match[3] or "", match[4]
    zero_led = len(integer) > 1 and integer[0] == "0"  # "007": the G2P drops the zeros
    if len(integer) <= _ZH_MAX_DIGITS and len(fraction) <= _ZH_MAX_DIGITS and not zero_led:
        return match[0]
    spoken = integer.translate(_HAN_DIGITS)
    if fraction:
        spoken += "点" + fraction.translate(_HAN_DIGITS)
    return ("百分之" if percent else "") + ("负" if minus else "") + spoken


def _normalize_mandarin(text: str) -> str:
    # Decimals, percent and negatives are read right by the G2P's own cn2an pass.
    text = _cjk_common(text, _HAN_DIGITS, "，", cjk_clock.mandarin_clock)
    text = _cjk_degrees(_cjk_fractions(text, "分之", "又"), "度", "华氏{}度")
    # Per mille before ranges: "3-5‰" is 千分之3到5.
    text = cjk_units.mandarin_per_mille(_THOUSANDS_COMMA_RE.sub("", text))
    text = cjk_units.mandarin_negative_percent(text)  # the G2P said 百分之负五
    # Currency before ranges, whose "-" the G2P reads as minus ("$5-10" -> 5到10美元).
    text = cjk_numbers.mandarin_ranges(cjk_numbers.mandarin_currency(text))
    text = cjk_numbers.mandarin_years(cjk_units.mandarin_units(text))
    # 两万 after the currencies, which need their digits ("¥2").
    return _ZH_NUMBER_RE.sub(_mandarin_number, cjk_units.mandarin_two(text)).strip()


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    **{code: _latin_normalizer(words) for code, words in _LATIN.items()},
    "hi": _normalize_hindi,
    "ja": _normalize_japanese,
    "zh": _normalize_mandarin,
}


def multilingual_normalizer(code: str) -> Callable[[str], str]:
    """The normaliser for language ``code`` (es, fr, it, pt-br, hi, ja, zh): a function
    from raw text to text whose numbers, dates, percentages and amounts are words (or
    digits the language's phonemizer reads right). The functions never raise.

    Raises:
        KeyError: ``code`` is not one of those languages (English has
            :func:`~voxclone.text.normalize.normalize_text`).
    """
    return _NORMALIZERS[code]
