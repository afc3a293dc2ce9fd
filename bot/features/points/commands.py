"""Points commands: /checkin, /rank, /leaderboard (/top), /points …, /levels …"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from bot.commands import Command, CommandCall, Param, ParamKind
from bot.events import Action, Reply, Role
from bot.features.base import resolve_member
from bot.features.points import rules
from bot.i18n import N_
from bot.localtime import local_time
from storage.points import (
    delete_level_role,
    ledger_history,
    rank_of,
    set_level_role,
    top_members,
)

if TYPE_CHECKING:
    from bot.features.points.feature import PointsFeature

__all__ = ["points_commands", "progress_bar"]

PERIODS = ("week", "month", "all")
BAR = 10
#: How a ledger reason (stored as a code) reads in `/points history`.
REASONS = {
    "message": N_("for a message"),
    "checkin": N_("for a check-in"),
    "thanks": N_("for being thanked"),
    "reaction": N_("for a reaction received"),
    "admin_give": N_("given by an admin"),
    "admin_take": N_("taken by an admin"),
}


def progress_bar(done: int, total: int) -> str:
    """A ten-cell bar: ▰▰▰▱▱▱▱▱▱▱."""
    filled = 0 if total <= 0 else min(BAR, done * BAR // total)
    return "▰" * filled + "▱" * (BAR - filled)


class PointsCommands:
    """Handlers, bound to the feature that owns the book and the curves."""

    def __init__(self, feature: PointsFeature) -> None:
        self.feature = feature
        self.services = feature.services

    async def _member(self, call: CommandCall, ref: str | None) -> tuple[int, str]:
        if ref is None:
            return call.member_id, call.event.invoker.name
        return await resolve_member(self.services.database, call, ref)

    async def checkin(self, call: CommandCall) -> Sequence[Action]:
        """Once a day: XP plus a streak bonus."""
        community, tr, at = call.community, call.tr, call.event.sent_at
        points_rules = self.feature.rules_for(community)
        day = rules.local_day(at, community.timezone)
        rule = partial(
            rules.checkin,
            rules=points_rules,
            curve=self.feature.curve_for(community),
            day=day,
            at=at,
            source=f"checkin:{day}",
        )
        applied = await self.feature.book.apply(community, call.member_id, rule)
        streak = applied.after.streak
        if not applied.changed:
            text = tr(N_("You already checked in today (day {streak} of your streak).")).format(
                streak=streak
            )
        else:
            gained = applied.after.xp - applied.before.xp
            text = tr(N_("Checked in: +{xp} XP, day {streak} of your streak.")).format(
                xp=gained, streak=streak
            )
        actions: list[Action] = [Reply(call.event.place, call.event.message_id, text)]
        name = call.event.invoker.name
        return actions + await self.feature.rewards(applied, community, call.event.place, name)

    async def rank(self, call: CommandCall) -> str:
        """Level, XP, progress, rank, reputation and streak of a member."""
        member_id, name = await self._member(call, call.args["member"])
        tr, community = call.tr, call.community
        totals, position, ranked = await self.feature.book.rank(community.id, member_id)
        level, into, needed = self.feature.curve_for(community).progress(totals.xp)
        lines = [
            tr(N_("{name} — level {level}, {xp} XP")).format(
                name=name, level=level, xp=f"{totals.xp:,}"
            ),
            tr(N_("{bar} {into}/{needed} XP to level {next}")).format(
                bar=progress_bar(into, needed), into=into, needed=needed, next=level + 1
            ),
            tr(N_("Rank #{rank} of {ranked} · reputation {rep} · check-in streak {streak}")).format(
                rank=position if totals.xp > 0 else "-",
                ranked=ranked,
                rep=totals.reputation,
                streak=rules.current_streak(
                    totals, rules.local_day(call.event.sent_at, community.timezone)
                ),
            ),
        ]
        return "\n".join(lines)

    async def leaderboard(self, call: CommandCall) -> str:
        """Top ten for the week, the month or all time, and the caller's place."""
        period = call.args["period"] or "all"
        community, tr = call.community, call.tr
        keys = dict(rules.period_keys(call.event.sent_at, community.timezone))
        key = None if period == "all" else (period, keys[period])
        await self.services.writer.flush()
        async with self.services.database.session() as session:
            top = await top_members(session, community_id=community.id, period=key)
            mine = await rank_of(
                session, community_id=community.id, member_id=call.member_id, period=key
            )
        titles = {
            "week": N_("This week's top members"),
            "month": N_("This month's top members"),
            "all": N_("Top members of all time"),
        }
        lines = [tr(titles[period])]
        if not top:
            lines.append(tr(N_("No points yet — start chatting!")))
        lines += [f"{n}. {s.name} — {s.xp:,} XP (Lv {s.level})" for n, s in enumerate(top, 1)]
        position, score, ranked = mine
        if score > 0 and all(s.member_id != call.member_id for s in top):
            lines.append(
                tr(N_("You: #{rank} of {ranked} — {xp} XP")).format(
                    rank=position, ranked=ranked, xp=f"{score:,}"
                )
            )
        return "\n".join(lines)

    async def give(self, call: CommandCall, sign: int = 1) -> Sequence[Action]:
        """An admin adds or removes XP, with a reason, into the ledger."""
        member_id, name = await self._member(call, call.args["member"])
        amount = sign * int(call.args["amount"])
        reason = call.args["reason"]
        community = call.community
        rule = partial(
            rules.adjust,
            curve=self.feature.curve_for(community),
            amount=amount,
            at=call.event.sent_at,
            actor=call.member_id,
            note=reason,
            source=f"command:{call.event.message_id}",
        )
        applied = await self.feature.book.apply(community, member_id, rule)
        delta = applied.after.xp - applied.before.xp
        text = call.tr(N_("{name}: {delta} XP (now {xp} XP, level {level}).")).format(
            name=name, delta=f"{delta:+,}", xp=f"{applied.after.xp:,}", level=applied.after.level
        )
        actions: list[Action] = [Reply(call.event.place, call.event.message_id, text)]
        return actions + await self.feature.rewards(applied, community, call.event.place, name)

    async def take(self, call: CommandCall) -> Sequence[Action]:
        """An admin removes XP (never below zero)."""
        return await self.give(call, sign=-1)

    async def history(self, call: CommandCall) -> str:
        """The member's last 20 ledger rows."""
        member_id, name = await self._member(call, call.args["member"])
        await self.services.writer.flush()
        async with self.services.database.session() as session:
            entries = await ledger_history(session, member_id=member_id)
        tr = call.tr
        lines = [tr(N_("Points history of {name}:")).format(name=name)]
        for entry in entries:
            when = local_time(entry.at, call.community.timezone)
            unit = "XP" if entry.currency == "xp" else tr(N_("rep"))
            reason = tr(REASONS[entry.reason]) if entry.reason in REASONS else entry.reason
            note = f" — {entry.note}" if entry.note else ""
            lines.append(f"{when} {entry.amount:+} {unit} {reason}{note}")
        if not entries:
            lines.append(tr(N_("Nothing yet.")))
        return "\n".join(lines)

    async def levels(self, call: CommandCall) -> str:
        """The first ten level thresholds and the level roles of this group."""
        community, tr = call.community, call.tr
        curve = self.feature.curve_for(community)
        roles = await self.feature.level_roles_of(community.id, call.event.place)
        lines = [tr(N_("XP needed for each level:"))]
        for level in range(1, 11):
            role = f" → {roles[level]}" if level in roles else ""
            lines.append(f"Lv {level}: {curve.threshold(level):,} XP{role}")
        extra = sorted(level for level in roles if level > 10)
        lines += [f"Lv {lvl}: {curve.threshold(lvl):,} XP → {roles[lvl]}" for lvl in extra]
        return "\n".join(lines)

    async def level_role(self, call: CommandCall) -> str:
        """Map a level to a platform role in this group (`off` removes the mapping)."""
        level, role, place = call.args["level"], call.args["role"], call.event.place
        try:
            return await self._set_level_role(call, level, role)
        finally:  # after the commit: a level-up meanwhile cannot keep the old roles cached
            self.feature.forget_level_roles(call.community.id, place.platform, place.group_id)

    async def _set_level_role(self, call: CommandCall, level: int, role: str) -> str:
        place = call.event.place
        async with self.services.database.session() as session, session.begin():
            if role.lower() == "off":
                await delete_level_role(
                    session,
                    community_id=call.community.id,
                    platform=place.platform,
                    group_external_id=place.group_id,
                    level=level,
                )
                return call.tr(N_("Level {level} no longer grants a role.")).format(level=level)
            await set_level_role(
                session,
                community_id=call.community.id,
                platform=place.platform,
                group_external_id=place.group_id,
                level=level,
                role_id=role,
            )
        return call.tr(N_("Reaching level {level} now grants role {role}.")).format(
            level=level, role=role
        )


