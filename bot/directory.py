"""Who and where: maps platform groups and accounts to communities and members, cached.

The first sight of a group or an account writes it to storage; after that every lookup is a
dictionary hit, so the hot path does no I/O for identity. Accounts are remembered for the
`MEMBERS_KEPT` seen last; one seen again after that is looked up in storage once more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.clock import Clock
from bot.config import CommunityDefaults
from bot.errors import HearthError
from bot.events import Author
from bot.recent import Recent
from storage.database import Database
from storage.identity import (
    ChannelRef,
    CommunityInfo,
    GroupInfo,
    ensure_group,
    ensure_member,
    get_community,
    list_communities,
    move_group,
    set_override,
    update_community,
)

__all__ = ["PLATFORMS", "REFRESH_SECONDS", "Directory"]

logger = logging.getLogger(__name__)

PLATFORMS = ("console", "discord", "telegram")
#: How often `keep_fresh` reads the communities' settings again.
REFRESH_SECONDS = 60.0
#: Accounts whose member id stays in memory (the least recently seen are looked up again).
MEMBERS_KEPT = 50_000


class Directory:
    """Cached identity resolution for one process."""

    def __init__(
        self,
        database: Database,
        defaults: CommunityDefaults,
        clock: Clock,
        console_community: str = "console",
    ) -> None:
        self._database = database
        self._console_community = console_community
        self._defaults = defaults
        self._clock = clock
        self._groups: dict[tuple[str, str], tuple[int, int]] = {}
        self._communities: dict[int, CommunityInfo] = {}
        self._members: Recent[tuple[int, str, str], int] = Recent(MEMBERS_KEPT)

    async def group(self, platform: str, external_id: str, name: str | None = None) -> GroupInfo:
        """Return a platform group and its community, creating both on first sight."""
        cached = self._groups.get((platform, external_id))
        if cached is not None:
            community = self._communities[cached[1]]
            unnamed = community.name == external_id and name not in (None, external_id)
            if not unnamed:
                return GroupInfo(id=cached[0], community=community)
        async with self._database.session() as session, session.begin():
            info = await ensure_group(
                session,
                platform=platform,
                external_id=external_id,
                name=name or external_id,
                language=self._defaults.language,
                timezone=self._defaults.timezone,
                now=self._clock.now(),
            )
        self._groups[(platform, external_id)] = (info.id, info.community.id)
        self._communities[info.community.id] = info.community
        return info

    async def member(self, community_id: int, platform: str, author: Author) -> int:
        """Return the member id of `author` in a community, creating it on first sight."""
        key = (community_id, platform, author.user_id)
        cached = self._members.get(key)
        if cached is not None:
            return cached
        async with self._database.session() as session, session.begin():
            member_id = await ensure_member(
                session,
                community_id=community_id,
                platform=platform,
                user_id=author.user_id,
                name=author.name or author.user_id,
                is_bot=author.is_bot,
                now=self._clock.now(),
            )
        self._members.put(key, member_id)
        return member_id

    async def update_community(
        self,
        community_id: int,
        *,
        language: str | None = None,
        timezone: str | None = None,
        mod_channel: ChannelRef | bool | None = False,
    ) -> CommunityInfo:
        """Change a community's settings in storage and in the cache (see `update_community`)."""
        async with self._database.session() as session, session.begin():
            await update_community(
                session,
                community_id=community_id,
                language=language,
                timezone=timezone,
                mod_channel=mod_channel,
            )
            info = await get_community(session, community_id=community_id)
        if info is None:
            raise LookupError(f"community {community_id} does not exist")
        self._communities[community_id] = info
        return info

    async def set_override(self, community_id: int, key: str, value: Any | None) -> CommunityInfo:
        """Set (None: clear) one of a community's `/config` settings, in storage and cache."""
        async with self._database.session() as session, session.begin():
            await set_override(session, community_id=community_id, key=key, value=value)
            info = await get_community(session, community_id=community_id)
        if info is None:
            raise LookupError(f"community {community_id} does not exist")
        self._communities[community_id] = info
        return info

    async def refresh_communities(self) -> None:
        """Read every cached community's settings again: another process (`hearth web`, a
        second shard) may have changed its language, time zone or `/config` settings."""
        if not self._communities:
            return
        async with self._database.session() as session:
            found = await list_communities(session)
        for info in found:
            if info.id in self._communities:
                self._communities[info.id] = info

    async def keep_fresh(self, every: float = REFRESH_SECONDS) -> None:
        """Refresh the communities every `every` seconds until cancelled; an outage keeps
        the cached settings until the next round."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh_communities()
            except Exception as error:
                logger.debug("communities not refreshed: %s", error)

    async def move_group(
        self,
        platform: str,
        old_external_id: str,
        new_external_id: str,
        *,
        message_id_shift: int = 0,
    ) -> bool:
        """Re-key a group to a new platform id, keeping its community and history (message
        ids moved by `message_id_shift`, see `storage.identity.move_group`)."""
        async with self._database.session() as session, session.begin():
            moved = await move_group(
                session,
                platform=platform,
                old_external_id=old_external_id,
                new_external_id=new_external_id,
                message_id_shift=message_id_shift,
            )
        if moved:
            self._communities.clear()  # the moderators' channel may have moved with it
            self._groups.clear()
        return moved

    async def find_community(self, ref: str | None) -> CommunityInfo:
        """The community an admin means on the command line.

        `ref` is a community name, or ``platform:group-id`` (e.g. ``telegram:-1001234``, which
        creates the group's community if Hearth has not seen it yet), or None when there is
        exactly one community.

        Raises:
            HearthError: no such community, or several and none was named.
        """
        if ref and ":" in ref:
            platform, _, group = ref.partition(":")
            if platform in PLATFORMS and group:
                return (await self.group(platform, group)).community
        async with self._database.session() as session:
            known = await list_communities(session)
        if ref is None and len(known) == 1:
            return known[0]
        if ref is None and not known:  # a fresh install: the console's community
            return (await self.group("console", self._console_community)).community
        matches = [c for c in known if ref is not None and c.name == ref]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(repr(c.name) for c in known) or "none yet"
        problem = "name the community with --community" if ref is None else f"no community {ref!r}"
        raise HearthError(
            f"{problem}; known communities: {names} (or use platform:group-id, "
            "e.g. telegram:-1001234567890)"
        )
