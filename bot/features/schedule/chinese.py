"""Chinese `when` expressions, read into the English forms `triggers` parses.

``每天 10:00`` / ``每日10点`` (daily), ``每周五 18:00`` / ``周五 下午6点`` / ``星期五 18:00``
(weekly; lists ``周一、周三``, ``每周一、三``, ranges ``周一至周五``), ``工作日 09:00`` (Monday
to Friday), ``周末 10:00``, ``每月1号 10:00`` / ``每月1日`` / ``每月最后一天``, ``每2小时`` /
``每30分钟`` / ``每3天`` and ``2026年12月24日 18:00``. Times are ``HH:MM``, ``10点``,
``10点半``, ``10点30分`` or ``十点``, optionally after 上午/早上/中午/下午/晚上. The input is
NFKC-normalized first, so full-width digits and ``：`` ``，`` read as their ASCII forms.

Each form has one canonical Chinese spelling, which is what a schedule stores and shows.
"""

from __future__ import annotations

import re

__all__ = ["has_chinese", "read_chinese"]

_HAN = re.compile(r"[\u4e00-\u9fff]")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_PERIOD = r"上午|早上|早晨|凌晨|中午|下午|傍晚|晚上"
_TIME = re.compile(
    rf"(?:(?P<period>{_PERIOD})\s*)?(?P<hour>{_NUMBER})\s*"
    rf"(?::\s*(?P<minute>\d{{1,2}})"
    rf"|[点點时時]\s*(?:(?P<half>半)|(?P<zh_minute>{_NUMBER})\s*分?)?\s*整?)\s*"
)
_LATE = ("下午", "傍晚", "晚上")
_DAY_NAMES = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat"}
_DAY_NAMES |= {"日": "sun", "天": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu"}
_DAY_NAMES |= {"5": "fri", "6": "sat", "7": "sun"}
_ZH_DAY = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六"}
_ZH_DAY |= {"sun": "日"}
_WEEK_PREFIX = r"(?:周|星期|礼拜|禮拜)"
_DAY = rf"{_WEEK_PREFIX}?[一二三四五六日天1-7]"
_WEEKDAYS = re.compile(
    rf"^每?个?{_WEEK_PREFIX}[一二三四五六日天1-7](?:\s*(?:[、,和及与~-]|至|到)\s*{_DAY})*$"
)
_DAILY = ("每天", "每日", "天天", "每一天")
_WORKDAYS = ("工作日", "每个工作日", "每工作日", "每周工作日")
_WEEKEND = ("周末", "每周末", "每个周末")
_MONTHLY = re.compile(
    rf"^每(?:个)?月\s*(?:(?P<day>{_NUMBER})\s*[号號日]|(?P<last>最后一天|最後一天|底))$"
)
_EVERY = re.compile(
    rf"^每隔?\s*(?P<amount>\d{{1,5}}|{_NUMBER})\s*个?\s*"
    r"(?P<unit>分钟|分鐘|小时|小時|钟头|天)$"
)
_EVERY_UNITS = {"分钟": "m", "分鐘": "m", "小时": "h", "小時": "h", "钟头": "h", "天": "d"}
_ZH_UNITS = {"m": "分钟", "h": "小时", "d": "天"}
_DATE = re.compile(
    r"^(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号號]$"
)


def has_chinese(text: str) -> bool:
    """True when `text` has Chinese characters (and so is read by `read_chinese`)."""
    return bool(_HAN.search(text))


def _number(text: str) -> int:
    """``12``, ``十二``, ``二十``, ``二十三``, ``两`` → their value."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return int("".join(str(_DIGITS[char]) for char in text))
    tens, _, ones = text.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _clock(match: re.Match[str]) -> tuple[int, int]:
    hour = _number(match["hour"])
    if match["minute"] is not None:
        minute = int(match["minute"])
    elif match["half"]:
        minute = 30
    elif match["zh_minute"]:
        minute = _number(match["zh_minute"])
    else:
        minute = 0
    period = match["period"]
    if (period in _LATE and 1 <= hour < 12) or (period == "中午" and 1 <= hour <= 3):
        hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    return hour, minute


def _weekday_spec(text: str) -> tuple[str, str] | None:
    """(English spec such as ``mon,wed`` or ``mon-fri``, canonical Chinese ``周一、周三``)."""
    if not _WEEKDAYS.match(text):
        return None
    body = re.sub(r"^每?个?", "", text)
    items = re.split(r"\s*[、,和及与]\s*", body)
    english: list[str] = []
    chinese: list[str] = []
    for item in items:
        ends = re.split(r"\s*(?:至|到|~|-)\s*", item)
        names = [_DAY_NAMES[re.sub(rf"^{_WEEK_PREFIX}", "", end)] for end in ends if end]
        if len(names) != len(ends) or not 1 <= len(names) <= 2:
            return None
        english.append("-".join(names))
        chinese.append("至".join("周" + _ZH_DAY[name] for name in names))
    return ",".join(english), "每" + "、".join(chinese)


def _days(text: str) -> tuple[list[str], str] | None:
    """The day part (everything before the time) as English words and canonical Chinese."""
    if text in _DAILY:
        return ["daily"], "每天"
    if text in _WORKDAYS:
        return ["weekly", "mon-fri"], "工作日"
    if text in _WEEKEND:
        return ["weekly", "sat,sun"], "周末"
    monthly = _MONTHLY.match(text)
    if monthly:
        if monthly["last"]:
            return ["monthly", "last"], "每月最后一天"
        day = _number(monthly["day"])
        return ["monthly", str(day)], f"每月{day}号"
    date = _DATE.match(text)
    if date:
        year, month, day = (int(date[part]) for part in ("year", "month", "day"))
        return [f"{year:04d}-{month:02d}-{day:02d}"], ""
    weekly = _weekday_spec(text)
    if weekly:
        return ["weekly", weekly[0]], weekly[1]
    return None


def _split_time(text: str) -> tuple[tuple[list[str], str], tuple[int, int]] | None:
    """The day part and the time at the end. The first split whose day part reads wins:
    周三十点 is Wednesday at ten, not "周" at thirty."""
    for start in range(1, len(text)):
        time = _TIME.fullmatch(text, start)
        days = _days(text[:start].strip()) if time is not None else None
        if time is not None and days is not None:
            return days, _clock(time)
    return None


def read_chinese(expression: str) -> tuple[list[str], str] | None:
    """`expression` (NFKC-normalized, time zone split off) as the words of the English form
    and its canonical Chinese spelling; None when it is no Chinese form Hearth knows.

    The hour and minute are passed on unchecked (``25:00``), so the English parser words the
    error as it does for English input.
    """
    text = expression.strip()
    every = _EVERY.match(text)
    if every:
        amount, unit = _number(every["amount"]), _EVERY_UNITS[every["unit"]]
        return ["every", f"{amount}{unit}"], f"每{amount}{_ZH_UNITS[unit]}"
    split = _split_time(text)
    if split is None:
        return None
    (words, canonical), (hour, minute) = split
    clock = f"{hour:02d}:{minute:02d}"
    if not canonical:  # a date: its own spelling is the canonical one
        return [*words, clock], f"{words[0]} {clock}"
    return [*words, clock], f"{canonical} {clock}"
