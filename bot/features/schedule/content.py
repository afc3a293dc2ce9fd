"""What a schedule posts: text, text with an image, a poll, or the next item of a rotating
list; templates with {date}, {weekday}, {community}, {top_members_week}, {new_members_week}."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.events import Place, Poll, Post
from bot.features.points.rules import period_keys
from bot.features.schedule.triggers import ScheduleProblem
from bot.i18n import N_, Translator
from storage.activity import count_member_events
from storage.database import Database
from storage.identity import CommunityInfo
from storage.points import top_members
from storage.schedule import ScheduleInfo

__all__ = [
    "PLACEHOLDERS",
    "ContentError",
    "build_post",
    "check_items",
    "check_template",
    "local_time",
    "template_values",
]

PLACEHOLDERS = ("date", "weekday", "community", "top_members_week", "new_members_week")
POLL_OPTIONS = (2, 10)
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100
ROTATION_ITEMS = (2, 500)
WRAPPED = N_("🔁 That was the whole list; it starts again from the top.")
NOBODY = N_("nobody yet")
_LOCALES = {"en": "en", "zh_Hans": "zh_Hans_CN"}
_CHINESE_COMMAS = re.compile(r"[，、]")


class ContentError(ScheduleProblem):
    """A schedule's content Hearth will not post (bad template, too few poll options…)."""


def _locale(language: str) -> str:
    return _LOCALES.get(language, "en")


def local_time(moment: datetime, timezone: str, language: str) -> str:
    """`moment` as the community reads it: ``2026-01-06 09:00 Tue`` (``周二`` in Chinese)."""
    local = moment.astimezone(ZoneInfo(timezone))
    weekday = format_date(local.date(), "EEE", locale=_locale(language))
    return f"{local:%Y-%m-%d %H:%M} {weekday}"


def _fields(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        raise ContentError(
            N_("{value} has an unmatched brace; double a brace to write it literally"),
            value=repr(text),
        ) from None


def check_template(text: str) -> set[str]:
    """The placeholders `text` uses.

    Raises:
        ContentError: an unknown placeholder (named) or a brace without its pair.
    """
    fields = _fields(text)
    for field in sorted(fields):
        if field not in PLACEHOLDERS:
            raise ContentError(
                N_("unknown placeholder {name}; you can use {allowed}"),
                name="{" + field + "}",
                allowed=", ".join("{" + name + "}" for name in PLACEHOLDERS),
            )
    try:
        text.format_map(dict.fromkeys(PLACEHOLDERS, "x"))
    except (ValueError, KeyError, IndexError):
        raise ContentError(
            N_("{value} has an unmatched brace; double a brace to write it literally"),
            value=repr(text),
        ) from None
    return fields


def check_items(kind: str, items: Iterable[str]) -> tuple[str, ...]:
    """A poll's options or a rotating list's items, checked.

    Parts are separated by ``|``; a single part written with Chinese list commas
    (``游戏、户外、睡觉`` or ``游戏，户外``) is split at them instead.

    Raises:
        ContentError: too few or too many, or an option too long for the platforms.
    """
    values = tuple(item.strip() for item in items if item.strip())
    if len(values) == 1 and _CHINESE_COMMAS.search(values[0]):
        values = tuple(part.strip() for part in _CHINESE_COMMAS.split(values[0]) if part.strip())
    low, high = POLL_OPTIONS if kind == "poll" else ROTATION_ITEMS
    if not low <= len(values) <= high:
        template = (
            N_("a poll needs {low} to {high} options separated by |, got {count}")
            if kind == "poll"
            else N_("a rotating list needs {low} to {high} items separated by |, got {count}")
        )
        raise ContentError(template, low=low, high=high, count=len(values))
    if kind == "poll":
        for option in values:
            if len(option) > POLL_OPTION_LIMIT:
                raise ContentError(
                    N_("poll option {value} is longer than {limit} characters"),
                    value=repr(option[:20] + "…"),
                    limit=POLL_OPTION_LIMIT,
                )
    for item in values:
        check_template(item)
    return values


async def template_values(
    database: Database,
    community: CommunityInfo,
    *,
    planned: datetime,
    timezone: str,
    wanted: set[str],
    tr: Translator,
) -> dict[str, str]:
    """The values of the placeholders a post uses (queries only for those it uses)."""
    local: date = planned.astimezone(ZoneInfo(timezone)).date()
    locale = _locale(community.language)
    values = {
        "date": format_date(local, "long", locale=locale),
        "weekday": format_date(local, "EEEE", locale=locale),
        "community": community.name,
    }
    async with database.session() as session:
        if "top_members_week" in wanted:
            week = dict(period_keys(planned, community.timezone))["week"]
            top = await top_members(
                session, community_id=community.id, limit=3, period=("week", week)
            )
            values["top_members_week"] = ", ".join(s.name for s in top) or tr(NOBODY)
        if "new_members_week" in wanted:
            joined = await count_member_events(
                session, community_id=community.id, kind="join", since=planned - timedelta(days=7)
            )
            values["new_members_week"] = str(joined)
    return values


def wanted_fields(schedule: ScheduleInfo) -> set[str]:
    """Every placeholder a schedule's content uses."""
    fields = _fields(schedule.text)
    for item in schedule.items:
        fields |= _fields(item)
    return fields


def build_post(
    schedule: ScheduleInfo,
    render: Callable[[str], str],
    tr: Translator,
    *,
    image: str | None = None,
) -> tuple[Post, str]:
    """The post for a schedule's run, and its text as recorded in the run.

    `image` is the schedule's image as checked for this run (`images.resolve_image`); a
    schedule's stored image is never posted unchecked.
    """
    target = Place(schedule.platform, schedule.group_id, schedule.channel_id, schedule.thread_id)
    if schedule.kind == "poll":
        question = render(schedule.text)
        options = tuple(render(option) for option in schedule.items)
        recorded = "\n".join([question, *(f"{n}. {o}" for n, o in enumerate(options, 1))])
        return Post(target, "", poll=Poll(question, options)), recorded
    if schedule.kind == "rotate":
        index = schedule.position % len(schedule.items)
        text = render(schedule.items[index])
        if schedule.position and index == 0:
            text = f"{text}\n\n{tr(WRAPPED)}"
        return Post(target, text), text
    text = render(schedule.text)
    return Post(target, text, image=image if schedule.kind == "image" else None), text
