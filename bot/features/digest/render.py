"""A digest as a short report: headline numbers with arrows first, health checks, details.

Three markups: ``text`` (console, and Telegram, whose adapter escapes HTML itself), ``markdown``
(Discord) and ``html`` (Telegram HTML for the command line). Every name and every quoted
message is escaped for the markup, so a member called ``<b>@everyone</b>`` or ``*_~`` shows as
text; the engine also defuses ``@everyone`` and ``@here`` in everything it sends.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.config import DigestSettings
from bot.events import Card
from bot.features.digest.metrics import Report
from bot.i18n import N_, Translator
from storage.analytics import MemberCount

__all__ = ["CARD_PLATFORMS", "FORMATS", "Format", "format_for_platform", "render", "render_card"]

Format = Literal["text", "markdown", "html"]
FORMATS: tuple[Format, ...] = ("text", "markdown", "html")
GREEN, ORANGE, NEUTRAL = 0x2ECC71, 0xE67E22, 0x5865F2
NAME_LIMIT = 40
QUOTE_LIMIT = 80
_MARKDOWN = re.compile(r"([\\*_~|`>#\[\]()<:-])")
_TITLES = {
    "day": N_("Daily digest"),
    "week": N_("Weekly digest"),
    "month": N_("Monthly digest"),
}
_RULES = {
    "flood": N_("flood"),
    "repeat": N_("repeats"),
    "link": N_("links"),
    "invite": N_("invites"),
    "words": N_("blocked words"),
    "ladder": N_("warning ladder"),
}
_SEGMENTS = (
    ("new", N_("new")),
    ("active", N_("active")),
    ("at_risk", N_("at risk")),
    ("dormant", N_("dormant")),
    ("never", N_("never active")),
)

#: How each message kind is named in "Messages by kind" (`bot.events.MESSAGE_KINDS`).
_KINDS = {
    "text": N_("text"),
    "photo": N_("photos"),
    "video": N_("videos"),
    "animation": N_("GIFs"),
    "sticker": N_("stickers"),
    "voice": N_("voice messages"),
    "video_note": N_("video notes"),
    "audio": N_("audio"),
    "document": N_("files"),
    "poll": N_("polls"),
    "location": N_("locations"),
    "contact": N_("contacts"),
    "dice": N_("dice"),
    "other": N_("other media"),
}

#: Platforms whose adapters show a `Card` (a Discord embed) instead of the text.
CARD_PLATFORMS = frozenset({"discord"})


def format_for_platform(platform: str) -> Format:
    """The markup a platform's adapter expects from the engine."""
    return "markdown" if platform == "discord" else "text"


@dataclass(frozen=True, slots=True)
class _Markup:
    fmt: Format

    def text(self, value: str) -> str:
        return html.escape(value, quote=False) if self.fmt == "html" else value

    def bold(self, value: str) -> str:
        """`value` (already escaped) in bold."""
        if self.fmt == "html":
            return f"<b>{value}</b>"
        return f"**{value}**" if self.fmt == "markdown" else value

    def name(self, value: str, limit: int = NAME_LIMIT) -> str:
        """Untrusted text (a member's name, a question) shown as text in this markup."""
        value = " ".join(value.split())
        if len(value) > limit:
            value = value[: limit - 1] + "…"
        if self.fmt == "markdown":
            return _MARKDOWN.sub(r"\\\1", value)
        return html.escape(value, quote=False) if self.fmt == "html" else value


def _arrow(now: float, before: float, *, points: bool = False) -> str:
    """``▲ 3`` / ``▼ 2`` / ``＝``: the change against the previous period."""
    change = now - before
    if points:
        change = round(change * 100)
    elif isinstance(change, float):
        change = round(change, 1)
    if change == 0:
        return "＝"
    amount = f"{abs(change):g}" + (" pp" if points else "")
    return f"{'▲' if change > 0 else '▼'} {amount}"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def _people(items: Sequence[MemberCount], m: _Markup) -> str:
    return ", ".join(f"{m.name(item.name)} ({item.value})" for item in items) or "—"


