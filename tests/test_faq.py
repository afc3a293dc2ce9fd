"""The FAQ feature through the engine: commands, automatic answers, feedback, files."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Hashable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import parse_settings
from bot.errors import ConfigError
from bot.events import Reply, Role
from bot.features.faq.feature import FaqFeature
from bot.features.faq.files import (
    FaqFileError,
    FileEntry,
    import_faq,
    read_entries,
    render_entries,
)
from bot.features.faq.library import REFRESH, Library
from bot.text.matcher import FaqIndex, Ranked, Ranker, decide
from storage.faq import list_entries, recent_unanswered, update_entry
from tests.conftest import Harness, make_settings, start_harness

MOD = Role.MODERATOR


async def add(h: Harness, line: str) -> str:
    (text,) = await h.chat.command("mod", f"/faq add {line}", role=MOD)
    return text


async def answers(h: Harness, user: str, text: str, **kwargs: object) -> list[Reply]:
    actions = await h.chat.say(user, text, **kwargs)  # type: ignore[arg-type]
    return [a for a in actions if isinstance(a, Reply)]


async def test_moderators_maintain_entries_members_cannot(any_harness: Harness) -> None:
    h = any_harness
    (refused,) = await h.chat.command("alice", "/faq add How? | Like this.")
    assert refused == "Only moderators and admins can use /faq add."
    assert (await add(h, "How do I reset my password? | Use /reset in #help.")).startswith(
        "Added FAQ entry #1."
    )
    (aliased,) = await h.chat.command("mod", "/faq alias 1 忘记密码怎么办", role=MOD)
    assert aliased == "Entry #1 now also answers: 忘记密码怎么办"
    (edited,) = await h.chat.command(
        "mod", "/faq edit 1 Use /reset, then check your mail.", role=MOD
    )
    assert edited == "Updated the answer of entry #1."
    await h.chat.command("mod", "/faq tag 1 account Login", role=MOD)
    (shown,) = await h.chat.command("alice", "/faq show 1")
    assert shown.splitlines() == [
        "#1 (faq-1)",
        "Q: How do I reset my password?",
        "Q: 忘记密码怎么办",
        "A: Use /reset, then check your mail.",
        "Tags: account, login",
        "Answered 0 times · helpful 0 · not helpful 0",
    ]
    (listed,) = await h.chat.command("alice", "/faq list login")
    assert listed == "#1 How do I reset my password? [account, login]"
    (refused,) = await h.chat.command("mod", "/faq remove 1", role=MOD)
    assert refused == "Only admins can use /faq remove."
    (removed,) = await h.chat.command("root", "/faq remove 1", role=Role.ADMIN)
    assert removed == "Removed FAQ entry #1."
    (missing,) = await h.chat.command("alice", "/faq show 1")
    assert missing == "There is no FAQ entry #1."


async def test_malformed_faq_commands_get_usage(harness: Harness) -> None:
    (text,) = await harness.chat.command("mod", "/faq add only a question", role=MOD)
    assert text.startswith("missing answer\nUsage: /faq add <question> | <answer>")
    (text,) = await harness.chat.command("mod", "/faq alias one more", role=MOD)
    assert text.startswith("id must be a whole number")
    (text,) = await harness.chat.command("alice", "/faq")
    assert text.startswith("/faq needs one of these:")
    assert "/faq add" not in text  # a member is not shown moderator commands


async def test_answers_questions_as_threaded_replies_once_per_window(harness: Harness) -> None:
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup by Friday.")
    await add(h, "Where is the server rules page? | See #rules.")
    (reply,) = await answers(h, "alice", "how can I join the tournament?", message_id="q1")
    assert (reply.message_id, reply.text) == ("q1", "Sign up at example.com/signup by Friday.")
    assert reply.tag == "faq:1"
    assert await answers(h, "bob", "how do i join the tournament??") == []  # within 10 min
    assert await answers(h, "bob", "how do I join the tournament?", channel="other") != []
    h.clock.advance(timedelta(minutes=11))
    assert await answers(h, "carol", "how to join the tournament?") != []
    (shown,) = await h.chat.command("alice", "/faq show 1")
    assert "Answered 3 times" in shown


async def test_stays_silent_for_chat_bots_and_commands(harness: Harness) -> None:
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    assert await answers(h, "alice", "I joined the tournament yesterday, it was fun") == []
    assert await answers(h, "robot", "how do I join the tournament?", is_bot=True) == []
    (reply,) = await h.chat.command("alice", "/help how do I join the tournament?")
    assert not reply.startswith("Sign up")
    assert await answers(h, "alice", "what is the capital of France?") == []
    # Commands to other bots reach Hearth as plain messages: never answered either.
    for line in (
        "/start@OtherBot how do I join the tournament?",
        "!faq how do I join the tournament?",
        "?tag how do I join the tournament",
        ".ask how do I join the tournament?",
    ):
        assert await answers(h, "dave", line) == [], line
    assert await answers(h, "zoe", "... how do I join the tournament?") != []


async def test_the_answer_window_is_per_thread(harness: Harness) -> None:
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    assert await answers(h, "alice", "how do I join the tournament?", thread="t1") != []
    assert await answers(h, "bob", "how do I join the tournament?", thread="t1") == []
    assert await answers(h, "bob", "how do I join the tournament?", thread="t2") != []
    assert await answers(h, "carol", "how do I join the tournament?") != []  # the channel itself


async def test_chinese_questions_are_answered(harness: Harness) -> None:
    h = harness
    await add(h, "怎么报名参加比赛？ | 在 example.com/signup 报名，周五截止。")
    await add(h, "群规在哪里看？ | 请看置顶消息。")
    (reply,) = await answers(h, "li", "请问比赛怎么报名啊")
    assert reply.text == "在 example.com/signup 报名，周五截止。"
    assert await answers(h, "li", "今天天气真好") == []


async def test_unanswered_questions_are_logged_and_grouped(harness: Harness) -> None:
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    for n, text in enumerate(
        [
            "when is the next meetup?",
            "When is the next meetup??",
            "when's the next meetup",
            "is the shop open today?",
            "nice weather today",
            "???",
            "？？？",
            "https://example.com/page?",
            "<@123> ?",
        ]
    ):
        await answers(h, f"m{n}", text)
    (gaps,) = await h.chat.command("mod", "/faq gaps", role=MOD)
    lines = gaps.splitlines()
    assert lines[0] == "Unanswered questions, last 7 days (4):"
    assert lines[1].startswith("3× ")
    assert lines[2] == "1× is the shop open today?"
    (refused,) = await h.chat.command("alice", "/faq gaps")
    assert refused.startswith("Only moderators")


async def test_unanswered_text_is_not_kept_when_text_storage_is_off(
    sqlite_url: str, clock: object
) -> None:
    h = await start_harness(
        make_settings(sqlite_url, activity={"store_message_text": False}), clock
    )  # type: ignore[arg-type]
    await answers(h, "alice", "when is the next meetup?")
    await h.engine.services.writer.flush()  # the miss is written with the next batch
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    async with h.database.session() as session:
        (missed,) = await recent_unanswered(
            session, community_id=group.community.id, since=h.clock.now() - timedelta(days=1)
        )
    assert missed.text is None
    (gaps,) = await h.chat.command("mod", "/faq gaps", role=MOD)
    assert gaps.splitlines()[1] == "1× (text not kept)"
    await h.engine.stop()


async def test_feedback_counts_once_per_member_whatever_the_way(any_harness: Harness) -> None:
    h = any_harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    await answers(h, "alice", "how do I join the tournament?", message_id="q1")
    sent = f"bot-{len(h.chat.performed)}"
    await h.chat.react("alice", sent, "👍")
    await h.chat.react("alice", sent, "❤️")  # the same member again
    await h.chat.react("bob", sent, "👎")
    await h.chat.react("carol", "q1", "👍")  # not on the answer
    await h.chat.command("dave", "/faq feedback 1 yes")
    (again,) = await h.chat.command("dave", "/faq feedback 1 yes")
    assert again == "You already said that about entry #1."
    (mine,) = await h.chat.command("alice", "/faq feedback 1 yes")  # she reacted 👍 already
    assert mine == "You already said that about entry #1."
    (shown,) = await h.chat.command("alice", "/faq show 1")
    assert shown.splitlines()[-1] == "Answered 1 times · helpful 2 · not helpful 1"
    (changed,) = await h.chat.command("bob", "/faq feedback 1 yes")  # a changed mind moves
    assert changed == "Thanks for the feedback on entry #1."
    (shown,) = await h.chat.command("alice", "/faq show 1")
    assert shown.splitlines()[-1] == "Answered 1 times · helpful 3 · not helpful 0"


async def test_votes_outlive_a_restart(sqlite_url: str, clock: ManualClock) -> None:
    first = await start_harness(make_settings(sqlite_url), clock)
    try:
        await add(first, "How do I join? | Sign up.")
        await first.chat.command("dave", "/faq feedback 1 no")
    finally:
        await first.engine.stop()
    second = await start_harness(make_settings(sqlite_url), clock)
    try:
        (again,) = await second.chat.command("dave", "/faq feedback 1 no")
        assert again == "You already said that about entry #1."
        (shown,) = await second.chat.command("dave", "/faq show 1")
        assert shown.splitlines()[-1] == "Answered 0 times · helpful 0 · not helpful 1"
    finally:
        await second.engine.stop()


async def test_ask_shows_scores_for_tuning(harness: Harness) -> None:
    h = harness
    await add(h, "How do I get a refund? | Open a ticket in the support channel.")
    (text,) = await h.chat.command("alice", "/faq ask how do i get a refund?")
    assert text.splitlines() == [
        "Best: #1 How do I get a refund? — score 0.92",
        "Signals: words 0.67 · characters 1.00 · meaning 1.00",
        "Would answer.",
    ]
    (text,) = await h.chat.command("alice", "/faq ask can i have my money back for an order?")
    signals = text.splitlines()[1]
    assert signals.startswith("Signals: words 0.")
    assert "model" not in signals  # no sentence encoder without faq.semantic
    (text,) = await h.chat.command("alice", "/faq ask refund")
    assert text.splitlines()[-1] == "Would stay silent: this does not read as a question."
    (text,) = await h.chat.command("alice", "/faq ask what is love?")
    assert text == "No entry is close to that in words or meaning."


YAML = """
- id: join
  questions: ["How do I join the tournament?", "怎么报名比赛"]
  answer: "Sign up at example.com/signup. See #rules first."
  tags: [Events]
