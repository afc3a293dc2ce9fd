"""Members' control over their data: /mydata, /forgetme, hearth forget."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import Action, DirectMessage, Role
from bot.features.privacy import forget_account
from storage.models import Member, MessageLog, PointsLedger
from tests.conftest import Harness
from tests.test_cli import hearth


async def test_mydata_sends_everything_about_the_member_by_dm(any_harness: Harness) -> None:
    h = any_harness
    captured: list[dict[str, object]] = []

    def keep_file(action: Action) -> DeliveryFailed | None:
        if isinstance(action, DirectMessage) and action.file:
            captured.append(json.loads(Path(action.file).read_text(encoding="utf-8")))
        return None

    h.chat.refuse = keep_file
    await h.chat.say("alice", "大家好，我是新来的", message_id="m1")
    await h.chat.say("bob", "welcome alice, thanks for joining", reply_to="m1")
    await h.chat.command("alice", "/checkin")
    (reply,) = await h.chat.command("alice", "/mydata")
    assert reply == "I sent you your data in a private message."
    (data,) = captured
    assert data["member"]["display_name"] == "alice"  # type: ignore[index]
    texts = [m["text"] for m in data["messages"]]  # type: ignore[attr-defined]
    assert texts == ["大家好，我是新来的", "/checkin"]
    assert len(data["active_days"]) == 1  # type: ignore[arg-type]
    assert data["points"]["xp"] > 0  # type: ignore[index]
    assert {e["reason"] for e in data["points_ledger"]} >= {"message", "checkin"}  # type: ignore[attr-defined]
    assert all("bob" not in json.dumps(m) for m in data["messages"])  # type: ignore[attr-defined]


async def test_mydata_explains_when_the_dm_cannot_be_sent(harness: Harness) -> None:
    h = harness
    h.chat.refuse = lambda action: (
        DeliveryFailed(action, DeliveryProblem.DM_CLOSED, "closed")
        if isinstance(action, DirectMessage)
        else None
    )
    (reply,) = await h.chat.command("alice", "/mydata")
    assert reply.startswith("I could not send you a private message.")


async def test_forgetme_needs_confirmation_and_keeps_counts(any_harness: Harness) -> None:
    h = any_harness
    await h.chat.say("alice", "my phone number is 555-0100", message_id="m1")
    await h.chat.command("root", "/points give alice 50 for the secret project", role=Role.ADMIN)
    (early,) = await h.chat.command("alice", "/forgetme confirm")
    assert early == "Send /forgetme first; then /forgetme confirm within 5 minutes."
    (ask,) = await h.chat.command("alice", "/forgetme")
    assert ask.endswith("Send /forgetme confirm within 5 minutes to go ahead.")
    h.clock.advance(timedelta(minutes=2))
    (done,) = await h.chat.command("alice", "/forgetme confirm")
    assert done == "Done: your texts, name and point details here are deleted."
    await h.engine.services.writer.flush()
    async with h.database.session() as session:
        texts = (
            (await session.execute(select(MessageLog.text).where(MessageLog.message_id == "m1")))
            .scalars()
            .all()
        )
        notes = (await session.execute(select(PointsLedger.note, PointsLedger.amount))).all()
        names = (await session.execute(select(Member.display_name))).scalars().all()
    assert texts == [None]
    assert [(note, amount) for note, amount in notes if amount == 50] == [(None, 50)]
    assert "alice" not in names
    (rank,) = await h.chat.command("bob", "/leaderboard")
    assert "(forgotten member)" in rank  # counts stay, anonymised


async def test_forgetme_confirmation_expires(harness: Harness) -> None:
    await harness.chat.command("alice", "/forgetme")
    harness.clock.advance(timedelta(minutes=6))
    (late,) = await harness.chat.command("alice", "/forgetme confirm")
    assert late.startswith("Send /forgetme first")


async def test_operators_forget_an_account_everywhere(harness: Harness) -> None:
    from adapters.memory import MemoryAdapter

    h = harness
    other = MemoryAdapter(h.engine, h.clock, group="group-2")
    await h.chat.say("alice", "secret one", message_id="a1")
    await other.say("alice", "secret two", message_id="a2")
    await h.engine.services.writer.flush()
    assert await forget_account(h.engine.services, "memory", "alice") == 2
    async with h.database.session() as session:
        texts = (await session.execute(select(MessageLog.text))).scalars().all()
    assert texts == [None, None]


def test_hearth_forget_command(tmp_path: Path) -> None:
    hearth("run", stdin="@alice: remember this\n", cwd=tmp_path)
    result = hearth("forget", "--platform", "console", "--user", "alice", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "forgot console user alice in 1 communities"
