"""The Discord adapter end to end: the real discord.py client against a fake Discord."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.chunks import split_message
from adapters.discord_adapter import MESSAGE_LIMIT, DiscordAdapter, sync_global_commands
from adapters.discord_commands import command_payloads, invocation
from adapters.discord_send import MAX_TIMEOUT
from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.commands import Command, CommandCall, CommandRegistry, Param, ParamKind, parse_arguments
from bot.engine import Engine
from bot.errors import ConfigError, DeliveryFailed, DeliveryProblem
from bot.events import (
    Action,
    Card,
    DeleteMessage,
    DirectMessage,
    GrantRole,
    Place,
    Poll,
    Post,
    React,
    Reply,
    Restrict,
    Role,
    Sanction,
)
from bot.features.activity import ActivityFeature
from bot.features.base import BaseFeature
from bot.features.community import CommunityFeature
from bot.features.moderation.feature import ModerationFeature
from bot.i18n import translator
from storage.models import Member, MemberEvent, MessageLog, ReactionLog
from tests.conftest import make_settings
from tests.fakes.discord_server import (
    ADMINS_ROLE_ID,
    APP_ID,
    BOT_ID,
    GENERAL_ID,
    GUILD_ID,
    GUILD_MEMBERS_LIMITED,
    INTENT_MEMBERS,
    INTENT_MESSAGE_CONTENT,
    MESSAGE_CONTENT_LIMITED,
    MODS_ID,
    REWARD_ROLE_ID,
    THREAD_ID,
    Call,
    FakeDiscord,
    member,
)

GUILD = str(GUILD_ID)
GENERAL = str(GENERAL_ID)
ALICE = member(1001, "alice")
ROOT = member(1002, "root")
MANAGE_SERVER = 1 << 5
MANAGE_MESSAGES = 1 << 13
CALLBACK = r"/interactions/\d+/[^/]+/callback"
MESSAGES = rf"/channels/{GENERAL_ID}/messages"


class Sampler(BaseFeature):
    """Commands of every shape the registry allows, for rendering and round trips."""

    name = "sampler"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.gate = asyncio.Event()
        self.gate.set()

    def commands(self) -> Sequence[Command]:
        return (
            Command(
                name="give",
                group="points",
                handler=self.give,
                help="Give points to a member.",
                role=Role.MODERATOR,
                params=(
                    Param("member", ParamKind.MEMBER, help="Who gets them."),
                    Param("amount", ParamKind.INTEGER, minimum=1, maximum=100),
                    Param("reason", ParamKind.TEXT, required=False),
                ),
            ),
            Command(
                name="points",
                handler=self.show,
                help="Show points.",
                params=(Param("member", ParamKind.MEMBER, required=False),),
            ),
            Command(
                name="add",
                group="faq",
                handler=self.faq_add,
                help="Add a question and its answer.",
                role=Role.MODERATOR,
                params=(Param("question"), Param("answer", ParamKind.TEXT)),
                separator="|",
            ),
            Command(
                name="reward",
                handler=self.reward,
                help="Give a member a role.",
                role=Role.ADMIN,
                params=(Param("role", ParamKind.ROLE), Param("member", ParamKind.MEMBER)),
            ),
            Command(
                name="announce",
                handler=self.announce,
                help="Post an announcement.",
                role=Role.MODERATOR,
                params=(
                    Param("channel", ParamKind.CHANNEL),
                    Param("style", choices=("plain", "loud")),
                    Param("tags", variadic=True, required=False),
                ),
            ),
            Command(name="rank", handler=self.rank, help="Your rank, privately."),
            Command(name="post", handler=self.post, help="Post in the channel, reply nothing."),
        )

    async def give(self, call: CommandCall) -> str:
        await self.gate.wait()
        args = call.args
        return f"{args['member']} +{args['amount']} ({args['reason']})"

    async def show(self, call: CommandCall) -> str:
        return f"no points yet for {call.args['member'] or 'you'}"

    async def faq_add(self, call: CommandCall) -> str:
        return f"Q: {call.args['question']} A: {call.args['answer']}"

    async def reward(self, call: CommandCall) -> Sequence[Action]:
        place = call.event.place
        grant = GrantRole("discord", place.group_id, call.args["member"], call.args["role"])
        return [grant, Reply(place, call.event.message_id, "Role requested.")]

    async def announce(self, call: CommandCall) -> str:
        tags = " ".join(call.args["tags"])
        return f"{call.args['style']} in {call.args['channel']} [{tags}]"

    async def post(self, call: CommandCall) -> Sequence[Action]:
        return [Post(call.event.place, "Posted in the channel.")]

    async def rank(self, call: CommandCall) -> Sequence[Action]:
        return [Reply(call.event.place, call.event.message_id, "You are #1.", private=True)]


@dataclass
class Bot:
    """A started engine, the adapter connected to the fake, and helpers to observe them."""

    engine: Engine
    adapter: DiscordAdapter
    fake: FakeDiscord
    sampler: Sampler
    task: asyncio.Task[None]

    async def rows(self, model: Any, count: int = 1) -> list[Any]:
        """Wait until `model`'s table has `count` rows (the adapter handles events in tasks)."""
        async with asyncio.timeout(3):
            while True:
                await self.engine.services.writer.flush()
                async with self.engine.services.database.session() as session:
                    rows = list((await session.execute(select(model))).scalars())
                if len(rows) >= count:
                    return rows
                await asyncio.sleep(0.005)

    async def command(self, invoker: dict[str, Any], name: str, *options: Any, **kw: Any) -> Call:
        """Run a slash command and return the interaction response it got."""
        before = len([c for c in self.fake.calls if c.path.endswith("/callback")])
        await self.fake.dispatch(
            "INTERACTION_CREATE", self.fake.interaction(invoker, name, list(options), **kw)
        )
        calls = await self.fake.wait_for("POST", CALLBACK, count=before + 1)
        return calls[-1]


