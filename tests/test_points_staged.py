"""Points decided in memory and written with the activity batch (issue 17): no transaction
per message, the totals always equal the ledger, another process's changes are added to, a
failed batch is kept."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import event, func, select

from bot.events import Author, Message
from bot.features.points import rules
from bot.features.points.book import PointsBook
from bot.features.points.feature import PointsFeature
from storage.models import PointsLedger, PointsTotal
from tests.conftest import Harness


def _message(h: Harness, n: int, user: str, text: str) -> Message:
    return Message(
        place=h.chat.place(),
        message_id=f"m{n}",
        author=Author(user, user),
        text=text,
        sent_at=h.clock.now(),
    )


async def _totals_and_ledger(h: Harness) -> tuple[dict[int, int], dict[int, int]]:
    async with h.database.session() as session:
        totals = dict((await session.execute(select(PointsTotal.member_id, PointsTotal.xp))).all())
        sums = select(PointsLedger.member_id, func.sum(PointsLedger.amount)).where(
            PointsLedger.currency == "xp"
        )
        ledger = dict((await session.execute(sums.group_by(PointsLedger.member_id))).all())
    return {m: int(x) for m, x in totals.items() if x}, {m: int(x) for m, x in ledger.items()}


async def test_messages_earn_without_a_transaction_each(any_harness: Harness) -> None:
    h = any_harness
    for n, user in enumerate(("ann", "bob", "cat")):  # each member is read once
        await h.engine.process(_message(h, n, user, "hello there, first words today"))
    await h.engine.services.writer.flush()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sync_engine = h.database.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        for n in range(60):
            h.clock.advance(timedelta(seconds=61))  # past the cooldown: every message earns
            user = ("ann", "bob", "cat")[n % 3]
            await h.engine.process(_message(h, 100 + n, user, f"message number {n} about things"))
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    points = [s for s in statements if "points" in s or "thanks" in s]
    assert points == []  # nothing written yet: it waits for the batch
    await h.engine.services.writer.flush()
    totals, ledger = await _totals_and_ledger(h)
    assert len(totals) == 3
    assert totals == ledger
    lines = await h.chat.command("ann", "/rank")
    assert f"{totals[min(totals)]:,} XP" in lines[0]


async def test_another_process_changing_totals_is_added_to(any_harness: Harness) -> None:
    h = any_harness
    await h.engine.process(_message(h, 1, "ann", "hello there, first words today"))
    await h.engine.services.writer.flush()
    feature = h.engine.feature(PointsFeature)
    assert feature is not None
    community = (
        await h.engine.services.directory.group("memory", h.chat.place().group_id)
    ).community
    (member,) = (await _totals_and_ledger(h))[0]
    # Staged here, not yet written…
    h.clock.advance(timedelta(minutes=2))
    await h.engine.process(_message(h, 2, "ann", "a second message, later on"))
    # …while an import in another process adds 500 XP straight to the database.
    importer = PointsBook(h.database)
    curve = feature.curve_for(community)
    adjust = partial(
        rules.adjust,
        curve=curve,
        amount=500,
        at=h.clock.now(),
        source="import:x",
        actor=member,
        note=None,
    )
    await importer.apply_many(community, {member: adjust})
    await h.engine.services.writer.flush()
    totals, ledger = await _totals_and_ledger(h)
    assert totals == ledger  # nothing overwritten: both gains are in the total
    assert totals[member] > 500
    lines = await h.chat.command("ann", "/rank")
    assert f"{totals[member]:,} XP" in lines[0]


async def test_a_failed_batch_keeps_its_points(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    writer = h.engine.services.writer
    await h.engine.process(_message(h, 1, "ann", "hello there, first words today"))
    real_write = writer._write

    async def down(*args: object) -> None:
        raise OSError("database unreachable")

    monkeypatch.setattr(writer, "_write", down)
    with pytest.raises(OSError, match="unreachable"):
        await writer.flush()
    h.clock.advance(timedelta(minutes=2))
    await h.engine.process(_message(h, 2, "ann", "a second message, later on"))
    monkeypatch.setattr(writer, "_write", real_write)
    await writer.flush()
    totals, ledger = await _totals_and_ledger(h)
    assert totals == ledger
    assert len(await _ledger_rows(h)) == 2


async def _ledger_rows(h: Harness) -> list[str]:
    async with h.database.session() as session:
        return list((await session.execute(select(PointsLedger.source))).scalars())
