"""The earning rules as pure functions of a member's totals: easy to read, easy to test.

Each returns the new totals and the ledger entries to append, or None when nothing is earned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import PointsRules
from bot.features.points.curve import Curve
from bot.text.normalize import content_weight
from storage.points import LedgerEntry, Totals

__all__ = [
    "Change",
    "adjust",
    "checkin",
    "current_streak",
    "local_day",
    "may_earn",
    "message_xp",
    "period_keys",
    "reaction_xp",
    "thanks",
]


@dataclass(frozen=True, slots=True)
class Change:
    """New totals plus the ledger rows that explain them."""

    totals: Totals
    entries: tuple[LedgerEntry, ...]


def local_day(moment: datetime, timezone: str) -> str:
    """The calendar day of `moment` in a community's time zone, as YYYY-MM-DD."""
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def period_keys(moment: datetime, timezone: str) -> list[tuple[str, str]]:
    """The local week (starting Monday) and month that `moment` falls in, by first day."""
    local = moment.astimezone(ZoneInfo(timezone)).date()
    monday = local - timedelta(days=local.weekday())
    return [("week", monday.isoformat()), ("month", local.replace(day=1).isoformat())]


def _today(totals: Totals, day: str) -> Totals:
    """Totals with the per-day counters reset when a new local day has begun."""
    if totals.day == day:
        return totals
    return replace(totals, day=day, day_xp=0, day_reaction_xp=0)


def _gain(
    totals: Totals,
    curve: Curve,
    amount: int,
    *,
    reason: str,
    source: str,
    at: datetime,
    actor: int | None = None,
    note: str | None = None,
    counts_to_cap: bool = True,
) -> Change:
    xp = max(0, totals.xp + amount)
    applied = xp - totals.xp
    new = replace(
        totals,
        xp=xp,
        level=curve.level_for(xp),
        day_xp=totals.day_xp + (applied if counts_to_cap and applied > 0 else 0),
    )
    entry = LedgerEntry(
        totals.community_id, totals.member_id, "xp", applied, reason, source, at, actor, note
    )
    return Change(new, (entry,) if applied else ())


def may_earn(rules: PointsRules, channel_id: str, text: str, *, media: bool) -> bool:
    """Whether a message can earn XP at all (before the repeat filter and cooldown): not in
    a no-XP channel, and media by `media_xp`, text only when long enough."""
    if channel_id in rules.no_xp_channels:
        return False
    if media:
        return rules.media_xp
    return content_weight(text) >= rules.min_message_length


def message_xp(
    totals: Totals,
    rules: PointsRules,
    curve: Curve,
    *,
    amount: int,
    day: str,
    at: datetime,
    source: str,
) -> Change | None:
    """XP for a message: once per cooldown, within the daily cap."""
    totals = _today(totals, day)
    last = totals.last_message_xp_at
    if last is not None and at - last < timedelta(seconds=rules.message_cooldown_seconds):
        return None
    room = rules.daily_cap - totals.day_xp
    if room <= 0 or amount <= 0:
        return None
    change = _gain(totals, curve, min(amount, room), reason="message", source=source, at=at)
    return Change(replace(change.totals, last_message_xp_at=at), change.entries)


def reaction_xp(
    totals: Totals, rules: PointsRules, curve: Curve, *, day: str, at: datetime, source: str
) -> Change | None:
    """XP for a reaction received, within the daily reaction and overall caps."""
    totals = _today(totals, day)
    room = min(rules.reaction_daily_cap - totals.day_reaction_xp, rules.daily_cap - totals.day_xp)
    amount = min(rules.reaction_xp, room)
    if amount <= 0:
        return None
    change = _gain(totals, curve, amount, reason="reaction", source=source, at=at)
    return Change(
        replace(change.totals, day_reaction_xp=totals.day_reaction_xp + amount), change.entries
    )


def thanks(
    totals: Totals,
    rules: PointsRules,
    curve: Curve,
    *,
    day: str,
    at: datetime,
    source: str,
    giver: int,
) -> Change:
    """Reputation and XP for being thanked (the once-a-day-per-pair check is in storage)."""
    totals = _today(totals, day)
    change = _gain(
        totals,
        curve,
        rules.thanks_xp,
        reason="thanks",
        source=source,
        at=at,
        actor=giver,
        counts_to_cap=False,
    )
    rep = LedgerEntry(
        totals.community_id,
        totals.member_id,
        "rep",
        rules.thanks_reputation,
        "thanks",
        source,
        at,
        giver,
    )
    new = replace(change.totals, reputation=totals.reputation + rules.thanks_reputation)
    return Change(new, (*change.entries, rep) if rules.thanks_reputation else change.entries)


def current_streak(totals: Totals, today: str) -> int:
    """The check-in streak as it stands on `today` (a local day): 0 once a day was missed,
    i.e. when the last check-in was before yesterday."""
    if totals.last_checkin_day is None:
        return 0
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    return totals.streak if totals.last_checkin_day >= yesterday else 0


def checkin(
    totals: Totals, rules: PointsRules, curve: Curve, *, day: str, at: datetime, source: str
) -> Change | None:
    """The daily check-in: once per local day, with a bonus for consecutive days. The ledger
    source ends with the streak reached (``checkin:2026-01-11:5``) so digests of any past
    period can tell the longest streak."""
    if totals.last_checkin_day == day:
        return None
    yesterday = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    streak = totals.streak + 1 if totals.last_checkin_day == yesterday else 1
    bonus = min(rules.checkin_streak_bonus * (streak - 1), rules.checkin_streak_bonus_cap)
    totals = _today(totals, day)
    change = _gain(
        totals,
        curve,
        rules.checkin_xp + bonus,
        reason="checkin",
        source=f"{source}:{streak}",
        at=at,
        counts_to_cap=False,
    )
    return Change(replace(change.totals, streak=streak, last_checkin_day=day), change.entries)


def adjust(
    totals: Totals,
    curve: Curve,
    *,
    amount: int,
    at: datetime,
    actor: int,
    note: str | None,
    source: str,
) -> Change:
    """An admin gives (amount > 0) or takes XP; a total never goes below zero."""
    reason = "admin_give" if amount > 0 else "admin_take"
    return _gain(
        totals,
        curve,
        amount,
        reason=reason,
        source=source,
        at=at,
        actor=actor,
        note=note,
        counts_to_cap=False,
    )
