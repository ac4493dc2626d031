"""Clock times (``12:30``) in Japanese and Mandarin.

The G2Ps read ``12:30`` as two numbers with a pause ("十二、三十"), and Mandarin's
read ``9:05`` as "九 零五". A reader says the time:

- Japanese: ``12:30`` -> ``12時30分``, ``9:05`` -> ``9時5分``, ``12:00`` -> ``12時``,
  ``10:30:15`` -> ``10時30分15秒``;
- Mandarin: ``12:30`` -> ``12点30分``, ``9:05`` -> ``9点零5分``, ``12:00`` -> ``12点``,
  ``10:30:05`` -> ``10点30分零5秒``, and two o'clock is ``两点``.

Only ``h:mm`` or ``h:mm:ss`` with an hour of 0-23 and minutes and seconds of 00-59 is
a time: ``3:2`` (a score), ``25:00``, ``16:9``, ``1:2:3`` (a ratio), ``10:30:75``
stay as they are. Seconds of ``00`` are not said (``9:05:00`` is ``9時5分``), as
English says "twelve o'clock" for ``12:00:00``. A range of times ("9:00-17:00",
"9:00～17:00") is read with "から" / "到", and am/pm after a time ("3:30pm") becomes
the word before it (午前/午後, 上午/下午/晚上...) unless the text already says it.
The full-width colon ``：`` counts as a colon. Hours and minutes stay ASCII digits for
the language's later number rules (in Japanese,
:func:`~voxclone.text.cjk_numbers.japanese_minutes` then writes out the 分 that
pyopenjtalk misreads: ``9時5分`` -> ``9時5ふん``, as ``十二時五分`` was read ごぶ).

A race time is no time of day: ``h:mm:ss`` with a one-digit hour right before a word
that marks a result (``で完走``, ``のタイム``, ``の記録``; ``的成绩``, ``完赛``) is a
duration: ``2:05:30で完走`` -> ``2時間5分30秒で完走``, ``2:05:30的成绩`` ->
``两小时5分30秒的成绩``. Only then: ``h:mm`` is as often minutes and seconds
(``4:30のペース``), a two-digit hour is a timestamp's (``10:30:15の記録``, a log), and
a part of the day said (``凌晨2:05:30的记录``) makes it a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["japanese_clock", "mandarin_clock"]

#: am/pm after a time ("3:30pm", "3:30 p.m."); in Japan also before it, in capitals
#: ("PM3:30"; "am 9:00" may be English "I am").
#: The seconds are any digits, checked in _spoken ("10:30:5" is no time, and must not
#: leave "10:30" to be read as one); a fourth part ("1:02:03:04") is no time either.
_CLOCK = (r"(?:(?<![A-Za-z])([AP])\.?M\.?\s?)?(?<![\d.])(?<!\d[:：])(\d{1,2})[:：](\d{2})"
          r"(?:[:：](\d+))?(?!\d)(?![:：]\d)(?:\s?([AaPp])\.?[Mm]\.?(?![A-Za-z]))?")
_CLOCK_RE = re.compile(_CLOCK)
#: Two times joined by a dash or a wave dash (the ends without their groups).
_ANY_CLOCK = re.sub(r"\((?!\?)", "(?:", _CLOCK)
_RANGE_RE = re.compile(rf"({_ANY_CLOCK})\s?[-\u2013~\uff5e\u301c]\s?({_ANY_CLOCK})")
_JA_MERIDIEM_WORDS = ("午前", "午後")
_ZH_MERIDIEM_WORDS = ("上午", "下午", "中午", "晚上", "凌晨", "早上")
#: Words right after a race time that make it a duration (the module's docstring).
_JA_RESULT_RE = re.compile(
    r"\s?(?:で(?:完走|ゴール|フィニッシュ|優勝)|の(?:(?:日本|世界|大会)?新?記録|タイム|自己ベスト))")
_ZH_RESULT_RE = re.compile(
    r"\s?(?:的好?(?:成绩|成績)|的(?:世界|全国|赛会)?(?:纪录|记录|紀錄)|完赛|完賽|跑完|夺冠|奪冠)")

#: (hour, minute, second, "a"/"p"/"" and whether a meridiem word precedes) -> spoken
#: time.
_Speaker = Callable[[int, int, int, str, bool], str]
#: (hours, minutes, seconds) -> spoken duration.
_Duration = Callable[[int, int, int], str]


def _japanese_time(hour: int, minute: int, second: int, meridiem: str, said: bool) -> str:
    """``12時30分``, ``10時30分15秒``, with 午前/午後 for am/pm unless the text already
    ``said`` it."""
    if meridiem and hour == 12:  # 12:30am is 午前0時30分, noon 午後0時 (as NHK says)
        hour = 0
    prefix = "" if said or not meridiem else ("午前" if meridiem == "a" else "午後")
    spoken = f"{prefix}{hour}時" + (f"{minute}分" if minute or second else "")
    return spoken + (f"{second}秒" if second else "")


def _mandarin_time(hour: int, minute: int, second: int, meridiem: str, said: bool) -> str:
    """``12点30分``, ``9点零5分``, ``10点30分零5秒``, ``两点``, with
    凌晨/上午/中午/下午/晚上 for am/pm unless the text already ``said`` which part of
    the day."""
    prefix = ""
    if meridiem == "a" and hour == 12:  # 12:30am is 凌晨0点30分
        hour = 0
    if meridiem == "a" and not said:
        prefix = "凌晨" if hour < 6 else "上午"
    elif meridiem == "p" and not said:
        prefix = "中午" if hour == 12 else "下午" if hour < 6 else "晚上"
    spoken = f"{prefix}{'两' if hour == 2 else hour}点"
    if minute or second:  # "12:00:15": 12点零分15秒, not 12点零0分
        spoken += f"{minute}分" if minute >= 10 else f"零{minute or ''}分"
    if second:
        spoken += f"{'零' if second < 10 else ''}{second}秒"
    return spoken


def _duration(hours: str, hour_word: str, minutes: int, seconds: int) -> str:
    """``{hours}{hour_word}5分30秒``; no 0 hours, and 0 minutes only between hours and
    seconds (``2時間0分35秒``, as results are read)."""
    spoken = f"{hours}{hour_word}" if hours != "0" else ""
    if minutes or (spoken and seconds):
        spoken += f"{minutes}分"
    return spoken + (f"{seconds}秒" if seconds else "")


def _japanese_duration(hours: int, minutes: int, seconds: int) -> str:
    """``2時間5分30秒``."""
    return _duration(str(hours), "時間", minutes, seconds)


def _mandarin_duration(hours: int, minutes: int, seconds: int) -> str:
    """``两小时5分30秒``: two hours are 两小时, as ``2h`` is."""
    return _duration("两" if hours == 2 else str(hours), "小时", minutes, seconds)


def _race_time(match: re.Match[str], duration: _Duration, result: re.Pattern[str]) -> str | None:
    """The clock ``match`` (of :data:`_CLOCK_RE`) as a duration if it is a race time: a
    one-digit hour, seconds, no am/pm, and a ``result`` word right after; else ``None``."""
    if match[1] or match[5] or not match[4] or len(match[2]) != 1:
        return None
    minutes, seconds = int(match[3]), match[4]
    if len(seconds) != 2 or minutes > 59 or int(seconds) > 59:
        return None
    if not result.match(match.string, match.end()):
        return None
    return duration(int(match[2]), minutes, int(seconds))


def _spoken(match: re.Match[str], speak: _Speaker, said: bool) -> str | None:
    """The time ``match`` (of :data:`_CLOCK_RE`) spoken, or ``None`` if it is none."""
    hour, minute, seconds = int(match[2]), int(match[3]), match[4] or "00"
    if len(seconds) != 2 or hour > 23 or minute > 59 or int(seconds) > 59:
        return None
    meridiem = (match[1] or match[5] or "").lower() if hour <= 12 else ""  # "15:00pm": 15:00
    return speak(hour, minute, int(seconds), meridiem, said)


def _clock_rules(speak: _Speaker, until: str, meridiem_words: tuple[str, ...],
                 duration: _Duration, result: re.Pattern[str]) -> Callable[[str], str]:
    """A rewrite of the times and time ranges in a text, each said by ``speak``, the
    ends of a range joined by ``until``; ``meridiem_words`` right before a time say
    its part of the day already. Race times (``result`` words after) are said by
    ``duration``."""
    def said_before(match: re.Match[str]) -> bool:
        start = match.start()
        return match.string[max(0, start - 3):start].rstrip().endswith(meridiem_words)

    def one(match: re.Match[str]) -> str:
        said = said_before(match)
        spoken = None if said else _race_time(match, duration, result)
        if spoken is None:
            spoken = _spoken(match, speak, said)
        return match[0] if spoken is None else spoken

    def pair(match: re.Match[str]) -> str:
        first, last = _CLOCK_RE.fullmatch(match[1]), _CLOCK_RE.fullmatch(match[2])
        if first is None or last is None:
            return match[0]
        start = _spoken(first, speak, said_before(match))
        end = _spoken(last, speak, False)
        if start is None or end is None:
            return match[0]
        return f"{start}{until}{end}"

    def rewrite(text: str) -> str:
        return _CLOCK_RE.sub(one, _RANGE_RE.sub(pair, text))

    return rewrite


_JAPANESE = _clock_rules(_japanese_time, "から", _JA_MERIDIEM_WORDS,
                         _japanese_duration, _JA_RESULT_RE)
_MANDARIN = _clock_rules(_mandarin_time, "到", _ZH_MERIDIEM_WORDS,
                         _mandarin_duration, _ZH_RESULT_RE)


def japanese_clock(text: str) -> str:
    """Clock times in ``text`` read in Japanese: ``12:30`` -> ``12時30分``, ``12:00``
    -> ``12時``, ``10:30:15`` -> ``10時30分15秒``, ``9:00～17:00`` -> ``9時から17時``,
    ``PM3:30`` -> ``午後3時30分``; a race time ``2:05:30で完走`` -> ``2時間5分30秒で完走``.
    Never raises."""
    return _JAPANESE(text)


def mandarin_clock(text: str) -> str:
    """Clock times in ``text`` read in Mandarin: ``12:30`` -> ``12点30分``, ``9:05`` ->
    ``9点零5分``, ``10:30:15`` -> ``10点30分15秒``, ``2:00`` -> ``两点``, ``3:30pm`` ->
    ``下午3点30分``; a race time ``2:05:30的成绩`` -> ``两小时5分30秒的成绩``. Never
    raises."""
    return _MANDARIN(text)