def _headline(report: Report, tr: Translator, m: _Markup) -> list[str]:
    now, before = report.now, report.before
    title = tr(_TITLES[report.period.kind])
    zone = report.period.timezone
    head = f"📊 {m.text(title)} · {m.name(report.community)} · {report.period.label()} ({zone})"
    lines = [m.bold(head)]
    counts = (
        (N_("Messages"), now.messages, before.messages),
        (N_("Active members"), now.active, before.active),
        (N_("Joined"), now.flow.joined, before.flow.joined),
        (N_("Left"), now.flow.left, before.flow.left),
    )
    lines.append(" · ".join(f"{m.text(tr(label))} {a} {_arrow(a, b)}" for label, a, b in counts))
    net = f"{now.flow.net:+d}"
    lines.append(
        m.text(
            tr(N_("Net growth {net} · DAU {dau:g} · WAU {wau} · MAU {mau} · stickiness {sticky}"))
        ).format(
            net=net,
            dau=round(now.dau, 1),
            wau=now.wau,
            mau=now.mau,
            sticky=_pct(now.stickiness),
        )
    )
    return lines


def _check(mark: bool | None, line: str, m: _Markup) -> str:
    symbol = "·" if mark is None else ("✅" if mark else "⚠️")
    return f"{symbol} {m.text(line)}"


def _health(report: Report, settings: DigestSettings, tr: Translator, m: _Markup) -> list[str]:
    share = report.weekly_active_share
    retention = report.now.retention["7d"].share
    wait = report.questions.median_first_reply
    minutes = None if wait is None else wait.total_seconds() / 60
    limit = settings.target_first_reply_minutes
    return [
        m.bold(m.text(tr(N_("Health")))),
        _check(
            None if share is None else share >= settings.target_weekly_active,
            tr(N_("Weekly-active share {value} (target ≥ {target})")).format(
                value=_pct(share), target=_pct(settings.target_weekly_active)
            ),
            m,
        ),
        _check(
            None if retention is None else retention >= settings.target_retention_7d,
            tr(N_("7-day new-member retention {value} (target ≥ {target})")).format(
                value=_pct(retention), target=_pct(settings.target_retention_7d)
            ),
            m,
        ),
        _check(
            None if minutes is None else minutes <= limit,
            tr(N_("Median first reply to a question {value} (target ≤ {target})")).format(
                value="—" if minutes is None else f"{round(minutes)} min", target=f"{limit} min"
            ),
            m,
        ),
    ]


def _members(report: Report, tr: Translator, m: _Markup) -> list[str]:
    now, before = report.now.retention, report.before.retention
    parts = []
    for key, label in (("1d", N_("next day")), ("7d", N_("7 days")), ("30d", N_("30 days"))):
        cohort = now[key]
        share = cohort.share
        change = ""
        if share is not None and before[key].share is not None:
            change = " " + _arrow(share, before[key].share or 0.0, points=True)
        parts.append(f"{tr(label)} {_pct(share)} ({cohort.retained}/{cohort.size}){change}")
    counts = report.segments.counts
    groups = " · ".join(f"{tr(label)} {counts[key]}" for key, label in _SEGMENTS)
    return [
        m.text(tr(N_("Retention of new members: {values}")).format(values=" · ".join(parts))),
        m.text(
            tr(N_("Members: {total} — {groups}")).format(total=report.segments.total, groups=groups)
        ),
        m.text(tr(N_("At risk (reach out): {names}"))).format(names=_people(report.at_risk, m)),
    ]


def _activity(report: Report, tr: Translator, m: _Markup) -> list[str]:
    channels = ", ".join(f"#{m.name(c.channel_id)} ({c.messages})" for c in report.mix.channels)
    hour = report.busiest_hour
    busiest = "—" if hour is None else f"{hour:02d}:00–{hour:02d}:59"
    lines = [
        m.text(tr(N_("Top posters: {names}"))).format(names=_people(report.posters, m)),
        m.text(tr(N_("Most XP: {names}"))).format(names=_people(report.earners, m)),
        m.text(tr(N_("Most thanked: {names}"))).format(names=_people(report.thanked, m)),
        m.text(tr(N_("Top channels: {channels}"))).format(channels=channels or "—"),
    ]
    kinds = report.mix.kinds
    if any(kind != "text" for kind, _ in kinds):  # all text: nothing to tell apart
        mix = " · ".join(f"{tr(_KINDS.get(kind, _KINDS['other']))} {n}" for kind, n in kinds)
        lines.append(m.text(tr(N_("Messages by kind: {kinds}")).format(kinds=mix)))
    lines.append(m.text(tr(N_("Busiest hour (local): {hour}")).format(hour=busiest)))
    return lines