- id: refund
  questions: How do I get a refund?
  answer: Open a ticket.
"""


async def test_import_is_idempotent_and_export_round_trips(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    path = tmp_path / "faq.yaml"
    path.write_text(YAML, encoding="utf-8")
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    community, database, now = group.community.id, h.database, h.clock.now()
    first = await import_faq(database, community, read_entries(path), now)
    again = await import_faq(database, community, read_entries(path), now)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    path.write_text(YAML.replace("Open a ticket.", "Open a ticket in #support."), "utf-8")
    changed = await import_faq(database, community, read_entries(path), now)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 1)
    async with database.session() as session:
        entries = await list_entries(session, community_id=community)
    for csv_format, name in ((False, "out.yaml"), (True, "out.csv")):
        out = tmp_path / name
        out.write_text(render_entries(entries, csv_format=csv_format), encoding="utf-8")
        round_trip = await import_faq(database, community, read_entries(out), now)
        assert (round_trip.added, round_trip.updated, round_trip.unchanged) == (0, 0, 2)
    faq = next(f for f in h.engine.features if isinstance(f, FaqFeature))
    faq.library.changed(community)
    (reply,) = await answers(h, "li", "请问怎么报名比赛？")
    assert reply.text == "Sign up at example.com/signup. See #rules first."


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("- id: a\n  questions: [q]\n", "entry 1 (id 'a'): answer is missing"),
        ("- questions: [q]\n  answer: x\n", "entry 1: id is missing"),
        ("- id: a\n  questions: []\n  answer: x\n", "questions must list at least one"),
        (
            "- id: a\n  questions: [q]\n  answer: x\n- id: a\n  questions: [r]\n  answer: y\n",
            "id 'a' appears twice",
        ),
        ("- id: a\n  questions: [q\n", "not valid YAML"),
        ("just text", "expected a list of entries"),
        ("- id: ~\n  questions: [q]\n  answer: x\n", "entry 1: id is missing"),
        ("- id:\n  questions: [q]\n  answer: x\n", "entry 1: id is missing"),
        ("- id: a\n  questions: [q]\n  answer: [one, two]\n", "answer must be text"),
        ("- id: [1, 2]\n  questions: [q]\n  answer: x\n", "id must be text"),
        ("- id: a\n  questions: [[q]]\n  answer: x\n", "questions must be a list of texts"),
        ("- id: a\n  questions: [q]\n  answer: x\n  enabled: maybe\n", "true or false"),
        (f"- id: {'x' * 101}\n  questions: [q]\n  answer: x\n", "longer than 100 characters"),
        (
            "- id: a\n  questions: [q]\n  answer: x\n  tags: [{}]\n".format(
                ", ".join(f"tag{n}" for n in range(120))
            ),
            "tags are longer than 500 characters",
        ),
    ],
)
def test_malformed_files_name_the_entry(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FaqFileError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        read_entries(path)


async def test_index_is_rebuilt_only_when_phrasings_change(harness: Harness) -> None:
    h = harness
    await add(h, "How do I reset my password? | Use /reset in #help.")
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    community = group.community.id
    builds: list[tuple[object, bool]] = []

    def factory(entries: Sequence[tuple[Hashable, Sequence[str]]]) -> Ranker:
        # Built off the event loop: no running loop in this thread.
        try:
            asyncio.get_running_loop()
            in_loop = True
        except RuntimeError:
            in_loop = False
        builds.append((tuple(entries), in_loop))
        return FaqIndex(entries)

    library = Library(h.database, h.clock, factory)
    first = await library.shelf(community)
    assert len(builds) == 1
    assert builds[0][1] is False
    # Re-read after the refresh interval: same phrasings, same index, new answer text.
    async with h.database.session() as session, session.begin():
        await update_entry(
            session, community_id=community, entry_id=1, answer="New answer.", now=h.clock.now()
        )
    h.clock.advance(REFRESH + timedelta(seconds=1))
    second = await library.shelf(community)
    assert len(builds) == 1
    assert second.index is first.index
    assert second.entries[1].answer == "New answer."
    # A new phrasing rebuilds it, and so does an explicit change.
    await h.chat.command("mod", "/faq alias 1 I forgot my password", role=MOD)
    h.clock.advance(REFRESH + timedelta(seconds=1))
    third = await library.shelf(community)
    assert len(builds) == 2
    assert third.index is not first.index
    assert decide(third.index, "i forgot my password, what now?") is not None
    library.changed(community)
    await library.shelf(community)
    assert len(builds) == 3


async def test_concurrent_questions_share_one_index_build(harness: Harness) -> None:
    h = harness
    await add(h, "How do I reset my password? | Use /reset in #help.")
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    calls: list[int] = []

    def factory(entries: Sequence[tuple[Hashable, Sequence[str]]]) -> Ranker:
        calls.append(len(entries))
        return FaqIndex(entries)

    library = Library(h.database, h.clock, factory)
    shelves = await asyncio.gather(*(library.shelf(group.community.id) for _ in range(5)))
    assert calls == [1]
    assert len({id(shelf.index) for shelf in shelves}) == 1


async def test_a_change_during_an_index_build_is_not_lost(harness: Harness) -> None:
    h = harness
    await add(h, "How do I reset my password? | Use /reset in #help.")
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    community = group.community.id
    building, release = threading.Event(), threading.Event()
    built: list[int] = []

    def slow_factory(entries: Sequence[tuple[Hashable, Sequence[str]]]) -> Ranker:
        if not built:
            building.set()
            release.wait(5)
        built.append(len(entries))
        return FaqIndex(entries)

    library = Library(h.database, h.clock, slow_factory)
    loading = asyncio.create_task(library.shelf(community))
    assert await asyncio.to_thread(building.wait, 5)
    # An entry is added while the first build (of the old entries) is running.
    await add(h, "Where are the rules? | In #rules.")
    library.changed(community)
    release.set()
    assert len((await loading).entries) == 1
    assert len((await library.shelf(community)).entries) == 2
    assert built == [1, 2]


async def test_each_question_is_ranked_once_and_chat_not_at_all(harness: Harness) -> None:
    # Ranking is the FAQ's per-message cost (an encoder run with the semantic stage).
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    calls: list[str] = []

    class Counting(FaqIndex):
        def rank(self, text: str, limit: int = 2) -> list[Ranked]:
            calls.append(text)
            return super().rank(text, limit)

    faq = next(f for f in h.engine.features if isinstance(f, FaqFeature))
    faq.library = Library(h.database, h.clock, Counting)
    assert await answers(h, "alice", "how can I join the tournament?") != []
    assert await answers(h, "bob", "what is the capital of France?") == []  # logged as a miss
    assert await answers(h, "carol", "I joined the tournament yesterday, it was fun") == []
    assert calls == ["how can I join the tournament?", "what is the capital of France?"]
    await h.engine.services.writer.flush()
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    async with h.database.session() as session:
        missed = await recent_unanswered(
            session, community_id=group.community.id, since=h.clock.now() - timedelta(days=1)
        )
    assert [m.text for m in missed] == ["what is the capital of France?"]


async def test_faq_settings_change_what_is_answered(sqlite_url: str, clock: ManualClock) -> None:
    settings = make_settings(
        sqlite_url, faq={"answer_cooldown_minutes": 1, "only_questions": False}
    )
    h = await start_harness(settings, clock)
    try:
        await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
        # only_questions = false: a statement that matches is answered too.
        assert await answers(h, "alice", "join the tournament") != []
        assert await answers(h, "bob", "how do I join the tournament?") == []  # within 1 min
        h.clock.advance(timedelta(minutes=1, seconds=1))
        assert await answers(h, "bob", "how do I join the tournament?") != []
    finally:
        await h.engine.stop()
    strict = await start_harness(make_settings(sqlite_url, faq={"threshold": 0.99}), clock)
    try:
        assert await answers(strict, "carol", "how can I join the tournament?") == []
        (asked,) = await strict.chat.command("carol", "/faq ask how can I join the tournament?")
        assert asked.splitlines()[-1] == "Would stay silent (threshold 0.99, margin 0.01)."
    finally:
        await strict.engine.stop()


def test_invalid_faq_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"faq\.threshold"):
        parse_settings({"faq": {"threshold": 1.5}}, environ={})
    with pytest.raises(ConfigError, match=r"faq\.answer_cooldown_minutes"):
        parse_settings({"faq": {"answer_cooldown_minutes": -1}}, environ={})


async def test_too_many_tags_are_refused(harness: Harness) -> None:
    await add(harness, "How do I join? | Sign up.")
    tags = " ".join(f"tag{n}" for n in range(120))
    (text,) = await harness.chat.command("mod", f"/faq tag 1 {tags}", role=MOD)
    assert text == "Tags can be at most 500 characters together."
    (shown,) = await harness.chat.command("mod", "/faq show 1", role=MOD)
    assert "Tags:" not in shown
    # A comma separates two tags, as in FAQ files (it was dropped: "rules,info" → "rulesinfo").
    (text,) = await harness.chat.command("mod", "/faq tag 1 Rules,Info help rules", role=MOD)
    assert text == "Entry #1 is tagged: rules, info, help"


def test_file_values_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "- id: 010\n  questions: ['Is it open?']\n  answer: yes\n  enabled: no\n"
        "- id: 0x1F\n  questions: ['Price?']\n  answer: 9.90\n  tags: ['Rules, Info', Help]\n",
        "utf-8",
    )
    first, second = read_entries(path)
    assert (first.key, first.answer, first.enabled) == ("010", "yes", False)
    assert (second.key, second.answer, second.tags) == ("0x1F", "9.90", ("rules", "info", "help"))


async def test_csv_from_a_spreadsheet_and_bars_in_phrasings_round_trip(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    path = tmp_path / "faq.csv"
    # Excel's "CSV UTF-8" starts with a byte-order mark.
    path.write_text(
        "\ufeffid,questions,answer,tags,enabled\n"
        'plans,Is plan A \\| plan B better? | Which plan?,"Plan B, mostly.","Rules, Info",TRUE\n',
        "utf-8",
    )
    (entry,) = read_entries(path)
    assert entry.key == "plans"
    assert entry.questions == ("Is plan A | plan B better?", "Which plan?")
    assert (entry.tags, entry.enabled) == (("rules", "info"), True)
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    community, now = group.community.id, h.clock.now()
    await import_faq(h.database, community, [entry], now)
    async with h.database.session() as session:
        stored = await list_entries(session, community_id=community)
    out = tmp_path / "out.csv"
    out.write_text(render_entries(stored, csv_format=True), encoding="utf-8")
    assert read_entries(out) == [entry]
    report = await import_faq(h.database, community, read_entries(out), now)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)


async def test_list_pages_long_faqs_and_names_an_unknown_tag(harness: Harness) -> None:
    h = harness
    group = await h.engine.services.directory.group(h.chat.platform, h.chat.group)
    rows = [
        FileEntry(f"e{n}", (f"Question number {n}?",), "Answer.", ("events",) if n < 40 else ())
        for n in range(65)
    ]
    await import_faq(h.database, group.community.id, rows, h.clock.now())
    (first,) = await h.chat.command("alice", "/faq list")
    lines = first.splitlines()
    assert len(lines) == 31
    assert lines[0].startswith("#1 Question number 0?")
    assert lines[-1] == "Page 1 of 3 (65 entries); next: /faq list 2"
    (last,) = await h.chat.command("alice", "/faq list 3")
    assert last.splitlines()[0].startswith("#61 ")
    assert len(last.splitlines()) == 6
    assert last.splitlines()[-1] == "Page 3 of 3 (65 entries); next: /faq list 1"
    (tagged,) = await h.chat.command("alice", "/faq list Events 2")
    assert tagged.splitlines()[0].startswith("#31 ")
    assert tagged.splitlines()[-1] == "Page 2 of 2 (40 entries); next: /faq list Events 1"
    (none,) = await h.chat.command("alice", "/faq list nosuchtag")
    assert none == "No FAQ entry is tagged nosuchtag."


async def test_a_question_another_entry_has_is_refused(harness: Harness) -> None:
    h = harness
    await add(h, "How do I join the tournament? | Sign up at example.com/signup.")
    await add(h, "Where are the rules? | See #rules.")
    refused = await add(h, "how do i JOIN the tournament | Ask Bob.")
    assert refused == ("Entry #1 already has that question; change its answer with /faq edit 1.")
    (again,) = await h.chat.command("mod", "/faq alias 2 How do I join the tournament?", role=MOD)
    assert again == "Entry #1 already has that question."
    (same,) = await h.chat.command("mod", "/faq alias 2 where are the rules", role=MOD)
    assert same == "Entry #2 already has that question."
    (reply,) = await answers(h, "alice", "how do I join the tournament?")
    assert reply.text == "Sign up at example.com/signup."  # not silenced by a tie
