"""Points for imported messages, under the live message rules, marked as imported.

Each member's imported messages are replayed through `rules.message_xp` on a *simulated*
totals row (its own day, daily cap and cooldown, starting empty), in time order, together
with the live filters (bots, commands, no-XP channels, minimum content weight, repeats in the
window). The XP it grants is then added to the member's real totals through `PointsBook`
(compare-and-swap, ledger and period rows in one transaction), without touching the live
counters (today's XP, last message XP time): history must not use up today's cap.

Ledger rows keep reason ``message`` (so reports by reason count them as message XP) and get
source ``import:<platform>:<channel>:<message id>`` (live ones are ``message:<id>``): imported
XP can be told apart, or removed, by its source. Only messages new to the log earn, so an
import run twice awards once. Thanks and reactions received earn nothing on import, and no
level-up is announced or rewarded with a role.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.config import PointsRules
from bot.features.points import rules
from bot.features.points.book import PointsBook
from bot.features.points.curve import Curve
from bot.text.normalize import content_weight, fingerprint
from storage.database import Database
from storage.identity import CommunityInfo
from storage.points import LedgerEntry, Totals

__all__ = ["SOURCE_PREFIX", "Candidate", "ImportPoints"]

SOURCE_PREFIX = "import:"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An imported message that may earn XP once it is known to be new."""

    community_id: int
    member_id: int
    platform: str
    channel_id: str
    message_id: str
    text: str
    at: datetime


@dataclass(slots=True)
class _Replay:
    totals: Totals
    recent: deque[tuple[str, datetime]]


class ImportPoints:
    """Replays message XP for one community's imported messages."""

    def __init__(
        self, database: Database, community: CommunityInfo, points_rules: PointsRules
    ) -> None:
        self._book = PointsBook(database)
        self._community = community
        self._rules = points_rules
        self._curve = Curve(points_rules.curve)
        self._rng = random.Random()
        self._replays: dict[int, _Replay] = {}
        self.xp = 0
        self.members: set[int] = set()

    def _earned(self, candidate: Candidate) -> LedgerEntry | None:
        member = candidate.member_id
        replay = self._replays.get(member)
        if replay is None:
            fresh = Totals(member_id=member, community_id=self._community.id)
            replay = self._replays[member] = _Replay(fresh, deque(maxlen=20))
        if self._filtered(replay, candidate):
            return None
        # Deterministic per message, so a re-import after a rollback grants the same amounts.
        self._rng.seed(f"{candidate.platform}:{candidate.channel_id}:{candidate.message_id}")
        change = rules.message_xp(
            replay.totals,
            self._rules,
            self._curve,
            amount=self._rng.randint(self._rules.message_xp_min, self._rules.message_xp_max),
            day=rules.local_day(candidate.at, self._community.timezone),
            at=candidate.at,
            source=(
                f"{SOURCE_PREFIX}{candidate.platform}:{candidate.channel_id}:{candidate.message_id}"
            ),
        )
        if change is None:
            return None
        replay.totals = change.totals
        return change.entries[0] if change.entries else None

    def _filtered(self, replay: _Replay, candidate: Candidate) -> bool:
        """The live filters: no-XP channel, too short, or repeated within the window."""
        if (
            candidate.channel_id in self._rules.no_xp_channels
            or content_weight(candidate.text) < self._rules.min_message_length
        ):
            return True
        window = timedelta(minutes=self._rules.repeat_window_minutes)
        while replay.recent and candidate.at - replay.recent[0][1] > window:
            replay.recent.popleft()
        mark = fingerprint(candidate.text)
        repeated = any(seen == mark for seen, _ in replay.recent)
        replay.recent.append((mark, candidate.at))
        return repeated

    async def award(self, candidates: list[Candidate]) -> None:
        """Award XP for new imported messages (in time order), one transaction per member."""
        if not self._rules.enabled:
            return
        earned: dict[int, list[LedgerEntry]] = {}
        for candidate in candidates:
            entry = self._earned(candidate)
            if entry is not None:
                earned.setdefault(candidate.member_id, []).append(entry)
        for member, entries in earned.items():
            gained = sum(entry.amount for entry in entries)

            def add(
                before: Totals, gained: int = gained, entries: list[LedgerEntry] = entries
            ) -> rules.Change:
                xp = before.xp + gained
                return rules.Change(
                    replace(before, xp=xp, level=self._curve.level_for(xp)), tuple(entries)
                )

            await self._book.apply(self._community, member, add)
            self.xp += gained
            self.members.add(member)