def _engagement(report: Report, tr: Translator, m: _Markup) -> list[str]:
    q = report.questions
    wait = q.median_first_reply
    median = "—" if wait is None else f"{round(wait.total_seconds() / 60)} min"
    lines = [
        m.text(
            tr(
                N_(
                    "Questions: {asked} · answered by the FAQ {faq} · by members {members} "
                    "(median first reply {median}) · unanswered by the FAQ {unanswered}"
                )
            ).format(
                asked=q.asked,
                faq=q.by_faq,
                members=q.by_members,
                median=median,
                unanswered=q.unanswered_logged,
            )
        )
    ]
    if q.top_unanswered:
        asked = "; ".join(f"“{m.name(text, QUOTE_LIMIT)}” ×{n}" for text, n in q.top_unanswered)
        lines.append(m.text(tr(N_("Top unanswered: {questions}"))).format(questions=asked))
    p, s = report.points, report.scheduled
    lines.append(
        m.text(
            tr(
                N_(
                    "Points: {xp} XP · {levels} level-ups · {checkins} check-ins · "
                    "longest streak {streak} days"
                )
            ).format(xp=p.xp, levels=report.level_ups, checkins=p.checkins, streak=p.longest_streak)
        )
    )
    lines.append(
        m.text(
            tr(N_("Scheduled posts: {posted} sent · {replies} replies · {reactions} reactions"))
        ).format(posted=s.posted, replies=s.replies, reactions=s.reactions)
    )
    lines.append(_moderation(report, tr, m))
    return lines


def _moderation(report: Report, tr: Translator, m: _Markup) -> str:
    mod = report.moderation
    rules = " · ".join(
        f"{tr(_RULES.get(rule, rule))} {count}" for rule, count in sorted(mod.automatic.items())
    )
    return m.text(
        tr(
            N_(
                "Moderation: {automatic} automatic actions ({rules}) · {warnings} warnings · "
                "{undone} undone as false positives"
            )
        ).format(
            automatic=sum(mod.automatic.values()),
            rules=rules or "—",
            warnings=mod.warnings,
            undone=mod.undone,
        )
    )


def render(report: Report, settings: DigestSettings, tr: Translator, fmt: Format = "text") -> str:
    """The digest in `fmt` markup, in the community's language."""
    m = _Markup(fmt)
    sections = (
        _headline(report, tr, m),
        _health(report, settings, tr, m),
        _members(report, tr, m),
        _activity(report, tr, m),
        _engagement(report, tr, m),
    )
    return "\n\n".join("\n".join(lines) for lines in sections)


def render_card(report: Report, settings: DigestSettings, tr: Translator) -> Card:
    """The digest as a Discord embed: the headline as title and description, each section
    a field, the accent colour green when every health check is met and orange when one is
    missed."""
    m = _Markup("markdown")
    title, *numbers = _headline(report, tr, m)
    health = _health(report, settings, tr, m)
    fields = (
        (health[0].strip("*"), "\n".join(health[1:])),
        (tr(N_("Members")), "\n".join(_members(report, tr, m))),
        (tr(N_("Activity")), "\n".join(_activity(report, tr, m))),
        (tr(N_("Questions, points and posts")), "\n".join(_engagement(report, tr, m))),
    )
    marks = [line.split(" ", 1)[0] for line in health[1:]]
    colour = ORANGE if "⚠️" in marks else GREEN if all(x == "✅" for x in marks) else NEUTRAL
    return Card(
        title=title.removeprefix("**").removesuffix("**"),
        description="\n".join(numbers),
        fields=fields,
        colour=colour,
    )
