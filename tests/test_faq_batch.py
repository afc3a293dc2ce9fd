"""The FAQ's answers and unanswered questions go with the activity writer's batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, text

from bot.clock import ManualClock
from bot.events import Role
from bot.features.faq.feature import FaqFeature
from storage.database import Database
from storage.models import FaqAnswer
from tests.conftest import Harness, make_settings, start_harness
from tests.console import play

MOD = Role.MODERATOR
TOPICS = ("capital", "weather", "shop", "parking", "wifi", "menu", "train", "museum")


def _faq(h: Harness) -> FaqFeature:
    return next(f for f in h.engine.features if isinstance(f, FaqFeature))


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to `database` while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def _misses(h: Harness, first: int, count: int) -> None:
    """`count` questions the FAQ cannot answer, each from a member of its own."""
    for n in range(first, first + count):
        h.clock.advance(timedelta(seconds=1))
        await h.chat.say(f"asker{n}", f"where is the {TOPICS[n % len(TOPICS)]} number {n}?")


async def test_unanswered_questions_cost_no_transaction_per_message(
    db_url: str, clock: ManualClock
) -> None:
    # Points are off: this is about the FAQ's own writes.
    h = await start_harness(make_settings(db_url, points={"enabled": False}), clock)
    try:
        await h.chat.command(
            "mod", "/faq add How do I join the tournament? | At /signup.", role=MOD
        )
        await _misses(h, 0, 30)  # every asker seen once (identity, FAQ shelf loaded)
        await h.engine.services.writer.flush()
        with _statements(h.database) as few:
            await _misses(h, 0, 3)
        with _statements(h.database) as many:
            await _misses(h, 3, 27)
        assert len(many) == len(few)  # not one more statement for nine times the questions
        assert _faq(h).log.pending == 30
        (gaps,) = await h.chat.command("mod", "/faq gaps", role=MOD)
        assert gaps.splitlines()[0] == "Unanswered questions, last 7 days (60):"
        async with h.database.session() as session:
            logged = await session.scalar(text("SELECT count(*) FROM faq_unanswered"))
        assert logged == 60  # the 30 askers asked twice (30 new message ids)
        assert _faq(h).log.pending == 0
    finally:
        await h.engine.stop()


async def test_answer_counts_survive_a_replayed_row(any_harness: Harness) -> None:
    h = any_harness
    await h.chat.command("mod", "/faq add How do I join the tournament? | At /signup.", role=MOD)
    assert any(
        getattr(a, "text", None) == "At /signup."
        for a in await h.chat.say("ann", "how do I join the tournament?", message_id="q1")
    )
    (shown,) = await h.chat.command("ann", "/faq show 1")
    assert "Answered 1 times" in shown
    # The same answer queued again (a replayed event): written again, counted once.
    async with h.database.session() as session:
        answer = (await session.execute(select(FaqAnswer))).scalar_one()
    row = {c.key: getattr(answer, c.key) for c in FaqAnswer.__table__.columns if c.key != "id"}
    _faq(h).log.answered(row)
    (shown,) = await h.chat.command("ann", "/faq show 1")
    assert "Answered 1 times" in shown
    async with h.database.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM faq_answers")) == 1


async def test_a_refused_row_is_set_aside_and_the_rest_written(any_harness: Harness) -> None:
    h = any_harness
    await h.chat.say("ann", "where is the museum?")
    faq = _faq(h)
    (good,) = faq.log._pending.unanswered
    faq.log.unanswered({**good, "message_id": "ghost", "member_id": 987_654})  # no such member
    await h.chat.say("bob", "when does the train leave?")
    (gaps,) = await h.chat.command("mod", "/faq gaps", role=MOD)
    assert gaps.splitlines()[0] == "Unanswered questions, last 7 days (2):"
    assert faq.log.set_aside == 1
    await h.engine.services.writer.flush()  # the batch went on: the messages are all there
    async with h.database.session() as session:
        assert await session.scalar(text("SELECT count(*) FROM messages")) == 3


async def test_console_gaps_and_counters_right_after_the_questions(
    sqlite_url: str, clock: ManualClock
) -> None:
    lines = await play(
        sqlite_url,
        clock,
        "/faq add How do I join the tournament? | Sign up at example.com/signup.\n"
        "@ann: how do I join the tournament?\n"
        "@bob: what is the capital of France?\n"
        "@cat: when does the museum open?\n"
        "/faq gaps\n"
        "/faq show 1\n",
    )
    assert "Sign up at example.com/signup." in lines
    gaps = lines.index("Unanswered questions, last 7 days (2):")
    assert sorted(lines[gaps + 1 : gaps + 3]) == [
        "1× what is the capital of France?",
        "1× when does the museum open?",
    ]
    assert "Answered 1 times · helpful 0 · not helpful 0" in lines
