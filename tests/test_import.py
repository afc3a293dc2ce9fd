"""History import from Telegram Desktop and DiscordChatExporter exports (tests/data)."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.errors import HearthError
from bot.events import Author
from bot.features.base import Services
from bot.importer import (
    DiscordExport,
    ExportError,
    Importer,
    ImportSummary,
    Progress,
    Skipped,
    TelegramExport,
    merged,
)
from bot.importer.telegram_bots import looks_like_bot_name
from bot.importer.telegram_export import bot_api_chat_id, message_text
from storage.activity import count_member_events, count_messages, count_reactions
from storage.models import Account, Member, MessageLog, PointsLedger, PointsTotal
from tests.conftest import make_settings

DATA = Path(__file__).parent / "data"
TELEGRAM = DATA / "telegram_export.json"
DISCORD = DATA / "discord_export.json"
THREAD = DATA / "discord_thread_export.json"
FORUM = DATA / "telegram_forum_export.json"
FORUM_GROUP = "-1002223334445"


@pytest.fixture
async def services(db_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    built = build_services(make_settings(db_url), clock=clock)
    await built.database.upgrade()
    yield built
    await built.database.close()


async def _import_telegram(
    services: Services,
    path: Path = TELEGRAM,
    *,
    award_points: bool = False,
    bots: tuple[str, ...] = (),
) -> ImportSummary:
    export = TelegramExport(path, bots=bots)
    importer = Importer(services, batch_size=4, award_points=award_points)
    await importer.open_group(export.header)
    return await importer.run(export.items())


async def _counts(services: Services, community_id: int) -> tuple[int, int, int, int]:
    async with services.database.session() as session:
        return (
            await count_messages(session, community_id=community_id),
            await count_member_events(session, community_id=community_id, kind="join"),
            await count_member_events(session, community_id=community_id, kind="leave"),
            await count_reactions(session, community_id=community_id),
        )


async def test_telegram_export_counts_and_is_idempotent(services: Services) -> None:
    first = await _import_telegram(services)
    assert (first.messages, first.new_messages) == (9, 9)  # with a photo without caption
    assert (first.joins, first.leaves, first.new_member_events) == (3, 1, 4)
    assert (first.reactions, first.new_reactions) == (3, 3)
    assert first.members == 6  # Alice, Bob, Carol, a deleted account, the channel, a bot
    assert first.skipped == {
        "service: migrate_from_group": 1,
        "service: pin_message": 1,
        "unknown kind: hologram": 1,
        "reaction without reactor": 1,
        "join/leave of a name never seen (no id)": 1,
    }
    community = (await services.directory.group("telegram", "-1001234567890")).community
    assert community.name == "Tea House"
    assert await _counts(services, community.id) == (9, 3, 1, 3)

    again = await _import_telegram(services)
    assert (again.messages, again.new_messages, again.new_member_events) == (9, 0, 0)
    assert again.new_reactions == 0
    assert await _counts(services, community.id) == (9, 3, 1, 3)


async def test_telegram_rows_match_the_live_shape(services: Services) -> None:
    await _import_telegram(services)
    async with services.database.session() as session:
        rows = (
            await session.execute(
                select(MessageLog.message_id, MessageLog.reply_to, MessageLog.mentions)
                .where(MessageLog.message_id.in_(["4", "14"]))
                .order_by(MessageLog.message_id)
            )
        ).all()
        commands = (
            await session.execute(select(MessageLog.message_id).where(MessageLog.is_command))
        ).scalars()
        assert list(commands) == ["14"]
        text = (
            await session.execute(select(MessageLog.text).where(MessageLog.message_id == "4"))
        ).scalar_one()
    assert [tuple(row) for row in rows] == [("14", None, 0), ("4", "3", 1)]
    assert text == "Thanks @alice! This is a great place for oolong fans"


async def test_discord_exports_merge_channels_and_threads(services: Services) -> None:
    exports = [DiscordExport(DISCORD), DiscordExport(THREAD)]
    importer = Importer(services)
    for export in exports:
        await importer.open_group(export.header)
    summary = await importer.run(merged(exports))
    assert (summary.messages, summary.joins, summary.reactions) == (5, 1, 2)
    assert summary.skipped == {
        "system: ThreadCreated": 1,
        "system: ChannelPinnedMessage": 1,
        "unknown kind: StageRaiseHand": 1,
        "reaction without reactor": 1,
    }
    group = await services.directory.group("discord", "811000000000000001")
    assert await _counts(services, group.community.id) == (5, 1, 0, 2)
    async with services.database.session() as session:
        thread = (
            await session.execute(
                select(MessageLog.channel_id, MessageLog.thread_id).where(
                    MessageLog.message_id == "1200000000000000101"
                )
            )
        ).one()
    assert tuple(thread) == ("811000000000000100", "811000000000000200")


async def test_truncated_file_names_the_position_and_keeps_earlier_rows(
    services: Services, tmp_path: Path
) -> None:
    data = TELEGRAM.read_bytes()
    cut = data.index(b'"I was here before')  # inside message id 7 (index 6)
    broken = tmp_path / "result.json"
    broken.write_bytes(data[:cut])
    with pytest.raises(ExportError) as caught:
        await _import_telegram(services, broken)
    message = str(caught.value)
    assert "ends early" in message
    assert f"–{len(data[:cut]):,} of" in message
    assert "after message index 5 (id 6)" in message
    community = (await services.directory.group("telegram", "-1001234567890")).community
    messages, joins, _, reactions = await _counts(services, community.id)
    assert (messages, joins, reactions) == (3, 3, 1)  # ids 3, 4 and 6; Alice, Bob, Carol


async def test_malformed_json_is_an_error_with_the_position(tmp_path: Path) -> None:
    broken = tmp_path / "result.json"
    broken.write_text(TELEGRAM.read_text(encoding="utf-8").replace('"id": 3,', '"id": 3,,'))
    export = TelegramExport(broken)
    with pytest.raises(ExportError, match=r"is malformed in bytes 0–.* after message index 1"):
        list(export.items())


async def test_award_points_marks_the_ledger_and_awards_once(services: Services) -> None:
    await _import_telegram(services, award_points=True)
    await _import_telegram(services, award_points=True)
    async with services.database.session() as session:
        ledger = (
            await session.execute(
                select(PointsLedger.reason, PointsLedger.source).order_by(PointsLedger.id)
            )
        ).all()
        totals = (await session.execute(select(PointsTotal))).scalars().all()
        xp = select(func.sum(PointsLedger.amount)).where(PointsLedger.currency == "xp")
        ledger_sum = (await session.execute(xp)).scalar_one()
    # Not the channel (it posts as a bot), the command, or "Tea Reminder Bot" (a bot's name).
    sources = [source for _, source in ledger]
    assert {reason for reason, _ in ledger} == {"message", "thanks", "reaction"}
    assert all(source.startswith("import:telegram:-1001234567890:") for source in sources)
    assert len(ledger) == len(set(ledger)) + 1  # the thanks: an XP and a reputation row
    assert "import:telegram:-1001234567890:9" not in sources  # the channel posts as a bot
    assert "import:telegram:-1001234567890:14" not in sources  # a command
    assert "import:telegram:-1001234567890:16" not in sources  # the reminder bot
    assert ("thanks", "import:telegram:-1001234567890:4") in ledger  # Bob thanks Alice
    assert sum(total.xp for total in totals) == ledger_sum
    assert all(total.day_xp == 0 and total.last_message_xp_at is None for total in totals)


async def test_community_option_places_the_group_or_refuses(services: Services) -> None:
    other = await services.directory.find_community("discord:811000000000000001")
    export = TelegramExport(TELEGRAM)
    await Importer(services, community=other).open_group(export.header)
    group = await services.directory.group("telegram", "-1001234567890")
    assert group.community.id == other.id
    console = await services.directory.find_community("console:lobby")
    with pytest.raises(HearthError, match="already belongs to community"):
        await Importer(services, community=console).open_group(export.header)


@pytest.mark.parametrize(
    ("kind", "export_id", "expected"),
    [
        ("private_supergroup", 1234567890, "-1001234567890"),
        ("public_channel", 42, "-10042"),
        ("private_group", 987654, "-987654"),
        ("private_supergroup", "-1001234567890", "-1001234567890"),
    ],
)
def test_bot_api_chat_ids(kind: str, export_id: object, expected: str) -> None:
    assert bot_api_chat_id(kind, export_id) == expected


def test_personal_chats_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "Bob", "type": "personal_chat", "id": 222, "messages": []}')
    with pytest.raises(ExportError, match="only groups and channels"):
        TelegramExport(path)


def test_text_as_string_or_entities() -> None:
    assert message_text("plain") == "plain"
    assert message_text(["a ", {"type": "link", "text": "https://x.y"}, "!"]) == "a https://x.y!"
    assert message_text(None) == ""


def test_progress_plain_lines_and_terminal_bar() -> None:
    now = [0.0]
    plain = io.StringIO()
    progress = Progress(
        plain, total_bytes=200, position=lambda: 100, tty=False, every=5, clock=lambda: now[0]
    )
    progress.tick(10, 2)
    now[0] = 5.0
    progress.tick(50_000, 7)
    progress.done(50_000, 7)
    lines = plain.getvalue().splitlines()
    assert lines[0] == "import: 50% of the file, 50,000 messages · 7 members · 10,000 msg/s"
    assert len(lines) == 2
    bar = io.StringIO()
    tty = Progress(bar, total_bytes=100, position=lambda: 100, tty=True, clock=lambda: 2.0)
    tty.done(10, 1)
    assert bar.getvalue().startswith("\r[" + "#" * 24 + "] 100% 10 messages")
    assert bar.getvalue().endswith("\n")


def test_data_files_are_valid_json(tmp_path: Path) -> None:
    for path in (TELEGRAM, DISCORD, THREAD):
        shutil.copy(path, tmp_path / path.name)
        assert sum(1 for _ in (tmp_path / path.name).open("rb")) > 10


async def _rows(services: Services) -> dict[str, tuple[str, str | None, str | None]]:
    async with services.database.session() as session:
        rows = await session.execute(
            select(
                MessageLog.message_id,
                MessageLog.channel_id,
                MessageLog.thread_id,
                MessageLog.reply_to,
            )
        )
        return {str(m): (str(c), t, r) for m, c, t, r in rows}


async def test_forum_topics_land_in_the_live_thread_ids(services: Services) -> None:
    summary = await _import_telegram(services, FORUM)
    rows = await _rows(services)
    # Live: message_thread_id is the topic_created message's id, and the implicit reply to
    # it is not a reply; a reply inside the topic is in the topic and stays a reply.
    assert rows["12"] == (FORUM_GROUP, "11", None)
    assert rows["13"] == (FORUM_GROUP, "11", "12")
    assert rows["14"] == (FORUM_GROUP, "11", "13")
    assert rows["22"] == (FORUM_GROUP, "11", "13")
    assert rows["15"] == (FORUM_GROUP, None, None)  # the General topic
    assert rows["20"] == (FORUM_GROUP, None, None)  # a reply to another chat's message
    assert summary.skipped["service: topic_created"] == 1


async def test_migrated_group_history_lands_in_the_supergroup_without_merging(
    services: Services,
) -> None:
    first = await _import_telegram(services, FORUM)
    rows = await _rows(services)
    # The basic group's message 10 (exported as 10 - 1,000,000,000) and the supergroup's
    # message 10 are two messages of the one live group, and a reply inside the old history
    # points at the old message.
    assert rows["-999999990"] == (FORUM_GROUP, None, None)
    assert rows["-999999989"] == (FORUM_GROUP, None, "-999999990")
    assert rows["10"] == (FORUM_GROUP, None, None)
    assert (first.messages, first.new_messages) == (14, 14)
    assert first.skipped["service: migrate_to_supergroup"] == 1
    assert first.skipped["service: migrate_from_group"] == 1
    group = await services.directory.group("telegram", FORUM_GROUP)
    again = await _import_telegram(services, FORUM)
    assert (again.messages, again.new_messages) == (14, 0)
    async with services.database.session() as session:
        assert await count_messages(session, community_id=group.community.id) == 14


async def _bot_flags(services: Services) -> dict[str, bool]:
    async with services.database.session() as session:
        accounts = await session.execute(select(Account.name, Account.is_bot))
        members = await session.execute(select(Member.display_name, Member.is_bot))
        flags = {str(name): bool(bot) for name, bot in accounts}
        assert flags == {str(name): bool(bot) for name, bot in members}
        return flags


async def test_bots_are_recognised_and_earn_nothing(services: Services) -> None:
    await _import_telegram(services, FORUM, award_points=True)
    flags = await _bot_flags(services)
    # Rose attaches inline buttons (and stays a bot); GroupHelpBot is named like a bot. Dave
    # sent a message via an inline bot with its buttons, and Talbot is a name, not a bot.
    assert flags == {
        "Alice": False,
        "Bob": False,
        "Carol": False,
        "Dave": False,
        "Rose": True,
        "GroupHelpBot": True,
        "Talbot": False,
    }
    async with services.database.session() as session:
        earners = set(
            (
                await session.execute(
                    select(Member.display_name)
                    .join(PointsLedger, PointsLedger.member_id == Member.id)
                    .distinct()
                )
            ).scalars()
        )
    assert earners == {"Alice", "Bob", "Carol", "Dave", "Talbot"}


async def test_known_bots_from_live_and_the_command_line(services: Services) -> None:
    group = await services.directory.group("telegram", FORUM_GROUP, "Tea Lab")
    # Seen live, where Telegram says it is a bot.
    await services.directory.member(group.community.id, "telegram", Author("555", "Talbot", True))
    await _import_telegram(services, FORUM, award_points=True, bots=("444",))
    flags = await _bot_flags(services)
    assert flags["Talbot"]
    assert flags["Dave"]
    async with services.database.session() as session:
        ledger = (await session.execute(select(PointsLedger.source))).scalars().all()
    assert not any(source.endswith((":17", ":21")) for source in ledger)


async def test_award_points_follows_the_live_rules_for_thanks_and_reactions(
    services: Services,
) -> None:
    await _import_telegram(services, FORUM, award_points=True)
    again = await _import_telegram(services, FORUM, award_points=True)
    assert again.points_xp == 0
    async with services.database.session() as session:
        ledger = (
            await session.execute(
                select(
                    Member.display_name,
                    PointsLedger.currency,
                    PointsLedger.amount,
                    PointsLedger.reason,
                    PointsLedger.source,
                )
                .join(Member, Member.id == PointsLedger.member_id)
                .where(PointsLedger.reason != "message")
                .order_by(PointsLedger.id)
            )
        ).all()
        totals = {
            name: (xp, rep)
            for name, xp, rep in await session.execute(
                select(Member.display_name, PointsTotal.xp, PointsTotal.reputation).join(
                    Member, Member.id == PointsTotal.member_id
                )
            )
        }
        sums = dict(
            (
                await session.execute(
                    select(Member.display_name, func.sum(PointsLedger.amount))
                    .join(Member, Member.id == PointsLedger.member_id)
                    .where(PointsLedger.currency == "xp")
                    .group_by(Member.display_name)
                )
            ).all()
        )
        bob = (
            await session.execute(select(Member.id).where(Member.display_name == "Bob"))
        ).scalar_one()
    prefix = f"import:telegram:{FORUM_GROUP}:"
    rules = services.settings.points
    # Bob thanks Alice in the old group and, on another day, in the topic; his second
    # thanks that day (message 22) counts once a day per pair, as live. Bob's reaction earns
    # Alice reaction XP; Rose's reaction to Talbot is a bot's and earns nothing.
    assert [tuple(row) for row in ledger] == [
        ("Alice", "xp", rules.thanks_xp, "thanks", f"{prefix}-999999989"),
        ("Alice", "rep", rules.thanks_reputation, "thanks", f"{prefix}-999999989"),
        ("Alice", "xp", rules.reaction_xp, "reaction", f"{prefix}13:reaction:{bob}"),
        ("Alice", "xp", rules.thanks_xp, "thanks", f"{prefix}14"),
        ("Alice", "rep", rules.thanks_reputation, "thanks", f"{prefix}14"),
    ]
    assert totals["Alice"][1] == 2 * rules.thanks_reputation
    assert {name: xp for name, (xp, _) in totals.items()} == sums


def test_bot_names() -> None:
    for name in ("Tea Reminder Bot", "tea_reminder_bot", "GroupHelpBot", "@combot_BOT"):
        assert looks_like_bot_name(name), name
    for name in ("Talbot", "Abbot", "Bob", "Robot Wars fan", "Bot ler", "CABOT", "TALBOT"):
        assert not looks_like_bot_name(name), name


async def _reaction_awards(services: Services) -> list[str]:
    async with services.database.session() as session:
        query = select(PointsLedger.source).where(PointsLedger.reason == "reaction")
        return sorted((await session.execute(query)).scalars())


async def test_overlapping_exports_award_a_reaction_once(services: Services) -> None:
    # The same channel exported twice (overlapping date ranges), imported together.
    exports = [DiscordExport(DISCORD), DiscordExport(DISCORD)]
    importer = Importer(services, award_points=True)
    for export in exports:
        await importer.open_group(export.header)
    await importer.run(merged(exports))
    awarded = await _reaction_awards(services)
    assert len(awarded) == len(set(awarded)) == 2  # two reactions by others, each once


async def test_reactions_to_media_earn_like_reactions_to_text(
    services: Services, tmp_path: Path
) -> None:
    export = json.loads(FORUM.read_text("utf-8"))
    for message in export["messages"]:
        if message.get("id") == 13:  # Bob reacts to it: as a photo without caption instead
            message["text"], message["text_entities"] = "", []
            message["photo"] = "photos/photo_1.jpg"
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), "utf-8")
    summary = await _import_telegram(services, path, award_points=True)
    assert summary.reactions >= 1
    assert "no text (media without caption)" not in summary.skipped  # the photo is logged
    assert any(":13:reaction:" in source for source in await _reaction_awards(services))


def _variant(tmp_path: Path, change: object, source: Path = TELEGRAM) -> Path:
    """The export at `source` after `change(data)`, written to a new file."""
    data = json.loads(source.read_text("utf-8"))
    change(data)  # type: ignore[operator]
    path = tmp_path / source.name
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


async def test_older_telegram_exports_import_too(services: Services, tmp_path: Path) -> None:
    def old(data: dict[str, list[dict[str, object]]]) -> None:
        for message in data["messages"]:
            message.pop("date_unixtime", None)  # before Telegram Desktop 3.x: `date` only
            sender = message.get("from_id")
            if isinstance(sender, str) and sender.startswith("user"):
                message["from_id"] = int(sender[4:])  # before 2.x: a bare user id

    summary = await _import_telegram(services, _variant(tmp_path, old))
    assert "no date" not in summary.skipped
    assert "no author" not in summary.skipped
    assert summary.messages > 0
    current = await _import_telegram(services, TELEGRAM)  # the same history, today's format
    assert (current.messages, current.new_messages) == (summary.messages, 0)


def test_bom_sorted_keys_and_odd_shapes_are_read(tmp_path: Path) -> None:
    def named(path: Path) -> tuple[str, str, str]:
        header = TelegramExport(path).header
        return header.platform, header.group_id, header.name

    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + TELEGRAM.read_bytes())
    assert named(bom) == named(TELEGRAM)
    data = json.loads(TELEGRAM.read_text("utf-8"))
    ordered = tmp_path / "sorted.json"  # `jq -S`: "messages" comes before "name" and "type"
    ordered.write_text(json.dumps(data, sort_keys=True), "utf-8")
    assert named(ordered) == named(TELEGRAM)
    first = next(m for m in data["messages"] if m["type"] == "message")
    first["reactions"] = ["👍", {"type": "emoji", "emoji": "👍", "count": "many"}]
    data["messages"].insert(1, "not a message")
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(data), "utf-8")
    reasons = {item.reason for _, item in TelegramExport(odd).items() if isinstance(item, Skipped)}
    assert {"reaction: malformed", "no date"} <= reasons


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"name": "g", "type": "private_group", "id": 1, "messages": {"a": 1}}', "not an array"),
        ('{"name": "g", "type": "private_group", "id": 1, "messages": 5}', "not an array"),
        ('{"about": "x", "chats": {"list": [{"messages": []}]}}', "not a single-chat export"),
    ],
)
def test_wrong_shapes_are_named(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ExportError, match=problem):
        TelegramExport(path)


def test_odd_discord_reactions_are_skipped_not_fatal(tmp_path: Path) -> None:
    def odd(data: dict[str, list[dict[str, object]]]) -> None:
        first = next(m for m in data["messages"] if m["type"] == "Default")
        first["reactions"] = [
            "👍",
            {"emoji": {"id": "", "name": "👍"}, "count": "3", "users": "nobody"},
        ]

    items = [item for _, item in DiscordExport(_variant(tmp_path, odd, DISCORD)).items()]
    reasons = {item.reason for item in items if isinstance(item, Skipped)}
    assert {"reaction: malformed", "reaction without reactor"} <= reasons
