"""A digest claimed by a process that stops before sending it is not lost: a stop gives the
claim up, a process that died leaves it to expire, and the next tick (in any process) sends
it to the recipients who lack it, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Action, DirectMessage, Post, Role
from bot.features.digest.feature import DigestFeature
from storage.digest import claim_digest
from storage.models import DigestRun
from tests.conftest import make_settings, start_harness
from tests.console import play

#: Tuesday: the daily digest of Monday 2026-01-05 is due at 09:00 UTC.
DUE = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
RECIPIENTS = ["console:ann", "console:bob"]


def settings(url: str, *, worker: bool = False, **digest: Any) -> Any:
    return make_settings(
        url,
        schedule={"worker": worker},
        digest={"charts": False, "weekly": False, **digest},
    )


async def console(url: str, clock: ManualClock, script: str, **digest: Any) -> list[str]:
    """Run `hearth run`'s console on the database with `script`; the lines Hearth wrote."""
    return await play(url, clock, script, community="c", raw=True, settings=settings(url, **digest))


class Stuck:
    """A platform that takes `passes` actions, then hangs on the next (the process stops or
    dies there)."""

    def __init__(self, passes: int = 0) -> None:
        self.passes = passes
        self.performed: list[Action] = []
        self.hanging = asyncio.Event()

    async def perform(self, action: Action) -> str:
        if len(self.performed) >= self.passes:
            self.hanging.set()
            await asyncio.Event().wait()
        self.performed.append(action)
        return str(len(self.performed))


async def stuck_engine(url: str, at: datetime, stuck: Stuck, **options: Any) -> Engine:
    engine = build_engine(settings(url, **options), clock=ManualClock(at))
    await engine.start()
    engine.attach("console", stuck.perform)
    return engine


def digests(lines: list[str]) -> list[str]:
    return [line for line in lines if "📊 Daily digest" in line]


async def runs(url: str) -> list[tuple[str, int, list[str] | None]]:
    engine = build_engine(settings(url), clock=ManualClock(DUE))
    await engine.services.database.upgrade()
    async with engine.services.database.session() as session:
        rows = await session.execute(
            select(DigestRun.outcome, DigestRun.attempts, DigestRun.delivered)
        )
        found = [(str(o), int(a), d) for o, a, d in rows.all()]
    await engine.services.database.close()
    return found


async def test_a_process_that_dies_while_sending_leaves_the_digest_to_the_next_one(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    recipients = {"daily_recipients": {"c": RECIPIENTS}}
    await console(url, ManualClock(DUE - timedelta(hours=20)), "hello\n@ann: hi there\n")

    # One process claims Monday's digest, sends it to ann and dies while sending to bob.
    stuck = Stuck(passes=1)
    first = await stuck_engine(url, DUE, stuck, **recipients)
    feature = first.feature(DigestFeature)
    assert feature is not None
    dying = asyncio.create_task(feature.tick())
    await asyncio.wait_for(stuck.hanging.wait(), 10)
    (to_ann,) = stuck.performed
    assert isinstance(to_ann, DirectMessage)
    assert to_ann.user_id == "ann"
    assert to_ann.text.startswith("📊 Daily digest")

    # Hearth restarts: while the claim is fresh nothing is sent; once it has expired the
    # digest goes to bob only (ann has it), once; later ticks send nothing more.
    lines = await console(
        url, ManualClock(DUE + timedelta(minutes=1)), "~ +1m\n~ +10m\n~ +3h\n", **recipients
    )
    sent = digests(lines)
    assert len(sent) == 1
    assert sent[0].startswith("hearth> (to @bob) 📊 Daily digest · c · 2026-01-05 (UTC)")
    moves = [n for n, line in enumerate(lines) if line.startswith("hearth> (console: it is now")]
    assert moves[0] < lines.index(sent[0]) < moves[1]  # not at 09:02, at 09:12

    # The dead process's claim was taken over: it can neither finish nor reopen it.
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    await first.stop()
    assert await runs(url) == [("sent", 2, ["dm:console:ann", "dm:console:bob"])]


async def test_a_stop_while_sending_gives_the_digest_to_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    await console(url, ManualClock(DUE - timedelta(hours=20)), "/modchannel\nhello\n")

    # Hearth starts at 09:00, claims the digest and is stopped (Ctrl+C) while sending it.
    stuck = Stuck()
    first = await stuck_engine(url, DUE, stuck, worker=True)
    await asyncio.wait_for(stuck.hanging.wait(), 10)
    await first.stop()
    assert stuck.performed == []
    assert [(outcome, attempts) for outcome, attempts, _ in await runs(url)] == [("pending", 1)]

    # Started again a minute later, it sends the digest at once (no waiting for the claim to
    # expire), and only once.
    lines = await console(url, ManualClock(DUE + timedelta(minutes=1)), "~ +1m\n~ +1h\n")
    sent = digests(lines)
    assert len(sent) == 1
    assert sent[0].startswith("hearth> [#general] 📊 Daily digest · c · 2026-01-05 (UTC)")
    assert [(outcome, attempts) for outcome, attempts, _ in await runs(url)] == [("sent", 2)]


async def test_two_processes_taking_over_an_expired_claim_send_it_once(
    db_url: str, clock: ManualClock
) -> None:
    """On SQLite and on PostgreSQL: the claim of a process that died expires; two processes
    ticking at the same moment take it over, and only one sends the digest."""
    clock.set(DUE - timedelta(hours=20))
    first = await start_harness(settings(db_url), clock)
    others = [await start_harness(settings(db_url), clock) for _ in range(2)]
    try:
        await first.chat.say("ann", "hello")
        await first.chat.command("root", "/modchannel", channel="mods", role=Role.ADMIN)
        await first.engine.services.writer.flush()
        community = await first.engine.services.directory.find_community(None)
        async with first.database.session() as session, session.begin():
            claim = await claim_digest(  # as the process that died did
                session,
                community_id=community.id,
                kind="day",
                period_start="2026-01-05",
                now=DUE,
                expired_before=DUE - timedelta(minutes=10),
            )
        assert claim is not None
        clock.set(DUE + timedelta(minutes=5))
        ticks = [h.engine.feature(DigestFeature) for h in others]
        assert [await t.tick() for t in ticks if t is not None] == [[], []]  # claim still fresh
        clock.set(DUE + timedelta(minutes=11))
        results = await asyncio.gather(*(t.tick() for t in ticks if t is not None))
        assert sorted(map(len, results)) == [0, 1]
        assert [await t.tick() for t in ticks if t is not None] == [[], []]
    finally:
        for h in (first, *others):
            await h.engine.stop()
    posts = [a for h in others for a in h.chat.performed if isinstance(a, Post)]
    assert [p.text.split(" · ")[0] for p in posts] == ["📊 Daily digest"]
    assert not [a for h in others for a in h.chat.performed if isinstance(a, DirectMessage)]