def points_commands(feature: PointsFeature) -> Sequence[Command]:
    """Every points command, declared once."""
    h = PointsCommands(feature)
    member = Param("member", ParamKind.MEMBER, required=False)
    period = Param("period", required=False, choices=PERIODS)
    amount = Param("amount", ParamKind.INTEGER, minimum=1, maximum=1_000_000)
    reason = Param("reason", ParamKind.TEXT, required=False)
    who = Param("member", ParamKind.MEMBER)
    board_help = N_("Top members of the week, the month or all time.")
    return (
        Command("checkin", h.checkin, N_("Daily check-in: XP, and a bonus for a streak.")),
        Command(
            "rank", h.rank, N_("Level, XP, rank and streak of you or a member."), params=(member,)
        ),
        Command("leaderboard", h.leaderboard, board_help, params=(period,)),
        Command("top", h.leaderboard, board_help, params=(period,)),
        Command(
            "give",
            h.give,
            N_("Give XP to a member, with a reason."),
            Role.ADMIN,
            (who, amount, reason),
            group="points",
        ),
        Command(
            "take",
            h.take,
            N_("Take XP from a member, with a reason."),
            Role.ADMIN,
            (who, amount, reason),
            group="points",
        ),
        Command(
            "history",
            h.history,
            N_("The last 20 point changes of a member."),
            Role.ADMIN,
            (who,),
            group="points",
        ),
        Command("levels", h.levels, N_("XP needed for the first levels, and level roles.")),
        Command(
            "role",
            h.level_role,
            N_("Grant a role on reaching a level (role: off to stop)."),
            Role.ADMIN,
            (
                Param("level", ParamKind.INTEGER, minimum=1, maximum=1000),
                Param("role", ParamKind.ROLE),
            ),
            group="levels",
        ),
    )
