"""What a schedule posts: text, text with an image, a poll, or the next item of a rotating
list; templates with {date}, {weekday}, {community}, {top_members_week}, {new_members_week}.

Placeholders are written plainly: a format spec or conversion (``{date:x>400000}``,
``{weekday!r}``) is refused, since it could widen a post without limit. Rendering substitutes
the plain values only and stops at the post's bound (`post_limit`): a longer post is cut,
ending with a note saying so, never sent as dozens of messages.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
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
    "MAX_POST_CHARS",
    "PLACEHOLDERS",
    "ContentError",
    "build_post",
    "check_items",
    "check_length",
    "check_template",
    "local_time",
    "post_limit",
    "render_template",
    "template_values",
]

PLACEHOLDERS = ("date", "weekday", "community", "top_members_week", "new_members_week")
POLL_OPTIONS = (2, 10)
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100
ROTATION_ITEMS = (2, 500)
WRAPPED = N_("🔁 That was the whole list; it starts again from the top.")
NOBODY = N_("nobody yet")
CUT_NOTE = N_("✂️ This scheduled post was cut here: it was longer than {limit} characters.")
#: One message's most characters on each platform (others, the console: Telegram's).
MESSAGE_CHARS = {"discord": 2000, "telegram": 4096}
#: A scheduled post is at most this many messages' worth of characters.
POST_MESSAGES = 3
#: The largest bound of any platform: 3 Telegram messages (12,288 characters).
MAX_POST_CHARS = POST_MESSAGES * max(MESSAGE_CHARS.values())
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


def post_limit(platform: str) -> int:
    """The most characters one scheduled post may have on `platform` (3 messages' worth:
    12,288 on Telegram and the console, 6,000 on Discord)."""
    return POST_MESSAGES * MESSAGE_CHARS.get(platform, MESSAGE_CHARS["telegram"])


def _parse(text: str) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    """`string.Formatter().parse`, with a brace without its pair as a `ContentError`."""
    try:
        yield from string.Formatter().parse(text)
    except ValueError:
        raise ContentError(
            N_("{value} has an unmatched brace; double a brace to write it literally"),
            value=repr(text if len(text) <= 60 else text[:59] + "…"),
        ) from None


def _check_field(field: str, spec: str | None, conversion: str | None) -> None:
    if field not in PLACEHOLDERS:
        raise ContentError(
            N_("unknown placeholder {name}; you can use {allowed}"),
            name="{" + field[:40] + "}",
            allowed=", ".join("{" + name + "}" for name in PLACEHOLDERS),
        )
    if spec or conversion:
        written = "{" + field + (f"!{conversion}" if conversion else "")
        written += f":{spec}" if spec else ""
        raise ContentError(
            N_(
                "{written} is not allowed: write it plainly as {plain} (a format spec or "
                "conversion, after : or !, could make a post any length)"
            ),
            written=(written if len(written) <= 40 else written[:39] + "…") + "}",
            plain="{" + field + "}",
        )


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in _parse(text) if field is not None}


def check_template(text: str) -> set[str]:
    """The placeholders `text` uses.

    Raises:
        ContentError: an unknown placeholder (named), a placeholder with a format spec or
            conversion (named: it could widen the post), or a brace without its pair.
    """
    fields = set()
    for _, field, spec, conversion in _parse(text):
        if field is not None:
            _check_field(field, spec, conversion)
            fields.add(field)
    return fields


def check_length(texts: Iterable[str], platform: str) -> None:
    """Refuse content longer than one post may be on `platform`.

    Raises:
        ContentError: a text (or one list item) over `post_limit(platform)` characters.
    """
    limit = post_limit(platform)
    for text in texts:
        if len(text) > limit:
            raise ContentError(
                N_("a scheduled post can have at most {limit} characters; this one has {count}"),
                limit=f"{limit:,}",
                count=f"{len(text):,}",
            )


def render_template(text: str, values: Mapping[str, str], *, limit: int) -> str:
    """`text` with its placeholders filled in, at most ``limit + 1`` characters (one more
    than `limit` shows the whole would not fit); the work stops there, however long the
    template or its values.

    Raises:
        ContentError: the template has a placeholder `check_template` refuses (a schedule
            stored before the check, or written to the database directly).
    """
    parts: list[str] = []
    size = 0
    for literal, field, spec, conversion in _parse(text):
        parts.append(literal)
        size += len(literal)
        if field is not None:
            _check_field(field, spec, conversion)
            value = values.get(field, "")
            parts.append(value)
            size += len(value)
        if size > limit:
            break
    return "".join(parts)[: limit + 1]


def _cut(text: str, limit: int, tr: Translator) -> str:
    """`text`, or its first part with a note saying it was cut, in at most `limit` chars."""
    if len(text) <= limit:
        return text
    note = tr(CUT_NOTE).format(limit=f"{limit:,}")
    return text[: max(0, limit - len(note) - 3)].rstrip() + "…\n\n" + note


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    values: Mapping[str, str],
    tr: Translator,
    *,
    image: str | None = None,
) -> tuple[Post, str]:
    """The post for a schedule's run, and its text as recorded in the run.

    `values` fill the placeholders. A text longer than `post_limit` of the platform is cut
    there with a note; a poll's question and options are cut to the platforms' limits.
    `image` is the schedule's image as checked for this run (`images.resolve_image`); a
    schedule's stored image is never posted unchecked.

    Raises:
        ContentError: the stored content has a placeholder Hearth will not fill.
    """
    target = Place(schedule.platform, schedule.group_id, schedule.channel_id, schedule.thread_id)
    limit = post_limit(schedule.platform)
    if schedule.kind == "poll":
        question = _short(
            render_template(schedule.text, values, limit=POLL_QUESTION_LIMIT), POLL_QUESTION_LIMIT
        )
        options = tuple(
            _short(render_template(option, values, limit=POLL_OPTION_LIMIT), POLL_OPTION_LIMIT)
            for option in schedule.items[: POLL_OPTIONS[1]]
        )
        recorded = "\n".join([question, *(f"{n}. {o}" for n, o in enumerate(options, 1))])
        return Post(target, "", poll=Poll(question, options)), recorded
    if schedule.kind == "rotate":
        index = schedule.position % len(schedule.items)
        text = render_template(schedule.items[index], values, limit=limit)
        if schedule.position and index == 0:
            wrapped = tr(WRAPPED)
            text = f"{_cut(text, limit - len(wrapped) - 2, tr)}\n\n{wrapped}"
        else:
            text = _cut(text, limit, tr)
        return Post(target, text), text
    text = _cut(render_template(schedule.text, values, limit=limit), limit, tr)
    return Post(target, text, image=image if schedule.kind == "image" else None), text