Connect = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def connect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Connect]:
    """Start fake Discord, engine and adapter with the given settings; stop them after."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with AsyncExitStack() as stack:

        async def start(
            *, flags: int | None = None, defer_after: float = 2.0, **discord_settings: Any
        ) -> Bot:
            fake = FakeDiscord() if flags is None else FakeDiscord(flags=flags)
            await fake.start()
            stack.push_async_callback(fake.close)
            monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
            monkeypatch.setattr(
                discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
            )
            settings = make_settings(
                f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}",
                discord={"token": "test-token", **discord_settings},
            )
            services = build_services(settings, clock=clock)
            sampler = Sampler(services)
            features = (
                ActivityFeature(services),
                CommunityFeature(services),
                ModerationFeature(services),
                sampler,
            )
            engine = Engine(services, features)
            await engine.start()
            stack.push_async_callback(engine.stop)
            adapter = DiscordAdapter(
                settings,
                clock,
                defer_after=defer_after,
                client_options={"guild_ready_timeout": 0.05},
            )
            engine.attach(adapter.name, adapter.perform, adapter.member_role)
            task = asyncio.create_task(adapter.run(engine))
            stack.push_async_callback(_stop, task)
            async with asyncio.timeout(3):
                await adapter.ready.wait()
            return Bot(engine, adapter, fake, sampler, task)

        yield start


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _option(name: str, kind: int, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def _content(call: Call) -> str:
    return str(call.json["data"]["content"])


# ---------------------------------------------------------------------- login and commands


async def test_login_registers_every_registry_command_in_the_guild(connect: Connect) -> None:
    bot = await connect()
    (sync,) = await bot.fake.wait_for("PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    commands = {command["name"]: command for command in sync.json}
    # /points is also a group (/points give): Discord shows it as /points show.
    paths = {c.path for c in bot.engine.registry} - {"points"} | {"points show"}
    rendered = set()
    for command in commands.values():
        subs = [o for o in command["options"] if o["type"] == 1]
        rendered |= {f"{command['name']} {s['name']}" for s in subs} or {command["name"]}
    assert rendered == paths
    assert commands["timezone"]["default_member_permissions"] == "32"  # Manage Server
    assert commands["help"]["default_member_permissions"] is None
    # /points show is for members, so the group stays visible to them.
    assert commands["points"]["default_member_permissions"] is None
    assert commands["faq"]["default_member_permissions"] == "8192"  # Manage Messages
    give = next(o for o in commands["points"]["options"] if o["name"] == "give")
    assert [(o["name"], o["type"], o["required"]) for o in give["options"]] == [
        ("member", 6, True),
        ("amount", 4, True),
        ("reason", 3, False),
    ]
    assert (give["options"][1]["min_value"], give["options"][1]["max_value"]) == (1, 100)
    announce = {o["name"]: o for o in commands["announce"]["options"]}
    assert (announce["channel"]["type"], announce["tags"]["type"]) == (7, 3)
    assert announce["style"]["choices"] == [
        {"name": "plain", "value": "plain"},
        {"name": "loud", "value": "loud"},
    ]
    assert commands["reward"]["options"][0]["type"] == 8
    assert commands["help"]["description"] == "Show the commands you can use, or how to use one."
    assert (
        commands["help"]["description_localizations"]["zh-CN"]
        == "显示你可以使用的命令，或某个命令的用法。"
    )
    assert all("contexts" not in command for command in commands.values())


async def test_global_sync_registers_guild_only_commands(connect: Connect) -> None:
    bot = await connect(sync_commands_at_start=False)
    count = await sync_global_commands(bot.engine.services.settings, bot.engine)
    (sync,) = await bot.fake.wait_for("PUT", rf"/applications/{APP_ID}/commands")
    assert count == len(sync.json) == len({c.group or c.name for c in bot.engine.registry})
    assert all(command["contexts"] == [0] for command in sync.json)
    assert not [c for c in bot.fake.calls if "/guilds/" in c.path and c.method == "PUT"]


async def test_slash_help_gets_an_interaction_response_that_pings_nobody(connect: Connect) -> None:
    bot = await connect()
    response = await bot.command(ALICE, "help")
    assert response.json["type"] == 4
    assert _content(response).startswith("Commands you can use:\n/help")
    assert "/timezone" not in _content(response)  # admin commands are not listed for members
    assert response.json["data"]["allowed_mentions"] == {"parse": []}
    assert "flags" not in response.json["data"]  # a public answer


async def test_admin_command_from_a_member_is_refused_even_if_the_ui_was_bypassed(
    connect: Connect,
) -> None:
    bot = await connect()
    response = await bot.command(ALICE, "timezone", _option("timezone", 3, "Asia/Shanghai"))
    assert _content(response) == "Only admins can use /timezone."
    group = await bot.engine.services.directory.group("discord", GUILD)
    assert group.community.timezone == "UTC"


async def test_members_with_manage_server_or_an_admin_role_run_admin_commands(
    connect: Connect,
) -> None:
    bot = await connect(admin_roles=["hearth admins"])
    berlin = _option("timezone", 3, "Europe/Berlin")
    response = await bot.command(ROOT, "timezone", berlin, permissions=MANAGE_SERVER)
    assert _content(response) == "Time zone set to Europe/Berlin."
    by_role = member(1003, "carol", roles=(ADMINS_ROLE_ID,))
    response = await bot.command(by_role, "timezone", _option("timezone", 3, "Asia/Shanghai"))
    assert _content(response) == "Time zone set to Asia/Shanghai."
    moderator = member(1004, "dave")
    response = await bot.command(moderator, "timezone", berlin, permissions=MANAGE_MESSAGES)
    assert _content(response) == "Only admins can use /timezone."


async def test_subcommand_options_become_the_arguments_the_engine_parses(connect: Connect) -> None:
    bot = await connect()
    give = {
        "type": 1,
        "name": "give",
        "options": [
            _option("member", 6, "1001"),
            _option("amount", 4, 5),
            _option("reason", 3, "a great answer"),
        ],
    }
    response = await bot.command(ROOT, "points", give, permissions=MANAGE_MESSAGES)
    assert _content(response) == "1001 +5 (a great answer)"
    faq = {
        "type": 1,
        "name": "add",
        "options": [_option("question", 3, "Where?"), _option("answer", 3, "Here | there")],
    }
    response = await bot.command(ROOT, "faq", faq, permissions=MANAGE_MESSAGES)
    assert _content(response) == "Q: Where? A: Here | there"
    options = (
        _option("channel", 7, str(MODS_ID)),
        _option("style", 3, "loud"),
        _option("tags", 3, "news  events"),
    )
    response = await bot.command(ROOT, "announce", *options, permissions=MANAGE_MESSAGES)
    assert _content(response) == f"loud in {MODS_ID} [news events]"


async def test_a_command_named_like_its_group_runs_as_show(connect: Connect) -> None:
    bot = await connect()
    show = {"type": 1, "name": "show", "options": [_option("member", 6, "1001")]}
    response = await bot.command(ALICE, "points", show)
    assert _content(response) == "no points yet for 1001"
    response = await bot.command(ALICE, "points", {"type": 1, "name": "show", "options": []})
    assert _content(response) == "no points yet for you"


async def test_private_answers_are_ephemeral_when_configured(connect: Connect) -> None:
    bot = await connect()
    response = await bot.command(ALICE, "rank")
    assert (_content(response), response.json["data"]["flags"]) == ("You are #1.", 64)


async def test_private_answers_are_public_when_ephemeral_replies_is_off(connect: Connect) -> None:
    bot = await connect(ephemeral_replies=False)
    response = await bot.command(ALICE, "rank")
    assert "flags" not in response.json["data"]


async def test_a_slow_command_is_deferred_then_answered(connect: Connect) -> None:
    bot = await connect(defer_after=0.01)
    bot.sampler.gate.clear()  # /points give waits until the test opens the gate
    give = {
        "type": 1,
        "name": "give",
        "options": [_option("member", 6, "1001"), _option("amount", 4, 2)],
    }
    response = await bot.command(ROOT, "points", give, permissions=MANAGE_MESSAGES)
    assert response.json == {"type": 5, "data": {"flags": 64}}  # "thinking…", privately
    bot.sampler.gate.set()
    (edit,) = await bot.fake.wait_for("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    assert edit.json["content"] == "1001 +2 (None)"
    assert edit.json["allowed_mentions"] == {"parse": []}


async def test_a_command_that_only_posts_still_answers_its_interaction(connect: Connect) -> None:
    """/digest posts an embed in the channel and replies nothing: the interaction must still
    be answered (else Discord shows "did not respond"), then the placeholder goes."""
    bot = await connect()
    response = await bot.command(ALICE, "post")
    assert response.json["type"] == 5  # acknowledged
    await bot.fake.wait_for("DELETE", r"/webhooks/\d+/[^/]+/messages/@original")
    (posted,) = await bot.fake.wait_for("POST", MESSAGES)
    assert posted.json["content"] == "Posted in the channel."


async def test_a_command_in_a_thread_is_placed_in_its_parent_channel(connect: Connect) -> None:
    bot = await connect()
    await bot.command(ALICE, "help", channel=THREAD_ID)
    (row,) = await bot.rows(MessageLog)
    assert (row.channel_id, row.thread_id, row.is_command) == (GENERAL, str(THREAD_ID), True)


# ---------------------------------------------------------------------- gateway events


async def test_member_messages_are_logged_and_the_bots_own_are_not(connect: Connect) -> None:
    bot = await connect()
    fake = bot.fake
    # Ignored ones first: their handlers return at once, before the counted ones are stored.
    await fake.dispatch("MESSAGE_CREATE", fake.message(member(BOT_ID, "Hearth"), "I am Hearth"))
    dm = fake.message(ALICE, "psst")
    del dm["guild_id"], dm["member"]
    await fake.dispatch("MESSAGE_CREATE", dm)
    await fake.dispatch("MESSAGE_CREATE", fake.message(member(1010, "robot", bot=True), "beep"))
    first = fake.message(ALICE, "hello <@1002>", mentions=[ROOT["user"]])
    await fake.dispatch("MESSAGE_CREATE", first)
    reference = {"message_id": first["id"], "channel_id": str(THREAD_ID)}
    reply = fake.message(ROOT, "hi!", channel=THREAD_ID, type=19, message_reference=reference)
    await fake.dispatch("MESSAGE_CREATE", reply)
    rows = {row.text: row for row in await bot.rows(MessageLog, 3)}
    assert set(rows) == {"beep", "hello <@1002>", "hi!"}
    hello, hi = rows["hello <@1002>"], rows["hi!"]
    assert (hello.message_id, hello.channel_id, hello.thread_id) == (first["id"], GENERAL, None)
    assert hello.mentions == 1
    assert hello.sent_at == discord.utils.snowflake_time(int(first["id"]))  # aware UTC
    assert (hi.reply_to, hi.channel_id, hi.thread_id) == (first["id"], GENERAL, str(THREAD_ID))
    robots = await bot.rows(Member, 3)
    assert {m.display_name: m.is_bot for m in robots} == {
        "robot": True,
        "alice": False,
        "root": False,
    }


async def test_joins_leaves_and_reactions_are_recorded(connect: Connect) -> None:
    bot = await connect()
    fake = bot.fake
    carol = member(1005, "carol")
    await fake.dispatch("GUILD_MEMBER_ADD", {**carol, "guild_id": GUILD})
    await fake.dispatch("GUILD_MEMBER_REMOVE", {"user": carol["user"], "guild_id": GUILD})
    reaction = {
        "user_id": "1001",
        "channel_id": str(THREAD_ID),
        "message_id": "5555",
        "guild_id": GUILD,
        "member": ALICE,
        "emoji": {"id": None, "name": "👍"},
        "type": 0,
        "burst": False,
    }
    await fake.dispatch("MESSAGE_REACTION_ADD", reaction)
    kinds = sorted(row.kind for row in await bot.rows(MemberEvent, 2))
    assert kinds == ["join", "leave"]
    (row,) = await bot.rows(ReactionLog)
    assert (row.emoji, row.message_id, row.channel_id) == ("👍", "5555", GENERAL)


async def test_an_invite_from_a_new_member_is_deleted_in_the_guild(connect: Connect) -> None:
    """Moderation end to end through discord.py: the join arrives on the gateway, the
    newcomer's invite link is deleted over REST with the reason, and the notice pings nobody."""
    bot = await connect()
    fake = bot.fake
    carol = member(1005, "carol")
    await fake.dispatch("GUILD_MEMBER_ADD", {**carol, "guild_id": GUILD})
    await bot.rows(MemberEvent, 1)
    spam = fake.message(carol, "free nitro at discord.gg/abc123")
    await fake.dispatch("MESSAGE_CREATE", spam)
    (deleted,) = await fake.wait_for("DELETE", rf"/channels/{GENERAL_ID}/messages/{spam['id']}")
    assert "invite link" in (deleted.reason or "")
    (notice,) = await fake.wait_for("POST", MESSAGES)
    assert notice.json["content"].startswith("carol, your message is held for the moderators")
    assert notice.json["allowed_mentions"] == {"parse": []}


