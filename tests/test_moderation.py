"""Moderation through the engine: floods, repeated text, links and invites from new members,
blocked phrases (Chinese and English, evasions), the warning ladder, the audit log, alerts to
moderators, undo, and that moderators are never auto-moderated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory import MemoryAdapter
from bot.clock import ManualClock
from bot.events import (
    Action,
    Author,
    CommandInvoked,
    DeleteMessage,
    Post,
    Restrict,
    Role,
    Sanction,
)
from bot.features.moderation import feature as moderation
from bot.features.moderation.rules import PhraseMatcher, RepeatTracker, find_invite, find_link
from bot.text.normalize import fingerprint, normalize
from storage.activity import count_messages
from tests.conftest import Harness, make_settings, start_harness

MOD, ADMIN = Role.MODERATOR, Role.ADMIN


async def started(url: str, clock: ManualClock, **moderation: Any) -> Harness:
    h = await start_harness(
        make_settings(url, schedule={"worker": False}, moderation=moderation), clock
    )
    await h.chat.command("root", "/modchannel", role=ADMIN, channel="mods")
    return h


@pytest.fixture
async def h(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    harness = await started(db_url, clock)
    yield harness
    await harness.engine.stop()


def deleted(actions: list[Action]) -> list[str]:
    return [a.message_id for a in actions if isinstance(a, DeleteMessage)]


def posts(h: Harness, channel: str) -> list[str]:
    return [
        a.text for a in h.chat.performed if isinstance(a, Post) and a.target.channel_id == channel
    ]


def restricts(actions: list[Action]) -> list[Restrict]:
    return [a for a in actions if isinstance(a, Restrict)]


async def burst(h: Harness, user: str, count: int, prefix: str) -> list[Action]:
    actions: list[Action] = []
    for n in range(count):
        actions += await h.chat.say(user, f"{prefix} message number {n}", message_id=f"{prefix}{n}")
        h.clock.advance(timedelta(seconds=1))
    return actions


async def test_a_flood_is_deleted_warned_then_muted_on_repeat(h: Harness) -> None:
    actions = await burst(h, "spammer", 9, "a")
    # The 7th message in 10 seconds starts the flood; the rest of it goes quietly.
    assert deleted(actions) == ["a6", "a7", "a8"]
    notices = [a.text for a in actions if isinstance(a, Post)]
    assert notices == [
        "spammer, your message was removed: too many messages too fast. This is a warning."
    ]
    (alert,) = posts(h, "mods")
    assert alert.startswith("🛡️ Hearth deleted a message from spammer in #general")
    assert "Undo: /mod undo 1" in alert
    assert not restricts(actions)
    h.clock.advance(timedelta(minutes=2))
    again = await burst(h, "spammer", 7, "b")
    (mute,) = restricts(again)
    assert mute.sanction is Sanction.MUTE
    assert mute.user_id == "spammer"
    assert mute.until is not None
    assert mute.until - h.clock.now() > timedelta(minutes=9)


async def test_moderators_are_never_auto_moderated(h: Harness) -> None:
    h.chat.roles["boss"] = MOD
    assert deleted(await burst(h, "boss", 9, "m")) == []
    await h.chat.command("root", "/mod words add spoiler", role=ADMIN)
    assert deleted(await h.chat.say("boss", "spoiler: it was the butler")) == []


async def test_repeated_text_across_channels(h: Harness) -> None:
    text = "Buy followers cheap at my shop"
    first = await h.chat.say("bob", text, message_id="r1")
    h.clock.advance(timedelta(seconds=30))
    second = await h.chat.say("bob", text.upper(), message_id="r2", channel="offtopic")
    h.clock.advance(timedelta(seconds=30))
    third = await h.chat.say("bob", f"  {text} ", message_id="r3", channel="random")
    assert deleted(first + second) == []
    assert deleted(third) == ["r3"]
    for n in range(5):  # short replies repeat all the time in a chat
        assert deleted(await h.chat.say("ann", "ok", message_id=f"ok{n}")) == []
    h.clock.advance(timedelta(minutes=10))
    assert deleted(await h.chat.say("cid", "same old joke here", message_id="j1")) == []
    h.clock.advance(timedelta(minutes=3))
    assert deleted(await h.chat.say("cid", "same old joke here", message_id="j2")) == []


async def test_links_and_invites_from_new_members_are_held(h: Harness) -> None:
    await h.chat.say("old", "hi all")  # never seen joining: not new
    assert deleted(await h.chat.say("old", "see https://example.org/x")) == []
    await h.chat.join("newbie")
    held = await h.chat.say("newbie", "join us at discord.gg/abc123 !!", message_id="n1")
    assert deleted(held) == ["n1"]
    assert [a.text for a in held if isinstance(a, Post)] == [
        "newbie, your message is held for the moderators: an invite link from a member who "
        "joined less than 24 hours ago."
    ]
    alert = posts(h, "mods")[-1]
    assert alert.startswith("🛡️ Hearth held a message from newbie in #general")
    assert "“join us at discord.gg/abc123 !!”" in alert
    assert deleted(await h.chat.say("newbie", "看看 www.spam.cn 吧", message_id="n2")) == ["n2"]
    assert deleted(await h.chat.say("newbie", "just words, no links")) == []
    h.clock.advance(timedelta(hours=25))
    assert deleted(await h.chat.say("newbie", "my blog: example.com/post")) == []


async def test_blocked_phrases_in_chinese_and_english(h: Harness) -> None:
    refused = await h.chat.command("bob", "/mod words add 最优惠")
    assert refused == ["Only admins can use /mod words."]
    assert await h.chat.command("root", "/mod words add 最优惠", role=ADMIN) == [
        "“最优惠” is blocked."
    ]
    await h.chat.command("root", "/mod words add free money", role=ADMIN)
    assert await h.chat.command("root", "/mod words list", role=ADMIN) == [
        "Blocked phrases: free money · 最优惠"
    ]
    assert deleted(await h.chat.say("bob", "本店最 优 惠！快来", message_id="w1")) == ["w1"]
    h.clock.advance(timedelta(minutes=5))
    assert deleted(await h.chat.say("ann", "ＦＲＥＥ ＭＯＮＥＹ here", message_id="w2")) == ["w2"]
    h.clock.advance(timedelta(minutes=5))
    assert deleted(await h.chat.say("cid", "get f.r.e.e m-o-n-e-y", message_id="w3")) == ["w3"]
    assert deleted(await h.chat.say("dee", "freedom is money well spent", message_id="w4")) == []
    assert await h.chat.command("root", "/mod words remove free money", role=ADMIN) == [
        "“free money” is allowed again."
    ]
    assert deleted(await h.chat.say("eve", "free money!", message_id="w5")) == []
    usage = await h.chat.command("root", "/mod words add", role=ADMIN)
    assert usage == ["Give the phrase: /mod words add <phrase>"]


def test_phrase_matching_rules() -> None:
    matcher = PhraseMatcher(["ass", "绝对低价", "casino"])
    assert matcher.find("what a classic") is None
    assert matcher.find("you ASS") == "ass"
    assert matcher.find("全场绝对 低价") == "绝对低价"
    assert matcher.find("c a s i n o night") == "casino"
    assert matcher.find("cas\u200bino") == "casino"  # zero-width space
    assert find_invite("https://t.me/+AbCd") == "https://t.me/+abcd"
    assert find_invite("discord.com/invite/xyz") == "discord.com/invite/xyz"
    assert find_link("no link here. Really.") is None
    assert find_link("visit shop.example.com now") == "shop.example.com"


async def test_the_warning_ladder(db_url: str, clock: ManualClock) -> None:
    h = await started(db_url, clock)
    try:
        await h.chat.say("bob", "hello")
        first = await h.chat.command("mod", "/warn bob spamming links", role=MOD)
        assert first == []  # the warning is posted, not a private reply
        said = [a.text for a in h.chat.performed if isinstance(a, Post)][-1]
        assert said == "⚠️ bob is warned (#1): spamming links"
        await h.chat.command("mod", "/warn bob again", role=MOD)
        actions = await h.chat.send(_command(h, "/warn bob third time"))
        (mute,) = restricts(actions)
        assert (mute.sanction, mute.user_id) == (Sanction.MUTE, "bob")
        assert mute.until == h.clock.now() + timedelta(minutes=60)
        listing = (await h.chat.command("mod", "/warnings bob", role=MOD))[0]
        assert listing.splitlines()[0] == "Warnings of bob:"
        assert "third time" in listing.splitlines()[1]
        assert await h.chat.command("mod", "/unwarn 3", role=MOD) == ["Warning #3 is revoked."]
        assert "(revoked)" in (await h.chat.command("mod", "/warnings bob", role=MOD))[0]
        for n in range(3):
            actions = await h.chat.send(_command(h, f"/warn bob number {n}"))
        # Five active warnings: automatic bans are off, so the moderators decide.
        assert not [r for r in restricts(actions) if r.sanction is Sanction.BAN]
        assert "decide whether to ban them" in posts(h, "mods")[-1]
        assert await h.chat.command("bob", "/warn mod revenge") == [
            "Only moderators and admins can use /warn."
        ]
    finally:
        await h.engine.stop()


async def test_auto_ban_when_enabled(sqlite_url: str, clock: ManualClock) -> None:
    h = await started(sqlite_url, clock, auto_ban=True, mute_after=2, ban_after=3)
    try:
        await h.chat.say("bob", "hello")
        actions: list[Action] = []
        for n in range(3):
            actions += await h.chat.send(_command(h, f"/warn bob {n}"))
        assert [r.sanction for r in restricts(actions)] == [Sanction.MUTE, Sanction.BAN]
    finally:
        await h.engine.stop()


async def test_undo_restores_the_message_and_lifts_the_mute(h: Harness) -> None:
    await h.chat.join("newbie")
    await h.chat.say("newbie", "my portfolio: https://example.org", message_id="p1")
    answer = await h.chat.send(_command(h, "/mod undo 1"))
    restored = [a.text for a in answer if isinstance(a, Post)]
    assert restored == [
        "Restored by a moderator — newbie wrote: my portfolio: https://example.org",
        "Undone: #1 (newbie).",
    ]
    assert await h.chat.command("mod", "/mod undo 1", role=MOD) == ["Action #1 was already undone."]
    # A flood that ended in a mute: one undo lifts the mute and revokes the warning.
    await burst(h, "spammer", 7, "a")
    h.clock.advance(timedelta(minutes=1))
    muted = await burst(h, "spammer", 7, "b")
    assert restricts(muted)
    log = (await h.chat.command("mod", "/mod log", role=MOD))[0]
    assert "Hearth muted spammer" in log
    mute_id = int(log.splitlines()[1].split(" ")[0].removeprefix("#"))
    lifted = await h.chat.send(_command(h, f"/mod undo {mute_id}"))
    (unmute,) = restricts(lifted)
    assert unmute.sanction is Sanction.UNMUTE
    listing = (await h.chat.command("mod", "/warnings spammer", role=MOD))[0]
    assert listing.count("(revoked)") == 1


async def test_a_community_cannot_touch_anothers_records(db_url: str, clock: ManualClock) -> None:
    h = await started(db_url, clock)
    try:
        await h.chat.say("bob", "hello")
        await h.chat.command("mod", "/warn bob rude", role=MOD)
        other = MemoryAdapter(h.engine, clock, group="group-2")
        await other.say("eve", "hi")
        assert await other.command("mod", "/unwarn 1", role=MOD) == [
            "There is no active warning #1 here."
        ]
        assert await other.command("mod", "/mod undo 1", role=MOD) == [
            "There is no moderation action #1 here."
        ]
        assert await other.command("mod", "/warnings bob", role=MOD) == [
            "No member called bob here."
        ]
    finally:
        await h.engine.stop()


def _command(h: Harness, line: str) -> CommandInvoked:
    """`line` run by the moderator "mod" (to see every action, not only replies)."""
    name, _, args = line.removeprefix("/").partition(" ")
    return CommandInvoked(
        place=h.chat.place(),
        invoker=Author("mod", "mod"),
        name=name,
        args=args,
        sent_at=h.clock.now(),
        invoker_role=MOD,
        message_id=f"cmd-{line}-{h.clock.now().isoformat()}",
    )


async def test_the_digest_counts_moderation(h: Harness) -> None:
    await h.chat.join("newbie")
    await h.chat.say("newbie", "t.me/joinchat/xyz free stuff", message_id="x1")
    h.clock.advance(timedelta(minutes=5))
    await h.chat.say("newbie", "see www.example.org", message_id="x2")
    await h.chat.command("mod", "/warn newbie stop", role=MOD)
    await h.chat.command("mod", "/mod undo 2", role=MOD)
    h.clock.advance(timedelta(days=1))
    (post,) = [a for a in await h.chat.send(_command(h, "/digest")) if isinstance(a, Post)]
    assert (
        "Moderation: 1 automatic actions (invites 1) · 1 warnings · 1 undone as false positives"
        in post.text
    )


def test_the_suggested_chinese_list_is_usable() -> None:
    path = Path(__file__).parent.parent / "examples" / "blocked_words_zh.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    phrases = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(phrases) >= 20
    assert "最优惠" in phrases
    matcher = PhraseMatcher(phrases)
    for phrase in phrases:
        spaced = " ".join(phrase)
        assert matcher.find(f"今天{spaced}！") is not None, phrase
    assert matcher.find("今天天气很好，我们去公园吧") is None


async def test_held_messages_reach_moderators_even_without_alerts(
    sqlite_url: str, clock: ManualClock
) -> None:
    h = await started(sqlite_url, clock, alerts=False)
    try:
        await h.chat.join("newbie")
        await h.chat.say("newbie", "buy at shop.example.com", message_id="s1")
        await burst(h, "spammer", 7, "f")  # a flood: deleted, but no alert
        alerts = posts(h, "mods")
        assert len(alerts) == 1
        assert alerts[0].startswith("🛡️ Hearth held a message from newbie")
    finally:
        await h.engine.stop()


async def test_a_removed_message_earns_nothing_and_gets_no_faq_answer(h: Harness) -> None:
    """Moderation comes before points and the FAQ: a deleted message is still logged (the
    ground truth of activity) but earns no XP and is not answered."""
    await h.chat.command("root", "/faq add How do I join? | Click Join on the website.", role=ADMIN)
    await h.chat.command("root", "/mod words add casino", role=ADMIN)
    actions = await h.chat.say("bob", "how do I join the casino?", message_id="c1")
    assert deleted(actions) == ["c1"]
    assert "Click Join on the website." not in [getattr(a, "text", "") for a in actions]
    (rank,) = await h.chat.command("bob", "/rank")
    assert "0 XP" in rank
    answered = await h.chat.say("ann", "how do I join?", message_id="c2")
    assert "Click Join on the website." in [getattr(a, "text", "") for a in answered]
    await h.engine.services.writer.flush()
    async with h.database.session() as session:
        community = await h.engine.services.directory.find_community(None)
        assert await count_messages(session, community_id=community.id) >= 2


async def test_console_scripts_are_not_floods(h: Harness) -> None:
    """Piped console lines all arrive at once: flood and repeat rules skip the console
    (`rate_exempt_platforms`); blocked phrases still apply there."""
    console = MemoryAdapter(h.engine, h.clock, platform="console", group="console")
    actions: list[Action] = []
    for n in range(9):
        actions += await console.say("you", "How do I reset my password?", message_id=f"k{n}")
    assert deleted(actions) == []
    await console.command("you", "/mod words add casino", role=ADMIN)
    assert deleted(await console.say("you", "casino night!", message_id="k-c")) == ["k-c"]


async def test_new_members_are_known_after_a_restart_and_storage_is_asked_once(
    db_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await started(db_url, clock)
    await first.chat.join("newbie")
    await first.engine.stop()
    second = await start_harness(make_settings(db_url, schedule={"worker": False}), clock)
    try:
        asked: list[int] = []
        real = moderation.last_join

        async def counting(session: Any, *, community_id: int, member_id: int) -> Any:
            asked.append(member_id)
            return await real(session, community_id=community_id, member_id=member_id)

        monkeypatch.setattr(moderation, "last_join", counting)
        clock.advance(timedelta(hours=1))
        held = await second.chat.say("newbie", "see www.example.org", message_id="r1")
        assert deleted(held) == ["r1"]  # the join logged before the restart counts
        for n in range(5):  # an old member's links: storage is asked once, then remembered
            await second.chat.say("old", f"link {n}: www.example.org/{n}", message_id=f"o{n}")
        assert len(asked) == 2
    finally:
        await second.engine.stop()


async def test_warnings_and_blocked_phrases_survive_a_restart(
    db_url: str, clock: ManualClock
) -> None:
    first = await started(db_url, clock)
    await first.chat.say("bob", "hello")
    await first.chat.command("mod", "/warn bob one", role=MOD)
    await first.chat.command("mod", "/warn bob two", role=MOD)
    await first.chat.command("root", "/mod words add casino", role=ADMIN)
    await first.engine.stop()
    second = await start_harness(make_settings(db_url, schedule={"worker": False}), clock)
    try:
        (mute,) = restricts(await second.chat.send(_command(second, "/warn bob three")))
        assert mute.sanction is Sanction.MUTE  # the third warning counts the two before
        assert deleted(await second.chat.say("ann", "casino tonight", message_id="x")) == ["x"]
    finally:
        await second.engine.stop()


@given(st.text(max_size=80))
def test_the_fast_fingerprint_is_the_letters_and_digits_of_normalize(text: str) -> None:
    """Repeat detection (points and moderation) runs `fingerprint` on every message; its fast
    form must keep meaning what it always meant."""
    assert fingerprint(text) == "".join(char for char in normalize(text) if char.isalnum())


def test_repeats_ignore_links_punctuation_and_width() -> None:
    tracker = RepeatTracker(3, timedelta(minutes=2), 8)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    copies = [
        "Join my server: https://a.example",
        "JOIN my server!! https://b.example",
        "ｊｏｉｎ my server",
    ]
    seen = [
        tracker.add((1, 1), text, start + timedelta(seconds=n)) for n, text in enumerate(copies)
    ]
    assert seen == [False, False, True]


async def test_the_moderation_window_survives_a_restart_on_each_backend(
    db_url: str, clock: ManualClock
) -> None:
    """The read-back queries (messages in a window, Hearth's own deletions) on SQLite and
    PostgreSQL: a flood split by a restart, then a second flood that mutes."""
    first = await started(db_url, clock)
    await burst(first, "spammer", 4, "a")
    await first.engine.stop()
    second = await started(db_url, clock)
    try:
        actions = await burst(second, "spammer", 3, "b")
        assert deleted(actions) == ["b2"]  # the 7th message in 10 seconds, across the restart
    finally:
        await second.engine.stop()
    clock.advance(timedelta(minutes=2))
    third = await started(db_url, clock)
    try:
        (mute,) = restricts(await burst(third, "spammer", 7, "c"))
        assert mute.sanction is Sanction.MUTE  # the flood before the restart counts
    finally:
        await third.engine.stop()
