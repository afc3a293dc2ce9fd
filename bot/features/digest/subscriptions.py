"""Subscriptions to digests by private message.

A moderator subscribes to the daily digest, an admin also to the weekly one: with
`/subscribe` in the group, or in a private chat with the bot (Telegram), where Hearth asks the
platform for the member's rights in each group it knows them from. Rights are checked again
before every digest is sent: a member who lost them is unsubscribed instead of receiving
member names and flagged messages they may no longer see.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.config import DigestSettings
from bot.delivery import Dispatcher
from bot.events import DirectMessage, Role
from bot.features.digest.periods import Kind
from bot.i18n import N_, Translator
from storage.database import Database
from storage.digest import (
    account_groups,
    account_subscriptions,
    subscribe,
    subscribers,
    unsubscribe,
)
from storage.identity import CommunityInfo, get_community

__all__ = ["CHOICES", "REQUIRED", "Subscriptions"]

logger = logging.getLogger(__name__)

#: The word members type for each digest kind.
CHOICES: dict[str, Kind] = {"daily": "day", "weekly": "week"}
#: Who may receive each digest.
REQUIRED: dict[str, Role] = {"day": Role.MODERATOR, "week": Role.ADMIN}
_NAMES = {"day": N_("daily"), "week": N_("weekly")}


class Subscriptions:
    """Who receives which digest by private message, and the commands that change it."""

    def __init__(
        self, database: Database, dispatcher: Dispatcher, settings: DigestSettings
    ) -> None:
        self.database = database
        self.dispatcher = dispatcher
        self.settings = settings

    def _offered(self) -> list[Kind]:
        offered: list[Kind] = []
        if self.settings.daily:
            offered.append("day")
        if self.settings.weekly:
            offered.append("week")
        return offered

    def wanted(self, choice: str | None, role: Role, tr: Translator) -> list[Kind] | str:
        """The kinds a member with `role` asked for (all they may have, without a choice),
        or the reason they cannot have them."""
        offered = self._offered()
        if choice is None:
            kinds = [kind for kind in offered if role >= REQUIRED[kind]]
            return kinds or tr(N_("Digests are for moderators and admins."))
        kind = CHOICES[choice]
        if kind not in offered:
            return tr(N_("The {digest} digest is turned off in Hearth's configuration.")).format(
                digest=tr(_NAMES[kind])
            )
        if role < REQUIRED[kind]:
            if kind == "week":
                return tr(N_("The weekly digest is for admins."))
            return tr(N_("The daily digest is for moderators and admins."))
        return [kind]

    @staticmethod
    def names(kinds: Sequence[str], tr: Translator) -> str:
        """'daily', 'weekly' or 'daily and weekly', translated."""
        words = [tr(_NAMES[kind]) for kind in kinds]
        if len(words) == 1:
            return words[0]
        return tr(N_("{first} and {second}")).format(first=words[0], second=words[1])

    async def add(
        self,
        community: CommunityInfo,
        member_id: int,
        platform: str,
        user_id: str,
        kinds: Sequence[str],
        now: datetime,
    ) -> None:
        """Store the subscriptions (idempotent)."""
        async with self.database.session() as session, session.begin():
            for kind in kinds:
                await subscribe(
                    session,
                    community_id=community.id,
                    member_id=member_id,
                    platform=platform,
                    user_id=user_id,
                    kind=kind,
                    now=now,
                )

    async def remove(
        self, platform: str, user_id: str, kinds: Sequence[str], community_id: int | None = None
    ) -> int:
        """Remove subscriptions (in one community, or everywhere); how many were removed."""
        async with self.database.session() as session, session.begin():
            return await unsubscribe(
                session, platform=platform, user_id=user_id, kinds=kinds, community_id=community_id
            )

    async def of_account(self, platform: str, user_id: str) -> list[tuple[str, str]]:
        """(community name, kind) of every subscription of an account."""
        async with self.database.session() as session:
            return await account_subscriptions(session, platform=platform, user_id=user_id)

    async def confirm(self, platform: str, user_id: str, group_id: str, text: str) -> bool:
        """Send `text` by private message; False if the platform refused (closed DMs)."""
        message = DirectMessage(platform, user_id, text, group_id=group_id)
        return (await self.dispatcher.deliver(message, report=False)).ok

    async def best_roles(
        self, platform: str, user_id: str, community_id: int | None = None
    ) -> dict[int, tuple[int, Role]]:
        """By community (all of the account's, or one): its member id and the highest role
        the platform reports in the community's groups. Communities where the platform could
        not tell are left out."""
        async with self.database.session() as session:
            groups = await account_groups(session, platform=platform, user_id=user_id)
        roles: dict[int, tuple[int, Role]] = {}
        for community, member_id, group in groups:
            if community_id is not None and community != community_id:
                continue
            role = await self.dispatcher.role_of(platform, group, user_id)
            known = roles.get(community)
            if role is not None and (known is None or role > known[1]):
                roles[community] = (member_id, role)
        return roles

    async def private(
        self, platform: str, user_id: str, choice: str | None, tr: Translator, now: datetime
    ) -> str:
        """`/subscribe [daily|weekly]` in a private chat: subscribe to the digests of every
        community where the platform says the account is a moderator or admin."""
        added = 0
        for community_id, (member_id, role) in (await self.best_roles(platform, user_id)).items():
            wanted = self.wanted(choice, role, tr)
            if isinstance(wanted, str):
                continue
            async with self.database.session() as session:
                community = await get_community(session, community_id=community_id)
            if community is not None:
                await self.add(community, member_id, platform, user_id, wanted, now)
                added += 1
        if not added:
            return tr(
                N_(
                    "I found no group where you may receive this digest. Send /subscribe in "
                    "your group instead: only its moderators and admins receive digests."
                )
            )
        return await self.listing(platform, user_id, tr)

    async def listing(self, platform: str, user_id: str, tr: Translator) -> str:
        """What the account receives by private message, one line per community."""
        found = await self.of_account(platform, user_id)
        if not found:
            return tr(N_("You receive no digests by private message."))
        by_community: dict[str, list[str]] = {}
        for name, kind in found:
            by_community.setdefault(name, []).append(kind)
        lines = [tr(N_("You receive by private message:"))]
        for name, kinds in by_community.items():
            order = sorted(kinds, key=lambda kind: kind != "day")
            lines.append(
                "• "
                + tr(N_("the {digest} digest of {community}")).format(
                    digest=self.names(order, tr), community=name
                )
            )
        return "\n".join(lines)

    async def recipients(self, community: CommunityInfo, kind: Kind) -> list[tuple[str, str]]:
        """Subscribed accounts that may still receive the digest; those the platform now
        says have lost the right are unsubscribed."""
        async with self.database.session() as session:
            found = await subscribers(session, community_id=community.id, kind=kind)
        kept: list[tuple[str, str]] = []
        for platform, user_id in found:
            best = (await self.best_roles(platform, user_id, community.id)).get(community.id)
            if best is not None and best[1] < REQUIRED[kind]:
                logger.info(
                    "%s:%s is no longer allowed the %s digest of community %s; unsubscribed",
                    platform,
                    user_id,
                    kind,
                    community.id,
                )
                await self.remove(platform, user_id, [kind], community.id)
                continue
            kept.append((platform, user_id))
        return kept