async def test_without_the_message_content_intent_hearth_warns_and_still_counts(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.discord_adapter"):
        bot = await connect(flags=0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Message Content intent is not enabled" in w for w in warnings)
    assert any("Server Members intent is not enabled" in w for w in warnings)
    content_warning = next(w for w in warnings if "Message Content" in w)
    assert "FAQ cannot read questions" in content_warning
    assert "Activity is still counted" in content_warning
    assert "developer portal" in content_warning
    assert bot.fake.identify is not None
    assert not bot.fake.identify["intents"] & INTENT_MESSAGE_CONTENT  # else Discord says 4014
    await bot.fake.dispatch("MESSAGE_CREATE", bot.fake.message(ALICE, "a secret question"))
    (row,) = await bot.rows(MessageLog)
    assert (row.text, row.length) == ("", 0)


async def test_with_the_intent_granted_no_warning_is_logged(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.discord_adapter"):
        bot = await connect(flags=MESSAGE_CONTENT_LIMITED | GUILD_MEMBERS_LIMITED)
    assert "intent is not enabled" not in caplog.text
    assert bot.fake.identify is not None
    assert bot.fake.identify["intents"] & INTENT_MESSAGE_CONTENT
    assert bot.fake.identify["intents"] & INTENT_MEMBERS


# ---------------------------------------------------------------------- actions


async def test_replies_to_messages_may_only_ping_the_member_they_answer(connect: Connect) -> None:
    bot = await connect()
    place = Place("discord", GUILD, GENERAL)
    await bot.adapter.perform(Reply(place, "4242", "hi <@1001>, <@&1> and @everyone"))
    (sent,) = await bot.fake.wait_for("POST", MESSAGES)
    assert sent.json["content"] == "hi <@1001>, <@&1> and @everyone"
    assert sent.json["allowed_mentions"] == {"parse": [], "replied_user": True}
    assert str(sent.json["message_reference"]["message_id"]) == "4242"
    assert sent.json["message_reference"]["fail_if_not_exists"] is False


async def test_a_long_post_is_split_at_line_boundaries(connect: Connect) -> None:
    bot = await connect()
    lines = [f"line {n:03d} " + "x" * 40 for n in range(100)]  # 4,999 characters
    place = Place("discord", GUILD, GENERAL, str(THREAD_ID))
    await bot.adapter.perform(Post(place, "\n".join(lines)))
    sent = await bot.fake.wait_for("POST", rf"/channels/{THREAD_ID}/messages", count=3)
    assert [len(c.json["content"]) <= 2000 for c in sent] == [True, True, True]
    assert "\n".join(c.json["content"] for c in sent).split("\n") == lines
    assert all(c.json["allowed_mentions"] == {"parse": []} for c in sent)


async def test_polls_are_native_and_images_uploaded(connect: Connect, tmp_path: Path) -> None:
    bot = await connect()
    place = Place("discord", GUILD, GENERAL)
    await bot.adapter.perform(Post(place, "Vote!", poll=Poll("Lunch?", ("Pizza", "Noodles"))))
    image = tmp_path / "chart.png"
    image.write_bytes(b"\x89PNG fake")
    await bot.adapter.perform(Post(place, "Weekly chart", image=str(image)))
    # Linked images are fetched and uploaded too: tests/test_schedule_media.py.
    poll, upload = await bot.fake.wait_for("POST", MESSAGES, count=2)
    assert poll.json["poll"]["question"] == {"text": "Lunch?"}
    assert [a["poll_media"]["text"] for a in poll.json["poll"]["answers"]] == ["Pizza", "Noodles"]
    assert poll.json["poll"]["duration"] == 24
    assert (upload.json["content"], upload.files) == ("Weekly chart", ["chart.png"])
    with pytest.raises(DeliveryFailed) as missing:
        await bot.adapter.perform(Post(place, "x", image=str(tmp_path / "gone.png")))
    assert missing.value.problem is DeliveryProblem.FAILED
    assert "no image file" in missing.value.detail


async def test_digest_cards_are_embeds_with_the_chart_inside(
    connect: Connect, tmp_path: Path
) -> None:
    bot = await connect()
    place = Place("discord", GUILD, GENERAL)
    chart = tmp_path / "digest-1-day.png"
    chart.write_bytes(b"\x89PNG fake")
    card = Card(
        title="📊 Daily digest · Tea house · 2026-01-11 (UTC)",
        description="Messages 3 ▲ 3 · Active members 2 ▲ 2",
        fields=(("Health", "⚠️ Median first reply 75 min"), ("Activity", "x" * 1500)),
        colour=0xE67E22,
    )
    await bot.adapter.perform(Post(place, "the same as text", image=str(chart), card=card))
    (sent,) = await bot.fake.wait_for("POST", MESSAGES)
    (embed,) = sent.json["embeds"]
    assert embed["title"] == card.title
    assert embed["description"] == card.description
    assert embed["color"] == 0xE67E22
    assert [f["name"] for f in embed["fields"]] == ["Health", "Activity"]
    assert len(embed["fields"][1]["value"]) == 1024  # clipped to Discord's field limit
    assert embed["image"]["url"] == "attachment://chart.png"
    assert sent.files == ["chart.png"]
    assert not sent.json.get("content")  # the embed replaces the text
    assert sent.json["allowed_mentions"] == {"parse": []}

    # A card over Discord's 6,000-character total is sent as its text instead.
    huge = Card("title", "d" * 4000, fields=(("a", "v" * 1000), ("b", "w" * 1000)))
    await bot.adapter.perform(DirectMessage("discord", "1001", "plain digest", card=huge))
    text = (await bot.fake.wait_for("POST", r"/channels/\d+/messages", count=2))[-1]
    assert text.json["content"] == "plain digest"
    assert not text.json.get("embeds")


async def test_member_roles_are_read_from_discord_for_digest_recipients(
    connect: Connect,
) -> None:
    bot = await connect(admin_roles=["Hearth Admins"])
    bot.fake.members[1003] = member(1003, "carol", roles=(ADMINS_ROLE_ID,))
    assert await bot.adapter.member_role(GUILD, "1003") is Role.ADMIN
    assert await bot.adapter.member_role(GUILD, "1001") is Role.MEMBER
    assert await bot.adapter.member_role("424242", "1003") is None  # a guild it is not in
    bot.fake.refuse("GET", r"/guilds/\d+/members/1004", 404, 10007, "Unknown Member")
    assert await bot.adapter.member_role(GUILD, "1004") is Role.MEMBER  # left the server


async def test_direct_messages_and_closed_dms(connect: Connect) -> None:
    bot = await connect()
    await bot.adapter.perform(DirectMessage("discord", "1001", "hello", group_id=GUILD))
    (dm_channel,) = await bot.fake.wait_for("POST", r"/users/@me/channels")
    assert dm_channel.json == {"recipient_id": 1001}
    await bot.fake.wait_for("POST", r"/channels/\d+/messages")
    bot.fake.refuse(
        "POST", r"/channels/\d+/messages", 403, 50007, "Cannot send messages to this user"
    )
    with pytest.raises(DeliveryFailed) as refused:
        await bot.adapter.perform(DirectMessage("discord", "1001", "hello", group_id=GUILD))
    assert refused.value.problem is DeliveryProblem.DM_CLOSED
    assert refused.value.detail == "HTTP 403, code 50007: Cannot send messages to this user"


async def test_reactions_are_added(connect: Connect) -> None:
    bot = await connect()
    place = Place("discord", GUILD, GENERAL, str(THREAD_ID))
    await bot.adapter.perform(React(place, "4242", "🎉"))
    await bot.fake.wait_for("PUT", rf"/channels/{THREAD_ID}/messages/4242/reactions/.+/@me")


async def test_a_refused_role_grant_is_reported_to_moderators(connect: Connect) -> None:
    bot = await connect()
    response = await bot.command(ROOT, "modchannel", permissions=MANAGE_SERVER, channel=MODS_ID)
    assert _content(response) == "Moderator alerts will be posted in this channel."
    bot.fake.refuse("PUT", r"/guilds/\d+/members/\d+/roles/\d+", 403, 50013, "Missing Permissions")
    role = _option("role", 8, str(REWARD_ROLE_ID))
    response = await bot.command(
        ROOT, "reward", role, _option("member", 6, "1001"), permissions=MANAGE_SERVER
    )
    assert _content(response) == "Role requested."
    (note,) = await bot.fake.wait_for("POST", rf"/channels/{MODS_ID}/messages")
    assert note.json["content"] == (
        f"Hearth is not allowed to give role {REWARD_ROLE_ID} to 1001. Check the bot's "
        "permissions and role position. (HTTP 403, code 50013: Missing Permissions)"
    )
    assert note.json["allowed_mentions"] == {"parse": []}


async def test_a_granted_role_is_added_and_the_previous_one_removed(connect: Connect) -> None:
    bot = await connect()
    grant = GrantRole("discord", GUILD, "1001", str(REWARD_ROLE_ID), "level 5", revoke=("77",))
    await bot.adapter.perform(grant)
    (added,) = await bot.fake.wait_for("PUT", rf"/guilds/{GUILD_ID}/members/1001/roles/\d+")
    assert added.path.endswith(f"/roles/{REWARD_ROLE_ID}")
    removals = await bot.fake.wait_for("DELETE", rf"/guilds/{GUILD_ID}/members/\d+/roles/\d+")
    assert [call.path.rsplit("/", 1)[1] for call in removals] == ["77"]


def _restrict(sanction: Sanction, until: Any = None) -> Restrict:
    return Restrict("discord", GUILD, "1001", sanction, until, reason="spam, again")


async def test_moderation_actions_reach_discord_with_their_reason(
    connect: Connect, clock: ManualClock
) -> None:
    bot = await connect()
    thread = Place("discord", GUILD, GENERAL, str(THREAD_ID))
    until = clock.now() + timedelta(hours=1)
    await bot.adapter.perform(DeleteMessage(thread, "4242", reason="spam, again"))
    await bot.adapter.perform(_restrict(Sanction.MUTE, until))
    assert bot.fake.timeouts == {1001: until.isoformat()}
    await bot.adapter.perform(_restrict(Sanction.UNMUTE))
    assert bot.fake.timeouts == {1001: None}
    await bot.adapter.perform(_restrict(Sanction.BAN))
    assert bot.fake.bans == {1001}
    await bot.adapter.perform(_restrict(Sanction.UNBAN))
    assert bot.fake.bans == set()

    (deleted,) = await bot.fake.wait_for("DELETE", rf"/channels/{THREAD_ID}/messages/4242")
    mute, unmute = await bot.fake.wait_for("PATCH", rf"/guilds/{GUILD_ID}/members/1001", count=2)
    assert mute.json == {"communication_disabled_until": until.isoformat()}
    assert unmute.json == {"communication_disabled_until": None}
    (ban,) = await bot.fake.wait_for("PUT", rf"/guilds/{GUILD_ID}/bans/1001")
    assert ban.query == {"delete_message_seconds": "0"}
    (unban,) = await bot.fake.wait_for("DELETE", rf"/guilds/{GUILD_ID}/bans/1001")
    assert {c.reason for c in (deleted, mute, unmute, ban, unban)} == {"spam, again"}


async def test_a_mute_beyond_28_days_is_clamped(connect: Connect, clock: ManualClock) -> None:
    bot = await connect()
    await bot.adapter.perform(_restrict(Sanction.MUTE, clock.now() + timedelta(days=60)))
    end = clock.now() + MAX_TIMEOUT
    assert bot.fake.timeouts == {1001: end.isoformat()}
    assert timedelta(days=27) < MAX_TIMEOUT <= timedelta(days=28)


async def test_refused_moderation_becomes_a_delivery_problem(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await connect()
    bot.fake.refuse("PUT", r"/guilds/\d+/bans/\d+", 403, 50013, "Missing Permissions")
    bot.fake.refuse("DELETE", r"/channels/\d+/messages/\d+", 404, 10008, "Unknown Message")
    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryFailed) as ban:
        await bot.adapter.perform(_restrict(Sanction.BAN))
    with pytest.raises(DeliveryFailed) as delete:
        await bot.adapter.perform(DeleteMessage(Place("discord", GUILD, GENERAL), "4242"))
    assert ban.value.problem is DeliveryProblem.FORBIDDEN
    assert f"guild {GUILD}, user 1001, ban" in caplog.text
    assert delete.value.problem is DeliveryProblem.NOT_FOUND
    assert delete.value.detail == "HTTP 404, code 10008: Unknown Message"


async def test_the_adapter_stops_cleanly_when_cancelled(connect: Connect) -> None:
    bot = await connect()
    client = bot.adapter.client
    assert client is not None
    socket = bot.fake.sockets[0]
    await _stop(bot.task)
    assert client.is_closed()
    assert bot.adapter.client is None
    with pytest.raises(DeliveryFailed):
        await bot.adapter.perform(Post(Place("discord", GUILD, GENERAL), "late"))
    async with asyncio.timeout(3):
        while not socket.closed:
            await asyncio.sleep(0.005)


async def test_sharding_settings_run_the_configured_shards(connect: Connect) -> None:
    bot = await connect(shard_count=3, shard_ids=[2])
    assert bot.fake.identify is not None
    assert bot.fake.identify["shard"] == [2, 3]
    assert isinstance(bot.adapter.client, discord.AutoShardedClient)
    response = await bot.command(ALICE, "help")
    assert _content(response).startswith("Commands you can use:")


async def test_a_stale_command_gets_a_pointer_to_help(connect: Connect) -> None:
    bot = await connect()
    response = await bot.command(ALICE, "oldcommand")
    assert _content(response) == "Unknown command /oldcommand. Send /help to see what you can use."


async def test_edits_are_not_activity(connect: Connect) -> None:
    bot = await connect()
    first = bot.fake.message(ALICE, "first")
    await bot.fake.dispatch("MESSAGE_CREATE", first)
    await bot.rows(MessageLog)
    await bot.fake.dispatch("MESSAGE_UPDATE", {**first, "content": "edited"})
    await bot.fake.dispatch("MESSAGE_CREATE", bot.fake.message(ALICE, "second"))
    rows = await bot.rows(MessageLog, 2)
    assert [row.text for row in rows] == ["first", "second"]


# ---------------------------------------------------------------------- pure parts, properties

_LINE = st.text(alphabet=st.sampled_from("ab 中😀\t"), max_size=120)


@given(st.lists(_LINE, max_size=60), st.integers(120, MESSAGE_LIMIT))
def test_text_is_split_at_line_boundaries_into_pieces_that_fit(
    lines: list[str], limit: int
) -> None:
    assume(any(line.strip() for line in lines))
    text = "\n".join(lines)
    pieces = split_message(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    # Every line fits, so pieces are whole lines: joining them gives the text back, apart
    # from the newlines at the cuts (and blank lines there, which Discord would drop).
    assert "\n".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert all(line in lines for piece in pieces for line in piece.split("\n"))


def test_a_line_longer_than_the_limit_is_cut() -> None:
    assert [len(p) for p in split_message("長" * 4500, MESSAGE_LIMIT)] == [2000, 2000, 500]


async def _noop(call: CommandCall) -> str:
    return ""


_ROUND_TRIP = CommandRegistry(
    [
        Command(
            name="set",
            group="cfg",
            handler=_noop,
            help="",
            params=(
                Param("key"),
                Param("level", ParamKind.INTEGER, required=False),
                Param("owner", ParamKind.MEMBER, required=False),
                Param("note", ParamKind.TEXT, required=False),
            ),
        ),
        Command(
            name="faq",
            handler=_noop,
            help="",
            params=(Param("question"), Param("answer", ParamKind.TEXT, required=False)),
            separator="|",
        ),
    ]
)
_WORDS = st.text(alphabet=st.sampled_from("ab 中\"'“」’"), max_size=12)


@given(_WORDS, st.none() | st.integers(-5, 5), st.none() | st.integers(1, 10**18), _WORDS)
def test_options_round_trip_through_the_engines_parser(
    key: str, level: int | None, owner: int | None, note: str
) -> None:
    assume(key.strip())
    options = [{"name": "key", "type": 3, "value": key}, {"name": "note", "type": 3, "value": note}]
    if level is not None:
        options.append({"name": "level", "type": 4, "value": level})
    if owner is not None:
        options.append({"name": "owner", "type": 6, "value": str(owner)})
    data = {"name": "cfg", "options": [{"type": 1, "name": "set", "options": options}]}
    found = invocation(_ROUND_TRIP, data)
    assert found is not None
    name, args = found
    command, rest = _ROUND_TRIP.resolve(name, args) or (None, "")
    assert command is not None
    parsed = parse_arguments(command, rest, translator("en"))
    expected_owner = None if owner is None else str(owner)
    assert parsed == {
        "key": key.strip(),
        "level": level,
        "owner": expected_owner,
        "note": note.strip() or None,
    }


@given(_WORDS.filter(lambda q: q.strip() and "|" not in q), _WORDS)
def test_separated_options_round_trip(question: str, answer: str) -> None:
    options = [{"name": "question", "type": 3, "value": question}]
    options.append({"name": "answer", "type": 3, "value": answer})
    found = invocation(_ROUND_TRIP, {"name": "faq", "options": options})
    assert found is not None
    command = _ROUND_TRIP.resolve(*found)
    assert command is not None
    parsed = parse_arguments(command[0], command[1], translator("en"))
    assert parsed == {"question": question.strip(), "answer": answer.strip() or None}


def test_payloads_respect_discords_limits() -> None:
    long_help = "word " * 60
    registry = CommandRegistry(
        [Command(name="Big Name", handler=_noop, help=long_help, params=(Param("Odd Param"),))]
    )
    (payload,) = command_payloads(registry)
    assert payload["name"] == "big_name"
    assert len(payload["description"]) == 100
    assert payload["options"][0]["name"] == "odd_param"
    assert payload["options"][0]["description"] == "/Big Name <Odd Param>"


async def test_stopping_lets_a_command_in_flight_answer_first(connect: Connect) -> None:
    bot = await connect(defer_after=0.01)
    bot.sampler.gate.clear()
    give = {
        "type": 1,
        "name": "give",
        "options": [_option("member", 6, "1"), _option("amount", 4, 1)],
    }
    await bot.command(ROOT, "points", give, permissions=MANAGE_MESSAGES)  # deferred, still running
    bot.task.cancel()
    bot.sampler.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await bot.task
    (edit,) = await bot.fake.wait_for("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    assert edit.json["content"] == "1 +1 (None)"


async def test_a_rejected_token_is_a_configuration_error(connect: Connect) -> None:
    bot = await connect()
    bot.fake.refuse("GET", r"/users/@me", 401, 0, "401: Unauthorized")
    with pytest.raises(ConfigError, match=r"discord\.token: Discord rejected the token"):
        await sync_global_commands(bot.engine.services.settings, bot.engine)


def test_a_command_named_like_its_group_takes_a_free_subcommand_name() -> None:
    registry = CommandRegistry(
        [
            Command(name="levels", handler=_noop, help="Levels."),
            Command(name="show", group="levels", handler=_noop, help="Show one.", role=Role.ADMIN),
        ]
    )
    (payload,) = command_payloads(registry)
    assert [option["name"] for option in payload["options"]] == ["show", "view"]
    assert payload["default_member_permissions"] is None
    assert invocation(registry, {"name": "levels", "options": [{"type": 1, "name": "view"}]}) == (
        "levels",
        "",
    )
    show = {"name": "levels", "options": [{"type": 1, "name": "show"}]}
    assert invocation(registry, show) == ("levels", "show")
