"""Earning points from activity: messages, thanks, reactions received; level-up rewards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from bot.commands import Command
from bot.config import PointsRules
from bot.events import Action, Event, GrantRole, Message, Place, Post, ReactionAdded
from bot.features.base import BaseFeature, EventContext, Services
from bot.features.points import rules
from bot.features.points.book import Applied
from bot.features.points.curve import Curve
from bot.features.points.memory import RepeatFilter
from bot.features.points.roles import role_change
from bot.features.points.staged import StagedBook
from bot.i18n import N_, translator
from bot.overrides import points_rules
from bot.recent import Recent
from bot.text.question import looks_like_command
from bot.text.thanks import is_thanks
from storage.activity import message_author
from storage.identity import CommunityInfo, find_members, member_account
from storage.points import bot_members, level_roles, recent_message_texts

__all__ = ["PointsFeature"]

logger = logging.getLogger(__name__)
#: Messages whose author is kept for replies and reactions (older ones: read from the log).
RECENT_AUTHORS = 50_000
#: Members whose recent texts and cooldown are kept in memory (others are reloaded).
RECENT_MEMBERS = 50_000
LEVEL_UP = N_("🎉 {member} reached level {level}!")


class PointsFeature(BaseFeature):
    """XP, reputation and levels; its commands live in `bot.features.points.commands`."""

    name = "points"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.book = StagedBook(
            services.database,
            services.writer,
            lambda community, xp: self.curve_for(community).level_for(xp),
        )
        # Keyed by the community's name and `/config` settings: a change makes a new entry.
        self._curves: dict[tuple[str, object], Curve] = {}
        self._rules: dict[tuple[str, object], PointsRules] = {}
        # Only a shortcut: the cooldown itself is checked on the stored totals.
        self._next_message_xp: Recent[int, datetime] = Recent(RECENT_MEMBERS)
        self._repeats = RepeatFilter(RECENT_MEMBERS)
        self._authors: Recent[tuple[int, str, str, str], int] = Recent(RECENT_AUTHORS)
        # What level-ups and thanks look up, kept so a busy group asks the database once.
        self._roles_of: dict[tuple[int, str, str], dict[int, str]] = {}
        self._accounts: Recent[tuple[int, str], tuple[str, str] | None] = Recent(RECENT_MEMBERS)
        self._named: Recent[tuple[int, str, str], int] = Recent(RECENT_MEMBERS)
        self._bots: Recent[int, bool] = Recent(RECENT_MEMBERS)

    async def level_roles_of(self, community_id: int, place: Place) -> dict[int, str]:
        """Level → role id of the place's group (read once, until `/levels role` changes it)."""
        key = (community_id, place.platform, place.group_id)
        roles = self._roles_of.get(key)
        if roles is None:
            async with self.services.database.session() as session:
                roles = await level_roles(
                    session,
                    community_id=community_id,
                    platform=place.platform,
                    group_external_id=place.group_id,
                )
            self._roles_of[key] = roles
        return roles

    def forget_level_roles(self, community_id: int, platform: str, group_id: str) -> None:
        """A group's level roles changed: read them again at the next level-up."""
        self._roles_of.pop((community_id, platform, group_id), None)

    def commands(self) -> Sequence[Command]:
        """The points commands."""
        from bot.features.points.commands import points_commands

        return points_commands(self)

    def rules_for(self, community: CommunityInfo) -> PointsRules:
        """The community's earning rules: the config file's with its `/config` values
        (resolved once per name and settings)."""
        key = (community.name, community.overrides)
        rules_ = self._rules.get(key)
        if rules_ is None:
            rules_ = self._rules[key] = points_rules(self.services.settings, community)
        return rules_

    def curve_for(self, community: CommunityInfo) -> Curve:
        """The community's level curve (built once per community and settings)."""
        key = (community.name, community.overrides)
        curve = self._curves.get(key)
        if curve is None:
            curve = self._curves[key] = Curve(self.rules_for(community).curve)
        return curve

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        """Award points for messages and reactions received."""
        community = context.community
        points_rules = self.rules_for(community)
        if not points_rules.enabled:
            return ()
        if isinstance(event, Message):
            self._remember_author(context, event)
            if event.author.is_bot:
                return ()
            actions = list(await self._thanks(event, context, points_rules))
            actions += await self._message(event, context, points_rules)
            return actions
        if isinstance(event, ReactionAdded) and not event.reactor.is_bot:
            return await self._reaction(event, context, points_rules)
        return ()

    def _remember_author(self, context: EventContext, event: Message) -> None:
        key = (context.community.id, event.place.platform, event.place.channel_id, event.message_id)
        self._authors.put(key, context.member_id)

    async def _author_of(self, community_id: int, place: Place, message_id: str) -> int | None:
        cached = self._authors.get((community_id, place.platform, place.channel_id, message_id))
        if cached is not None:
            return cached
        async with self.services.database.session() as session:
            return await message_author(
                session,
                community_id=community_id,
                platform=place.platform,
                channel_id=place.channel_id,
                message_id=message_id,
            )

    def _earns(self, points_rules: PointsRules, channel_id: str, text: str) -> bool:
        """The text message filters before the repeat filter: no-XP channel, too short,
        command."""
        return rules.may_earn(points_rules, channel_id, text, media=False) and not (
            looks_like_command(text)
        )

    async def _repeated(self, event: Message, member: int, points_rules: PointsRules) -> bool:
        """The repeat filter; a member it does not know is first rebuilt from the log (one
        read per member after a start: what they said in the window before it)."""
        at = event.sent_at
        window = timedelta(minutes=points_rules.repeat_window_minutes)
        if self._repeats.needs_load(member, at, window):
            if self._repeats.lost(member, at):  # forgotten beyond the bound: their latest
                await self.services.writer.flush()  # messages may still wait in the batch
            async with self.services.database.session() as session:
                logged = await recent_message_texts(
                    session, member_id=member, since=at - window, until=at
                )
            self._repeats.seed(
                member,
                (
                    (text, sent_at)
                    for channel, message_id, text, sent_at in logged
                    if (channel, message_id) != (event.place.channel_id, event.message_id)
                    and self._earns(points_rules, channel, text)
                ),
                window,
            )
        return self._repeats.repeated(member, event.text, at, window)

    async def _message(
        self, event: Message, context: EventContext, points_rules: PointsRules
    ) -> list[Action]:
        member = context.member_id
        at = event.sent_at
        if event.is_media:  # a sticker or photo is judged as media: no length, no repeats
            if not rules.may_earn(points_rules, event.place.channel_id, event.text, media=True):
                return []
        elif not self._earns(points_rules, event.place.channel_id, event.text) or (
            await self._repeated(event, member, points_rules)
        ):
            return []
        ready = self._next_message_xp.get(member)
        if ready is not None and at < ready:
            return []
        # Reserve before any await: a concurrent message of the same member now waits its turn.
        self._next_message_xp.put(
            member, at + timedelta(seconds=points_rules.message_cooldown_seconds)
        )
        amount = self.services.rng.randint(points_rules.message_xp_min, points_rules.message_xp_max)
        day = rules.local_day(at, context.community.timezone)
        rule = partial(
            rules.message_xp,
            rules=points_rules,
            curve=self.curve_for(context.community),
            amount=amount,
            day=day,
            at=at,
            source=f"message:{event.message_id}",
        )
        applied = await self.book.apply(context.community, member, rule)
        if not applied.changed and applied.after.last_message_xp_at is not None:
            last = applied.after.last_message_xp_at
            self._next_message_xp.put(
                member, last + timedelta(seconds=points_rules.message_cooldown_seconds)
            )
        return await self.rewards(applied, context.community, event.place, event.author.name)

    async def _receivers(self, event: Message, context: EventContext) -> list[int]:
        """Who a thanks goes to: the author replied to and each member a mention names (one
        member per mention), in that order, each once; never the giver, never a bot."""
        community = context.community.id
        found: list[int] = []
        if event.reply_to is not None:
            author = await self._author_of(community, event.place, event.reply_to)
            if author is not None:
                found.append(author)
        platform = event.place.platform
        for ref in dict.fromkeys(event.mentions):
            named = self._named.get((community, platform, ref))
            if named is None:
                async with self.services.database.session() as session:
                    members = await find_members(
                        session, community_id=community, platform=platform, ref=ref
                    )
                if len(members) != 1:
                    continue  # nobody, or ambiguous: asked again next time
                named = members[0][0]
                self._named.put((community, platform, ref), named)
            found.append(named)
        candidates = [m for m in dict.fromkeys(found) if m != context.member_id]
        unknown = [m for m in candidates if m not in self._bots]
        if unknown:
            async with self.services.database.session() as session:
                bots = await bot_members(session, member_ids=unknown)
            for member in unknown:
                self._bots.put(member, member in bots)
        return [m for m in candidates if not self._bots.get(m)]

    async def _thanks(
        self, event: Message, context: EventContext, points_rules: PointsRules
    ) -> list[Action]:
        if not (event.reply_to or event.mentions) or not is_thanks(event.text):
            return []
        community = context.community
        day = rules.local_day(event.sent_at, community.timezone)
        rule = partial(
            rules.thanks,
            rules=points_rules,
            curve=self.curve_for(community),
            day=day,
            at=event.sent_at,
            source=f"message:{event.message_id}",
            giver=context.member_id,
        )
        actions: list[Action] = []
        for receiver in await self._receivers(event, context):
            first_today = partial(
                self.book.thanks_once, community.id, context.member_id, receiver, day, event.sent_at
            )
            applied = await self.book.apply(community, receiver, rule, first_today=first_today)
            actions += await self.rewards(applied, community, event.place, None)
        return actions

    async def _reaction(
        self, event: ReactionAdded, context: EventContext, points_rules: PointsRules
    ) -> list[Action]:
        community = context.community
        author = await self._author_of(community.id, event.place, event.message_id)
        if author is None or author == context.member_id:
            return []
        day = rules.local_day(event.at, community.timezone)
        rule = partial(
            rules.reaction_xp,
            rules=points_rules,
            curve=self.curve_for(community),
            day=day,
            at=event.at,
            source=f"reaction:{event.message_id}:{context.member_id}",
        )
        applied = await self.book.apply(community, author, rule)
        return await self.rewards(applied, community, event.place, None)

    async def rewards(
        self, applied: Applied, community: CommunityInfo, place: Place, name: str | None
    ) -> list[Action]:
        """The level-up message and the level roles when a change crossed a level (down too:
        XP taken away removes the role of the level lost)."""
        if applied.after.level == applied.before.level:
            return []
        points_rules = self.rules_for(community)
        actions: list[Action] = []
        if applied.levelled_up and points_rules.level_up_message != "off":
            if name is None:
                name = await self._display_name(place.platform, applied.after.member_id)
            template = points_rules.level_up_template or translator(community.language)(LEVEL_UP)
            target = place
            if points_rules.level_up_message == "channel":
                target = Place(place.platform, place.group_id, points_rules.level_up_channel)
            actions.append(Post(target, template.format(member=name, level=applied.after.level)))
        actions += await self._level_roles(community, place, applied, points_rules)
        return actions

    async def _account(self, platform: str, member_id: int) -> tuple[str, str] | None:
        """(platform user id, name) of the member's account on `platform`, if any."""
        key = (member_id, platform)
        if key in self._accounts:
            return self._accounts.get(key)
        async with self.services.database.session() as session:
            account = await member_account(session, member_id=member_id, platform=platform)
        self._accounts.put(key, account)
        return account

    async def _display_name(self, platform: str, member_id: int) -> str:
        account = await self._account(platform, member_id)
        return account[1] if account else str(member_id)

    async def _level_roles(
        self, community: CommunityInfo, place: Place, applied: Applied, points_rules: PointsRules
    ) -> list[Action]:
        roles = await self.level_roles_of(community.id, place)
        change = role_change(
            roles,
            applied.before.level,
            applied.after.level,
            remove_previous=points_rules.remove_previous_level_role,
        )
        if change is None:
            return []
        account = await self._account(place.platform, applied.after.member_id)
        if account is None:
            return []
        return [
            GrantRole(
                place.platform,
                place.group_id,
                account[0],
                change.grant,
                reason=f"level {applied.after.level}",
                revoke=change.revoke,
            )
        ]
