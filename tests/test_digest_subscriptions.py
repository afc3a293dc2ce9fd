"""Subscribing to digests by private message: `/subscribe` and `/unsubscribe`, who may have
which digest, closed DMs, rights checked again before each digest, and privacy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.errors import DeliveryFailed, DeliveryProblem
from bot.events import Action, Author, DirectMessage, Post, Role
from bot.features.privacy import PrivacyFeature
from tests.conftest import Harness, start_harness
from tests.test_digest import feature, history, settings

MOD, ADMIN = Role.MODERATOR, Role.ADMIN
MONDAY_9 = datetime(2026, 1, 12, 9, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
async def h(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    harness = await start_harness(settings(db_url), clock)
    yield harness
    await harness.engine.stop()


def dms(h: Harness, user: str) -> list[DirectMessage]:
    return [a for a in h.chat.performed if isinstance(a, DirectMessage) and a.user_id == user]


def digests_to(h: Harness, user: str) -> list[str]:
    """The first line of every digest sent to `user` by private message."""
    return [d.text.splitlines()[0] for d in dms(h, user) if d.text.startswith("📊")]


async def test_a_moderator_gets_the_daily_digest_and_an_admin_both(h: Harness) -> None:
    await history(h)
    assert await h.chat.command("mod", "/subscribe", role=MOD) == [
        "Subscribed: the daily digest will come to you by private message."
    ]
    (hello,) = dms(h, "mod")
    assert hello.text == "You will receive the daily digest of group-1 here."
    assert await h.chat.command("boss", "/subscribe", role=ADMIN) == [
        "Subscribed: the daily and weekly digest will come to you by private message."
    ]
    h.clock.set(MONDAY_9)
    assert await feature(h).tick() == [(1, "day", "2026-01-11"), (1, "week", "2026-01-05")]
    assert digests_to(h, "mod") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]
    assert digests_to(h, "boss") == [
        "📊 Daily digest · group-1 · 2026-01-11 (UTC)",
        "📊 Weekly digest · group-1 · 2026-01-05 – 2026-01-11 (UTC)",
    ]
    assert await feature(h).tick() == []  # exactly once
    assert len(digests_to(h, "boss")) == 2


async def test_who_may_subscribe_to_what(h: Harness) -> None:
    assert await h.chat.command("mod", "/subscribe weekly", role=MOD) == [
        "The weekly digest is for admins."
    ]
    refused = await h.chat.command("someone", "/subscribe daily")
    assert len(refused) == 1
    assert "moderator" in refused[0].lower()
    assert not dms(h, "someone")
    usage = await h.chat.command("mod", "/subscribe hourly", role=MOD)
    assert len(usage) == 1
    assert "daily" in usage[0]
    assert "weekly" in usage[0]


async def test_turned_off_digests_cannot_be_subscribed(sqlite_url: str, clock: ManualClock) -> None:
    h = await start_harness(settings(sqlite_url, weekly=False), clock)
    try:
        assert await h.chat.command("boss", "/subscribe weekly", role=ADMIN) == [
            "The weekly digest is turned off in Hearth's configuration."
        ]
        assert await h.chat.command("boss", "/subscribe", role=ADMIN) == [
            "Subscribed: the daily digest will come to you by private message."
        ]
    finally:
        await h.engine.stop()


async def test_closed_private_messages_are_explained_and_nothing_is_stored(h: Harness) -> None:
    def closed(action: Action) -> DeliveryFailed | None:
        if isinstance(action, DirectMessage):
            return DeliveryFailed(action, DeliveryProblem.DM_CLOSED, "closed")
        return None

    h.chat.refuse = closed
    (answer,) = await h.chat.command("mod", "/subscribe", role=MOD)
    assert answer.startswith("I could not send you a private message.")
    h.chat.refuse = lambda action: None
    await history(h)
    h.clock.set(MONDAY_9)
    await feature(h).tick()
    assert digests_to(h, "mod") == []


async def test_a_demoted_moderator_is_unsubscribed_before_the_next_digest(h: Harness) -> None:
    await history(h)
    await h.chat.command("mod", "/subscribe", role=MOD)
    await h.chat.command("old", "/subscribe", role=MOD)
    h.chat.roles.update(mod=MOD, old=Role.MEMBER)  # what the platform says now
    h.clock.set(MONDAY_9)
    await feature(h).tick()
    assert digests_to(h, "mod") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]
    assert digests_to(h, "old") == []
    # Gone for good: promoting them again needs a new /subscribe.
    h.chat.roles["old"] = MOD
    h.clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=ZoneInfo("UTC")))
    await feature(h).tick()
    assert digests_to(h, "old") == []
    assert len(digests_to(h, "mod")) == 2


async def test_rights_the_platform_cannot_tell_keep_the_subscription(h: Harness) -> None:
    await history(h)
    await h.chat.command("mod", "/subscribe", role=MOD)
    h.clock.set(MONDAY_9)
    await feature(h).tick()  # h.chat.roles says nothing about "mod": unknown, kept
    assert len(digests_to(h, "mod")) == 1


async def test_unsubscribe(h: Harness) -> None:
    await h.chat.command("boss", "/subscribe", role=ADMIN)
    assert await h.chat.command("boss", "/unsubscribe weekly") == [
        "You will no longer receive the weekly digest here."
    ]
    assert await h.chat.command("boss", "/unsubscribe weekly") == [
        "You were not subscribed to that digest."
    ]
    await history(h)
    h.clock.set(MONDAY_9)
    await feature(h).tick()
    assert digests_to(h, "boss") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]
    # A member who lost their rights can still stop the messages.
    assert await h.chat.command("boss", "/unsubscribe", role=Role.MEMBER) == [
        "You will no longer receive the daily and weekly digest here."
    ]


async def test_subscribers_and_the_moderators_channel_both_get_it(h: Harness) -> None:
    await history(h)
    await h.chat.command("root", "/modchannel", role=ADMIN, channel="mods")
    await h.chat.command("mod", "/subscribe", role=MOD)
    h.clock.set(MONDAY_9)
    await feature(h).tick()
    posts = [a for a in h.chat.performed if isinstance(a, Post)]
    assert [p.target.channel_id for p in posts] == ["mods", "mods"]  # daily and weekly
    assert digests_to(h, "mod") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]


async def test_subscriptions_are_in_mydata_and_go_with_forgetme(h: Harness) -> None:
    await h.chat.command("boss", "/subscribe", role=ADMIN)
    privacy = next(f for f in h.engine.features if isinstance(f, PrivacyFeature))
    community = await h.engine.services.directory.find_community(None)
    member = await h.engine.services.directory.member(
        community.id, "memory", Author("boss", "boss")
    )
    data = await privacy.export(community.id, member)
    assert sorted(s["kind"] for s in data["digest_subscriptions"]) == ["day", "week"]
    await h.chat.command("boss", "/forgetme")
    await h.chat.command("boss", "/forgetme confirm")
    data = await privacy.export(community.id, member)
    assert data["digest_subscriptions"] == []
    await history(h)
    h.clock.set(MONDAY_9)
    await feature(h).tick()
    assert digests_to(h, "boss") == []


async def test_subscribing_in_chinese(h: Harness) -> None:
    await h.chat.command("root", "/language zh_Hans", role=ADMIN)
    (answer,) = await h.chat.command("mod", "/subscribe", role=MOD)
    assert "每日" in answer


async def test_a_recipient_on_a_missing_platform_delays_but_never_blocks(h: Harness) -> None:
    """A subscriber on a platform this process has no adapter for: the digest waits a while
    for a process that has one, then goes to everyone this process can reach."""
    await history(h)
    await h.chat.command("root", "/modchannel", role=ADMIN, channel="mods")
    # A moderator who subscribed on Discord (the community spans both platforms).
    community = await h.engine.services.directory.find_community(None)
    dmod = await h.engine.services.directory.member(community.id, "discord", Author("d", "d"))
    await feature(h).subscriptions.add(community, dmod, "discord", "d", ["day"], h.clock.now())
    await h.chat.command("mod", "/subscribe", role=MOD)  # and one here; no Discord adapter
    h.clock.set(MONDAY_9)
    # The weekly digest reaches all its recipients here; the daily one waits: another
    # process may have Discord.
    assert await feature(h).tick() == [(1, "week", "2026-01-05")]
    h.clock.set(MONDAY_9 + timedelta(minutes=16))
    assert await feature(h).tick() == [(1, "day", "2026-01-11")]
    assert digests_to(h, "mod") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]
    assert "mods" in [a.target.channel_id for a in h.chat.performed if isinstance(a, Post)]


async def test_subscriptions_survive_a_restart(db_url: str, clock: ManualClock) -> None:
    first = await start_harness(settings(db_url), clock)
    await history(first)
    await first.chat.command("mod", "/subscribe", role=MOD)
    await first.engine.stop()
    second = await start_harness(settings(db_url), clock)
    try:
        second.clock.set(MONDAY_9)
        assert (1, "day", "2026-01-11") in await feature(second).tick()
        assert digests_to(second, "mod") == ["📊 Daily digest · group-1 · 2026-01-11 (UTC)"]
    finally:
        await second.engine.stop()
