"""Points for imported history, under the live rules, marked as imported.

What earns, as live (`bot.features.points.feature`), for history an import wrote to the log
(new rows, or rows of an earlier import run without ``--award-points``; never rows Hearth saw
live), once: an import run twice awards once.

- a message: message XP, with the live filters (bots, commands, no-XP channels, minimum
  content weight, repeats in the window) and limits (cooldown, daily cap);
- a thanks (a reply to, or a mention of, someone, that `is_thanks`): thanks XP and reputation
  for the receiver, once a day per giver and receiver (the live ``thanks_given`` rows);
- a reaction received from another member: reaction XP, within the daily reaction cap.

Each member's imported earnings are replayed in time order on a *simulated* totals row (its
own day, daily caps and cooldown, starting empty). What it grants is then added to the
members' real totals through `PointsBook.apply_many` (compare-and-swap, ledger and period
rows; every member of a batch in one transaction), without touching the live counters
(today's XP, last message XP time): history must not use up today's cap.

Ledger rows keep the live reasons (``message``, ``thanks``, ``reaction``, so reports by reason
count them) and get sources starting ``import:`` (live ones are ``message:<id>`` and
``reaction:<id>:<member>``): ``import:<platform>:<channel>:<message id>`` for a message and the
thanks in it, and ``…:<message id>:reaction:<reactor member id>`` for a reaction. Imported
points can be told apart, or removed, by their source, and the source makes them once: when
a batch replays rows that were already in the log, what the ledger already holds for them
(same member, source, reason and currency) is not added again. The replay itself is
deterministic (message XP is seeded by the source), so a second run computes the same rows.

No level-up is announced or rewarded with a role. Check-ins are not replayed: they are
commands, and an export cannot tell which bot a ``/checkin`` was for. A reaction's receiver
must be an account this import has seen (the reacted message's author); a thanks goes to the
author of the message replied to (in this import or the log) and to each member a mention
names.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.config import PointsRules
from bot.features.points import rules
from bot.features.points.book import PointsBook
from bot.features.points.curve import Curve
from bot.text.normalize import fingerprint
from storage.database import Database
from storage.identity import CommunityInfo
from storage.points import LedgerEntry, Totals, recorded_sources

__all__ = ["SOURCE_PREFIX", "Earning", "ImportPoints", "source_of"]

SOURCE_PREFIX = "import:"


def source_of(platform: str, channel_id: str, message_id: str) -> str:
    """The ledger source of an imported message (and of the thanks it gives)."""
    return f"{SOURCE_PREFIX}{platform}:{channel_id}:{message_id}"


@dataclass(frozen=True, slots=True)
class Earning:
    """Something imported that may earn `member_id` points, once known to be new.

    `kind` is "message" (XP for its author; `text` and `channel_id` feed the filters),
    "thanks" (the receiver earns; `giver` thanked) or "reaction" (the message's author earns).
    """

    kind: str
    member_id: int
    at: datetime
    source: str
    text: str = ""
    channel_id: str = ""
    giver: int | None = None
    #: A media message (photo, sticker, ...): judged by `points.media_xp`, not by its text.
    media: bool = False


@dataclass(slots=True)
class _Replay:
    totals: Totals
    recent: deque[tuple[str, datetime]]


class ImportPoints:
    """Replays the live earning rules over one community's imported history."""

    def __init__(
        self, database: Database, community: CommunityInfo, points_rules: PointsRules
    ) -> None:
        self._database = database
        self._book = PointsBook(database)
        self._community = community
        self._rules = points_rules
        self._curve = Curve(points_rules.curve)
        self._rng = random.Random()
        self._replays: dict[int, _Replay] = {}
        self.xp = 0
        self.reputation = 0
        self.members: set[int] = set()
        #: Earnings (member, source) an earlier award had already given: not given again.
        self.already_awarded = 0

    @property
    def enabled(self) -> bool:
        """False when the community's points are switched off."""
        return self._rules.enabled

    def _replay(self, member: int) -> _Replay:
        replay = self._replays.get(member)
        if replay is None:
            fresh = Totals(member_id=member, community_id=self._community.id)
            replay = self._replays[member] = _Replay(fresh, deque(maxlen=20))
        return replay

    def _change(self, earning: Earning, replay: _Replay) -> rules.Change | None:
        day = rules.local_day(earning.at, self._community.timezone)
        if earning.kind == "thanks":
            assert earning.giver is not None
            return rules.thanks(
                replay.totals,
                self._rules,
                self._curve,
                day=day,
                at=earning.at,
                source=earning.source,
                giver=earning.giver,
            )
        if earning.kind == "reaction":
            return rules.reaction_xp(
                replay.totals,
                self._rules,
                self._curve,
                day=day,
                at=earning.at,
                source=earning.source,
            )
        if self._filtered(replay, earning):
            return None
        # Deterministic per message, so a re-import after a rollback grants the same amounts.
        self._rng.seed(earning.source)
        return rules.message_xp(
            replay.totals,
            self._rules,
            self._curve,
            amount=self._rng.randint(self._rules.message_xp_min, self._rules.message_xp_max),
            day=day,
            at=earning.at,
            source=earning.source,
        )

    def _filtered(self, replay: _Replay, earning: Earning) -> bool:
        """The live message filters: no-XP channel, too short, or repeated within the window;
        media by `points.media_xp` alone."""
        if not rules.may_earn(self._rules, earning.channel_id, earning.text, media=earning.media):
            return True
        if earning.media:
            return False
        window = timedelta(minutes=self._rules.repeat_window_minutes)
        while replay.recent and earning.at - replay.recent[0][1] > window:
            replay.recent.popleft()
        mark = fingerprint(earning.text)
        repeated = any(seen == mark for seen, _ in replay.recent)
        replay.recent.append((mark, earning.at))
        return repeated

    async def award(self, earnings: list[Earning], *, check_ledger: bool = False) -> None:
        """Award points for imported history (any order), in one transaction.

        `check_ledger`: some of it was in the log before this run; skip the ledger rows an
        earlier award already wrote.
        """
        if not self._rules.enabled or not earnings:
            return
        earned: dict[int, list[LedgerEntry]] = {}
        for earning in sorted(earnings, key=lambda e: e.at):
            replay = self._replay(earning.member_id)
            change = self._change(earning, replay)
            if change is not None:
                replay.totals = change.totals
                earned.setdefault(earning.member_id, []).extend(change.entries)
        if check_ledger:
            earned = await self._not_recorded(earned, earnings)
        adding: dict[int, Callable[[Totals], rules.Change]] = {}
        for member, entries in earned.items():
            xp = sum(e.amount for e in entries if e.currency == "xp")
            rep = sum(e.amount for e in entries if e.currency == "rep")

            def add(
                before: Totals, xp: int = xp, rep: int = rep, entries: list[LedgerEntry] = entries
            ) -> rules.Change:
                total = before.xp + xp
                after = replace(
                    before,
                    xp=total,
                    level=self._curve.level_for(total),
                    reputation=before.reputation + rep,
                )
                return rules.Change(after, tuple(entries))

            adding[member] = add
            self.xp += xp
            self.reputation += rep
            self.members.add(member)
        await self._book.apply_many(self._community, adding)

    async def _not_recorded(
        self, earned: dict[int, list[LedgerEntry]], earnings: list[Earning]
    ) -> dict[int, list[LedgerEntry]]:
        """`earned` without the rows the ledger already holds (one read for the batch)."""
        async with self._database.session() as session:
            recorded = await recorded_sources(
                session,
                community_id=self._community.id,
                prefix=SOURCE_PREFIX,
                since=min(e.at for e in earnings),
                until=max(e.at for e in earnings),
            )
        kept: dict[int, list[LedgerEntry]] = {}
        dropped: set[tuple[int, str]] = set()
        for member, entries in earned.items():
            new = []
            for e in entries:
                if (member, e.source, e.reason, e.currency) in recorded:
                    dropped.add((member, e.source))
                else:
                    new.append(e)
            if new:
                kept[member] = new
        self.already_awarded += len(dropped)
        return kept
