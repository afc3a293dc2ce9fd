"""Digests through the engine: the rendered report (escaping per markup, health flags,
Chinese), `/digest`, scheduled daily and weekly digests sent exactly once, charts, and the
`hearth digest` command line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import MemoryAdapter
from bot.clock import ManualClock
from bot.config import Settings
from bot.events import Action, Author, CommandInvoked, DirectMessage, Post, Role
from bot.features.digest.feature import DigestFeature
from bot.features.digest.periods import period_containing
from bot.features.digest.render import render, render_card
from bot.i18n import translator
from tests.conftest import Harness, make_settings, start_harness
from tests.test_cli import hearth

MOD, ADMIN = Role.MODERATOR, Role.ADMIN
UTC = ZoneInfo("UTC")


def settings(url: str, **digest: Any) -> Settings:
    return make_settings(url, schedule={"worker": False}, digest={"charts": False, **digest})


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=UTC)


def feature(h: Harness) -> DigestFeature:
    return next(f for f in h.engine.features if isinstance(f, DigestFeature))


async def command(
    h: Harness, line: str, *, role: Role = MOD, channel: str | None = None
) -> list[Action]:
    """Run a command as moderator "mod" and return every action (not only replies)."""
    name, _, args = line.removeprefix("/").partition(" ")
    event = CommandInvoked(
        place=h.chat.place(channel),
        invoker=Author("mod", "mod"),
        name=name,
        args=args,
        sent_at=h.clock.now(),
        invoker_role=role,
        message_id=f"cmd-{line}-{h.clock.now().isoformat()}",
    )
    return await h.chat.send(event)


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    harness = await start_harness(settings(sqlite_url), clock)
    yield harness
    await harness.engine.stop()


async def history(h: Harness) -> None:
    """Two members with awkward names talk on Sunday 2026-01-11 (UTC)."""
    h.clock.set(at("2026-01-11", "10:00"))
    await h.chat.say("<b>@everyone</b>", "hello all", message_id="m1")
    await h.chat.say("*_~", "hi there", message_id="m2", reply_to="m1")
    await h.chat.say("*_~", "what a day", message_id="m3")
    await h.engine.services.writer.flush()


async def test_names_are_text_in_every_markup(h: Harness) -> None:
    await history(h)
    community = await h.engine.services.directory.find_community(None)
    period = period_containing("day", date(2026, 1, 11), "UTC")
    report = await feature(h).report(community, period)
    digest = h.engine.services.settings.digest
    tr = translator("en")
    text = render(report, digest, tr, "text")
    assert "Top posters: *_~ (2), <b>@everyone</b> (1)" in text
    html = render(report, digest, tr, "html")
    assert "&lt;b&gt;@everyone&lt;/b&gt; (1)" in html
    assert "<b>@everyone" not in html
    assert html.startswith("<b>📊 Daily digest · ")
    markdown = render(report, digest, tr, "markdown")
    assert r"\*\_\~ (2), \<b\>@everyone\</b\> (1)" in markdown


async def test_headline_first_with_arrows_then_health_flags(h: Harness) -> None:
    await history(h)
    community = await h.engine.services.directory.find_community(None)
    report = await feature(h).report(community, period_containing("day", date(2026, 1, 11), "UTC"))
    lines = render(report, h.engine.services.settings.digest, translator("en")).splitlines()
    assert lines[0] == "📊 Daily digest · group-1 · 2026-01-11 (UTC)"
    assert lines[1] == "Messages 3 ▲ 3 · Active members 2 ▲ 2 · Joined 0 ＝ · Left 0 ＝"
    assert lines[2].startswith("Net growth +0 · DAU 2 · WAU 2 · MAU 2 · stickiness 100%")
    assert lines[4] == "Health"
    # Both members were active this week: 100% ≥ 60%; no new members, no questions.
    assert lines[5] == "✅ Weekly-active share 100% (target ≥ 60%)"
    assert lines[6] == "· 7-day new-member retention — (target ≥ 35%)"
    assert lines[7] == "· Median first reply to a question — (target ≤ 30 min)"


async def test_missed_targets_are_flagged(h: Harness) -> None:
    h.clock.set(at("2026-01-01"))
    for name in ("a", "b", "c"):
        await h.chat.say(name, "early days")
    h.clock.set(at("2026-01-11"))
    await h.chat.say("a", "How do I join the event?", message_id="q")
    h.clock.set(at("2026-01-11", "13:00"))
    await h.chat.say("b", "Sign up on the site", reply_to="q")
    await h.engine.services.writer.flush()
    community = await h.engine.services.directory.find_community(None)
    report = await feature(h).report(community, period_containing("day", date(2026, 1, 11), "UTC"))
    text = render(report, h.engine.services.settings.digest, translator("en"))
    assert "⚠️ Weekly-active share 67% (target ≥ 60%)" not in text
    assert "✅ Weekly-active share 67% (target ≥ 60%)" in text
    assert "⚠️ Median first reply to a question 60 min (target ≤ 30 min)" in text


async def test_digest_command_is_for_moderators_and_posts_here(h: Harness) -> None:
    await history(h)
    h.clock.set(at("2026-01-12", "08:00"))
    assert await h.chat.command("bob", "/digest") == ["Only moderators and admins can use /digest."]
    actions = await command(h, "/digest day", channel="mods")
    (post,) = [a for a in actions if isinstance(a, Post)]
    assert post.target.channel_id == "mods"
    assert post.text.startswith("📊 Daily digest · group-1 · 2026-01-11 (UTC)")
    assert "<b>@\u200beveryone</b>" in post.text  # the engine defuses mass mentions
    await h.chat.command("root", "/language zh_Hans", role=ADMIN)
    actions = await command(h, "/digest week")
    (post,) = [a for a in actions if isinstance(a, Post)]
    assert post.text.startswith("📊 每周摘要 · group-1 · 2026-01-05 – 2026-01-11 (UTC)")


async def test_digest_command_attaches_a_png_chart(sqlite_url: str, clock: ManualClock) -> None:
    h = await start_harness(settings(sqlite_url, charts=True), clock)
    try:
        await history(h)
        h.clock.set(at("2026-01-12", "08:00"))
        actions = await command(h, "/digest")
        (post,) = [a for a in actions if isinstance(a, Post)]
        assert post.image is not None
        chart = Path(post.image)
        assert chart.read_bytes().startswith(b"\x89PNG")  # noqa: ASYNC240 - a test
    finally:
        await h.engine.stop()
    assert not chart.exists()  # noqa: ASYNC240 - chart files go when Hearth stops


async def test_scheduled_digests_are_sent_once_at_local_time(
    db_url: str, clock: ManualClock
) -> None:
    first = await start_harness(settings(db_url), clock)
    second = await start_harness(settings(db_url), clock)  # another process, same database
    try:
        await history(first)
        assert await feature(first).tick() == []  # no moderators' channel yet
        await first.chat.command("root", "/timezone Asia/Shanghai", role=ADMIN)
        await first.chat.command("root", "/modchannel", role=ADMIN, channel="mods")
        first.clock.set(datetime(2026, 1, 12, 8, 59, tzinfo=ZoneInfo("Asia/Shanghai")))
        assert await feature(first).tick() == []
        first.clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        # Monday 09:00: yesterday's daily digest and last week's weekly digest.
        assert await feature(first).tick() == [(1, "day", "2026-01-11"), (1, "week", "2026-01-05")]
        assert await feature(first).tick() == []
        assert await feature(second).tick() == []
        first.clock.set(datetime(2026, 1, 13, 14, 59, tzinfo=ZoneInfo("Asia/Shanghai")))
        assert await feature(second).tick() == [(1, "day", "2026-01-12")]  # late, in grace
        first.clock.set(datetime(2026, 1, 14, 15, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
        assert await feature(first).tick() == []  # more than 6 hours late: skipped
    finally:
        await first.engine.stop()
        await second.engine.stop()
    posts = [a for a in first.chat.performed + second.chat.performed if isinstance(a, Post)]
    assert [p.target.channel_id for p in posts] == ["mods"] * 3
    assert posts[1].text.startswith("📊 Weekly digest · group-1 · 2026-01-05 – 2026-01-11")


async def test_weekly_digest_goes_to_admin_recipients_by_dm(
    sqlite_url: str, clock: ManualClock
) -> None:
    recipients = {"group-1": ["memory:alice", "memory:bob"]}
    h = await start_harness(settings(sqlite_url, weekly_recipients=recipients), clock)
    try:
        await history(h)
        await h.chat.command("root", "/modchannel", role=ADMIN, channel="mods")
        h.clock.set(at("2026-01-12", "09:00"))
        assert await feature(h).tick() == [(1, "day", "2026-01-11"), (1, "week", "2026-01-05")]
    finally:
        await h.engine.stop()
    dms = [a for a in h.chat.performed if isinstance(a, DirectMessage)]
    assert [(d.platform, d.user_id) for d in dms] == [("memory", "alice"), ("memory", "bob")]
    assert all(d.text.startswith("📊 Weekly digest") for d in dms)
    daily = [a for a in h.chat.performed if isinstance(a, Post)]
    assert [p.target.channel_id for p in daily] == ["mods"]


def test_hearth_digest_prints_the_report_and_writes_charts(tmp_path: Path) -> None:
    chat = hearth("run", stdin="hello everyone\nhow is it going?\n", cwd=tmp_path)
    assert chat.returncode == 0, chat.stderr
    today = datetime.now(UTC).date().isoformat()
    out = hearth("digest", "--date", today, "--charts", "charts", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"📊 Daily digest · console · {today} (UTC)\n")
    assert "Messages 2 ▲ 2" in out.stdout
    for name in ("activity.png", "heatmap.png"):
        assert (tmp_path / "charts" / name).read_bytes().startswith(b"\x89PNG")
    html = hearth("digest", "--period", "week", "--format", "html", cwd=tmp_path)
    assert html.stdout.startswith("<b>📊 Weekly digest · console · ")
    bad = hearth("digest", "--community", "nope", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("hearth: error: no community 'nope'")


async def test_discord_gets_the_digest_as_a_card(h: Harness) -> None:
    """On Discord the digest is an embed: the headline as title and description, sections as
    fields, orange when a health target is missed; names escaped, nobody pinged."""
    await history(h)
    discord_chat = MemoryAdapter(h.engine, h.clock, platform="discord", group="g-1")
    h.clock.set(at("2026-01-11", "10:30"))
    await discord_chat.say("carol", "How do I join the event?", message_id="q1")
    h.clock.set(at("2026-01-11", "11:45"))
    await discord_chat.say("dave", "Sign up on the site", message_id="a1", reply_to="q1")
    h.clock.set(at("2026-01-12", "08:00"))
    actions = await discord_chat.send(
        CommandInvoked(
            place=discord_chat.place(),
            invoker=Author("mod", "mod"),
            name="digest",
            args="",
            sent_at=h.clock.now(),
            invoker_role=MOD,
            message_id="d1",
        )
    )
    (post,) = [a for a in actions if isinstance(a, Post)]
    card = post.card
    assert card is not None
    assert card.title == "📊 Daily digest · g\\-1 · 2026-01-11 (UTC)"
    assert card.description.startswith("Messages 2 ▲ 2 · Active members 2 ▲ 2")
    assert [name for name, _ in card.fields] == [
        "Health",
        "Members",
        "Activity",
        "Questions, points and posts",
    ]
    assert card.colour == 0xE67E22  # the first reply took 75 minutes: a target missed
    assert "⚠️ Median first reply to a question 75 min" in dict(card.fields)["Health"]
    assert "carol (1)" in dict(card.fields)["Activity"]
    # The memory platform (Telegram, console) has no cards: text only.
    (plain,) = [a for a in await command(h, "/digest") if isinstance(a, Post)]
    assert plain.card is None


async def test_card_names_are_escaped_and_defused(h: Harness) -> None:
    await history(h)
    community = await h.engine.services.directory.find_community(None)
    report = await feature(h).report(community, period_containing("day", date(2026, 1, 11), "UTC"))
    card = render_card(report, h.engine.services.settings.digest, translator("en"))
    activity = dict(card.fields)["Activity"]
    assert "\\*\\_\\~ (2)" in activity
    assert "\\<b\\>@everyone\\</b\\> (1)" in activity
    assert card.colour == 0x2ECC71 or card.colour == 0x5865F2
