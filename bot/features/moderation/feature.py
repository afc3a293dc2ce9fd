"""Automatic moderation: floods, repeated text, links and invites from new members, blocked
phrases — deleted where the platform allows, warned, escalated by the warning ladder, logged
in the audit log and told to the moderators at once. Moderators and admins are never
auto-moderated (their rights are asked from the platform when a rule fires)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.commands import Command
from bot.config import ModerationSettings
from bot.events import (
    Action,
    DeleteMessage,
    Event,
    MemberJoined,
    Message,
    Post,
    Restrict,
    Role,
    Sanction,
)
from bot.features.base import BaseFeature, EventContext, Services
from bot.features.moderation.rules import PhraseMatcher, find_invite, find_link
from bot.features.moderation.window import HELD_RULES, Window
from bot.i18n import N_, Translator
from bot.localtime import local_time
from bot.recent import Recent
from storage.identity import CommunityInfo
from storage.moderation import (
    add_warning,
    count_warnings,
    last_join,
    list_phrases,
    record_action,
)

__all__ = ["RULES", "ModerationFeature", "Target"]

TRACKED = 50_000
#: The remembered join time of a member storage knows no join of.
NEVER = datetime.min.replace(tzinfo=UTC)
QUOTE_LIMIT = 300
#: Why a message was acted on, as moderators and members read it.
RULES = {
    "flood": N_("too many messages too fast"),
    "repeat": N_("the same message again and again"),
    "link": N_("a link from a member who joined less than {hours} hours ago"),
    "invite": N_("an invite link from a member who joined less than {hours} hours ago"),
    "words": N_("a blocked phrase"),
    "ladder": N_("{count} warnings in {days} days"),
    "manual": N_("a moderator's decision"),
}
_HOLDS = HELD_RULES
#: The audit log's word for a sanction carried out.
_DONE = {
    Sanction.MUTE: "muted",
    Sanction.BAN: "banned",
    Sanction.UNMUTE: "unmuted",
    Sanction.UNBAN: "unbanned",
}


@dataclass(frozen=True, slots=True)
class Target:
    """Who is moderated, where."""

    community: CommunityInfo
    member_id: int
    name: str
    platform: str
    group_id: str
    user_id: str


class ModerationFeature(BaseFeature):
    """Automatic moderation and the warning ladder (commands in `commands.py`)."""

    name = "moderation"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        # Recent messages and the incident going on per member and rule: one incident, one
        # warning, one notice and one alert; every message of it is deleted and audited.
        self.window = Window(self.settings, TRACKED)
        self._phrases: dict[int, PhraseMatcher] = {}
        self._joins: Recent[tuple[int, int], datetime] = Recent(TRACKED)

    @property
    def settings(self) -> ModerationSettings:
        """The [moderation] settings."""
        return self.services.settings.moderation

    def commands(self) -> Sequence[Command]:
        """/warn, /warnings, /unwarn, /mod words|log|undo."""
        from bot.features.moderation.commands import moderation_commands

        return moderation_commands(self)

    async def start(self) -> None:
        """What happened before now is read back from storage per community, on first use."""
        self.window.start(self.services.clock.now())

    def forget_phrases(self, community_id: int) -> None:
        """Reload the community's blocked phrases on the next message."""
        self._phrases.pop(community_id, None)

    async def _matcher(self, community_id: int) -> PhraseMatcher:
        matcher = self._phrases.get(community_id)
        if matcher is None:
            async with self.services.database.session() as session:
                phrases = await list_phrases(session, community_id=community_id)
            matcher = self._phrases[community_id] = PhraseMatcher(phrases)
        return matcher

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """Watch members' messages; remember joins (a new member's links are held)."""
        if not self.settings.enabled:
            return ()
        key = (context.community.id, context.member_id)
        if isinstance(event, MemberJoined):
            self._joins.put(key, event.at)
            return ()
        if not isinstance(event, Message) or event.author.is_bot:
            return ()
        await self.window.restore(self.services.database, context.community.id, event.sent_at)
        if event.place.platform not in self.settings.rate_exempt_platforms:
            await self.window.recall(self.services.database, self.services.writer, key, event)
        rule, detail = await self._check(event, context, key)
        if rule is None:
            return ()
        place = event.place
        role = await self.services.dispatcher.role_of(
            place.platform, place.group_id, event.author.user_id
        )
        if role is not None and role >= Role.MODERATOR:
            return ()
        target = Target(
            context.community,
            context.member_id,
            event.author.name,
            place.platform,
            place.group_id,
            event.author.user_id,
        )
        return await self._incident(event, target, rule, detail, context.tr)

    async def _check(
        self, event: Message, context: EventContext, key: tuple[int, int]
    ) -> tuple[str | None, str]:
        s, at = self.settings, event.sent_at
        rated = event.place.platform not in s.rate_exempt_platforms
        flooding = rated and self.window.floods.add(key, at)
        repeating = rated and self.window.repeats.add(key, event.text, at)
        matcher = self._phrases.get(context.community.id) or await self._matcher(
            context.community.id
        )
        phrase = matcher.find(event.text)
        if phrase is not None:
            return "words", phrase
        if s.new_member_hours and (s.hold_invites or s.hold_links):
            invite = find_invite(event.text) if s.hold_invites else None
            link = None if invite or not s.hold_links else find_link(event.text)
            if (invite or link) and await self._is_new(key, at):
                return ("invite", invite) if invite else ("link", link or "")
        if repeating:
            return "repeat", ""
        if flooding:
            return "flood", ""
        return None, ""

    async def _is_new(self, key: tuple[int, int], at: datetime) -> bool:
        since = at - timedelta(hours=self.settings.new_member_hours)
        joined = self._joins.get(key)
        if joined is None:  # not seen joining since this process started: ask storage once
            async with self.services.database.session() as session:
                last = await last_join(session, community_id=key[0], member_id=key[1])
            joined = NEVER if last is None else last
            self._joins.put(key, joined)  # later joins seen live replace it
        return joined >= since

    def reason(self, rule: str, tr: Translator, **values: object) -> str:
        """Why, in the community's language."""
        s = self.settings
        return tr(RULES[rule]).format(hours=s.new_member_hours, days=s.warning_days, **values)

    async def _incident(
        self, event: Message, target: Target, rule: str, detail: str, tr: Translator
    ) -> list[Action]:
        now = event.sent_at
        key = (target.community.id, target.member_id, rule)
        last = self.window.incidents.get(key)
        reason = self.reason(rule, tr)
        actions: list[Action] = [DeleteMessage(event.place, event.message_id, reason)]
        held = rule in _HOLDS
        if last is not None and now - last < self.window.lasts(rule):
            # The same incident goes on: no new warning, notice or alert, but every deletion
            # is in the audit log and can be undone on its own.
            await self._audit(event, target, rule, detail, reason, warned=False)
            return actions
        self.window.incidents.put(key, now)
        audit, warning = await self._audit(event, target, rule, detail, reason, warned=not held)
        notice = (
            N_("{name}, your message is held for the moderators: {reason}.")
            if held
            else N_("{name}, your message was removed: {reason}. This is a warning.")
        )
        actions.append(Post(event.place, tr(notice).format(name=target.name, reason=reason)))
        if rule == "flood":
            actions += await self._repeat_flood(target, last, now, warning, tr)
        if warning is not None:
            actions += await self.escalate(target, warning, now, tr)
        await self._alert(target, audit, rule, event, tr)
        return actions

    async def _audit(
        self,
        event: Message,
        target: Target,
        rule: str,
        detail: str,
        reason: str,
        *,
        warned: bool,
    ) -> tuple[int, int | None]:
        """The audit entry of a deleted or held message (and its warning if `warned`):
        (entry id, warning id). Deletions are rare: one small transaction each."""
        now = event.sent_at
        async with self.services.database.session() as session, session.begin():
            warning = None
            if warned:
                warning = await add_warning(
                    session,
                    community_id=target.community.id,
                    member_id=target.member_id,
                    by_member_id=None,
                    reason=reason,
                    now=now,
                )
            audit = await record_action(
                session,
                community_id=target.community.id,
                member_id=target.member_id,
                by_member_id=None,
                kind="held" if rule in _HOLDS else "deleted",
                rule=rule,
                reason=reason + (f": {detail}" if detail else ""),
                platform=target.platform,
                group_id=target.group_id,
                channel_id=event.place.channel_id,
                message_id=event.message_id,
                # Kept like message text (retention, /forgetme), so undo can put it back.
                text=event.text[:4000]
                if self.services.settings.activity.store_message_text
                else None,
                warning_id=warning,
                at=now,
            )
        return audit, warning

    async def _repeat_flood(
        self,
        target: Target,
        before: datetime | None,
        now: datetime,
        warning: int | None,
        tr: Translator,
    ) -> list[Action]:
        """A flood soon after the member's previous one (`before`) mutes them."""
        s = self.settings
        if before is None or now - before > timedelta(minutes=s.flood_repeat_minutes):
            return []
        return await self.sanction(
            target, Sanction.MUTE, now, "flood", warning, tr, minutes=s.flood_mute_minutes
        )

    async def escalate(
        self, target: Target, warning: int, now: datetime, tr: Translator
    ) -> list[Action]:
        """The warning ladder after a new warning: mute at `mute_after` warnings, ban (or ask
        the moderators) at `ban_after`."""
        s = self.settings
        async with self.services.database.session() as session:
            count = await count_warnings(
                session,
                community_id=target.community.id,
                member_id=target.member_id,
                since=now - timedelta(days=s.warning_days),
            )
        if count >= s.ban_after:
            kind = Sanction.BAN if s.auto_ban else None
            return await self.sanction(target, kind, now, "ladder", warning, tr, count=count)
        if count >= s.mute_after:
            return await self.sanction(
                target,
                Sanction.MUTE,
                now,
                "ladder",
                warning,
                tr,
                minutes=s.mute_minutes,
                count=count,
            )
        return []

    async def sanction(
        self,
        target: Target,
        sanction: Sanction | None,
        now: datetime,
        rule: str,
        warning: int | None,
        tr: Translator,
        *,
        minutes: int | None = None,
        count: int = 0,
        by: int | None = None,
    ) -> list[Action]:
        """Mute or ban (None: ask the moderators to decide on a ban), with its audit entry and
        an alert to the moderators."""
        until = None if minutes is None else now + timedelta(minutes=minutes)
        reason = self.reason(rule, tr, count=count)
        kind = "reported" if sanction is None else _DONE[sanction]
        async with self.services.database.session() as session, session.begin():
            audit = await record_action(
                session,
                community_id=target.community.id,
                member_id=target.member_id,
                by_member_id=by,
                kind=kind,
                rule=rule,
                reason=reason,
                platform=target.platform,
                group_id=target.group_id,
                warning_id=warning,
                until=until,
                at=now,
            )
        if sanction is None:
            text = tr(
                N_(
                    "🛡️ {name} has {count} warnings in {days} days. Automatic bans are off: "
                    "decide whether to ban them. (#{id})"
                )
            ).format(name=target.name, count=count, days=self.settings.warning_days, id=audit)
            await self.services.dispatcher.notify_moderators(target.community, text)
            return []
        if by is None:
            if until is not None:
                text = tr(
                    N_("🛡️ Hearth muted {name} until {until}: {reason}. Undo: /mod undo {id}")
                ).format(
                    name=target.name,
                    until=local_time(until, target.community.timezone),
                    reason=reason,
                    id=audit,
                )
            else:
                text = tr(N_("🛡️ Hearth {what} {name}: {reason}. Undo: /mod undo {id}")).format(
                    what=tr(N_("banned")), name=target.name, reason=reason, id=audit
                )
            await self._notify(target.community, text)
        return [
            Restrict(
                target.platform, target.group_id, target.user_id, sanction, until, reason[:200]
            )
        ]

    async def _alert(
        self, target: Target, audit: int, rule: str, event: Message, tr: Translator
    ) -> None:
        quote = " ".join(event.text.split())
        if len(quote) > QUOTE_LIMIT:
            quote = quote[: QUOTE_LIMIT - 1] + "…"
        what = N_("held") if rule in _HOLDS else N_("deleted")
        text = tr(
            N_(
                "🛡️ Hearth {what} a message from {name} in #{channel} ({reason}): “{text}” "
                "Undo: /mod undo {id}"
            )
        ).format(
            what=tr(what),
            name=target.name,
            channel=event.place.channel_id,
            reason=self.reason(rule, tr),
            text=quote,
            id=audit,
        )
        # A held message waits for the moderators' review: they are told even without alerts.
        await self._notify(target.community, text, always=rule in _HOLDS)

    async def _notify(self, community: CommunityInfo, text: str, *, always: bool = False) -> None:
        if always or self.settings.alerts:
            await self.services.dispatcher.notify_moderators(community, text)
