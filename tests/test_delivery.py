"""Delivering actions: refusals become one note to moderators, failures never spread."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.memory import MemoryAdapter
from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.engine import Engine
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import Action, Card, DirectMessage, Event, Message, Poll, Post, Reply, Role
from bot.features.base import BaseFeature, EventContext
from bot.features.community import CommunityFeature
from tests.conftest import Harness, make_settings


class Whisper(BaseFeature):
    """Answers "psst" with a private message and a public reply."""

    name = "whisper"

    async def on_event(self, event: Event, context: EventContext) -> Sequence[Action]:
        if isinstance(event, Message) and event.text == "psst":
            return [
                DirectMessage(
                    event.place.platform,
                    event.author.user_id,
                    "secret",
                    group_id=event.place.group_id,
                ),
                Reply(event.place, event.message_id, "sent you a DM"),
            ]
        return ()


@pytest.fixture
async def chat(tmp_path: Path, clock: ManualClock) -> AsyncIterator[MemoryAdapter]:
    services = build_services(
        make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"), clock=clock
    )
    engine = Engine(services, (Whisper(services), CommunityFeature(services)))
    await engine.start()
    adapter = MemoryAdapter(engine, clock)
    yield adapter
    await engine.stop()


def closed_dms(action: Action) -> DeliveryFailed | None:
    if isinstance(action, DirectMessage):
        return DeliveryFailed(action, DeliveryProblem.DM_CLOSED, "Forbidden: bot can't initiate")
    return None


def _texts(chat: MemoryAdapter, kind: type[Reply | Post]) -> list[str]:
    return [a.text for a in chat.performed if isinstance(a, kind)]


async def test_refused_dm_is_reported_once_a_day_to_moderators(
    chat: MemoryAdapter, clock: ManualClock
) -> None:
    (text,) = await chat.command("root", "/modchannel", role=Role.ADMIN, channel="mods")
    assert text == "Moderator alerts will be posted in this channel."
    chat.refuse = closed_dms
    await chat.say("alice", "psst")
    await chat.say("alice", "psst")
    (note,) = [a for a in chat.performed if isinstance(a, Post)]
    assert note.target.channel_id == "mods"
    assert note.text.startswith("Hearth could not send a private message to alice")
    assert _texts(chat, Reply)[-2:] == ["sent you a DM", "sent you a DM"]  # rest still delivered
    clock.advance(timedelta(hours=25))
    await chat.say("alice", "psst")
    assert len([a for a in chat.performed if isinstance(a, Post)]) == 2


async def test_notes_are_in_the_community_language(chat: MemoryAdapter) -> None:
    await chat.command("root", "/language zh", role=Role.ADMIN)
    await chat.command("root", "/modchannel", role=Role.ADMIN, channel="mods")
    chat.refuse = closed_dms
    await chat.say("alice", "psst")
    (note,) = _texts(chat, Post)
    assert note.startswith("Hearth 无法给 alice 发送私信")


async def test_without_a_moderators_channel_the_note_is_logged(
    chat: MemoryAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    chat.refuse = closed_dms
    with caplog.at_level(logging.WARNING):
        await chat.say("alice", "psst")
    assert "has no moderators' channel" in caplog.text
    assert _texts(chat, Post) == []
    await chat.command("root", "/modchannel off", role=Role.ADMIN)
    assert _texts(chat, Reply)[-1] == "Moderator alerts are off."


async def test_a_crashing_sink_does_not_stop_other_actions(
    chat: MemoryAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(action: Action) -> DeliveryFailed | None:
        if isinstance(action, DirectMessage):
            raise RuntimeError("socket closed")
        return None

    chat.refuse = explode
    with caplog.at_level(logging.ERROR):
        await chat.say("alice", "psst")
    assert _texts(chat, Reply) == ["sent you a DM"]
    assert "socket closed" in caplog.text


async def test_actions_for_a_platform_without_adapter_are_dropped(
    chat: MemoryAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await chat.engine.services.dispatcher.dispatch(
            [DirectMessage("matrix", "u", "hi"), Reply(chat.place(), "1", "still delivered")]
        )
    assert "no adapter for platform matrix" in caplog.text
    assert _texts(chat, Reply) == ["still delivered"]


async def test_what_features_send_themselves_never_pings_everyone(harness: Harness) -> None:
    """Digests, scheduled posts and moderator notes go through `Dispatcher.deliver`, which
    defuses mass mentions in texts, polls and cards like the engine does for replies."""
    chat = harness.chat
    dispatcher = harness.engine.services.dispatcher
    card = Card("@everyone digest", "@here look", fields=(("@everyone", "hi @here"),))
    poll = Poll("@everyone vote?", ("@here yes", "no"))
    await dispatcher.deliver(Post(chat.place(), "@everyone hello", poll=poll, card=card))
    await dispatcher.deliver(DirectMessage("memory", "alice", "@here psst", card=card))
    post, dm = chat.performed[-2:]
    assert isinstance(post, Post)
    assert isinstance(dm, DirectMessage)
    sent = [post.text, dm.text, *(post.poll.question, *post.poll.options)] if post.poll else []
    assert post.card is not None
    sent += [post.card.title, post.card.description, *post.card.fields[0]]
    assert all("@everyone" not in text and "@here" not in text for text in sent)
    assert post.text == "@\u200beveryone hello"
