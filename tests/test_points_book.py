"""PointsBook.apply_many: many members in one transaction, the same result as one by one,
and the one-by-one path when a member's totals changed under it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

import bot.features.points.book as book_module
from bot.features.points.book import PointsBook
from bot.features.points.rules import Change
from storage.database import Database
from storage.identity import CommunityInfo, ensure_group, ensure_member
from storage.points import LedgerEntry, Totals, get_totals, top_members

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _community(database: Database, members: int) -> tuple[CommunityInfo, list[int]]:
    async with database.session() as session, session.begin():
        group = await ensure_group(
            session,
            platform="telegram",
            external_id="-100",
            name="g",
            language="en",
            timezone="UTC",
            now=AT,
        )
        ids = [
            await ensure_member(
                session,
                community_id=group.community.id,
                platform="telegram",
                user_id=str(n),
                name=f"m{n}",
                is_bot=False,
                now=AT,
            )
            for n in range(members)
        ]
    return group.community, ids


def _gain(community: CommunityInfo, member: int, xp: int) -> book_module.Rule:
    def rule(before: Totals) -> Change:
        entry = LedgerEntry(community.id, member, "xp", xp, "message", f"import:{member}", AT)
        return Change(replace(before, xp=before.xp + xp), (entry,))

    return rule


@pytest.mark.parametrize("conflict", [False, True])
async def test_many_members_at_once(
    database: Database, conflict: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    community, members = await _community(database, 3)
    book = PointsBook(database)
    await book.apply(community, members[0], _gain(community, members[0], 5))
    if conflict:  # the first save of the batch finds the row changed: one by one instead
        real = book_module.save_totals
        calls = {"n": 0}

        async def racing(session: object, *, before: Totals, after: Totals) -> bool:
            calls["n"] += 1
            return False if calls["n"] == 1 else await real(session, before=before, after=after)  # type: ignore[arg-type]

        monkeypatch.setattr(book_module, "save_totals", racing)
    applied = await book.apply_many(
        community, {m: _gain(community, m, 10 * (n + 1)) for n, m in enumerate(members)}
    )
    assert [applied[m].after.xp for m in members] == [15, 20, 30]
    assert all(applied[m].changed for m in members)
    async with database.session() as session:
        assert (await get_totals(session, community_id=community.id, member_id=members[0])).xp == 15
        board = await top_members(session, community_id=community.id, period=("week", "2026-03-02"))
    assert [(s.member_id, s.xp) for s in board] == [
        (members[2], 30),
        (members[1], 20),
        (members[0], 15),
    ]
