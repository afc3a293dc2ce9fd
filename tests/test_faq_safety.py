"""FAQ safety (issue 24): the default matcher stays out of small talk and keeps the example's
promises, an import refuses one question in two entries, the answer cooldown survives a
restart, and /faq refuses pages out of range and invisible text. Through the console and the
`hearth` command line, as a user meets them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import cli
from bot.clock import ManualClock
from tests.console import play

EXAMPLE = Path(__file__).resolve().parent.parent / "faq.example.yaml"
START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
REFUND = "Refunds are handled in #support within 14 days of purchase."


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


def _hearth(tmp_path: Path, *args: str) -> int:
    """`hearth ARGS --config hearth.toml` in-process, on the test's database."""
    config = tmp_path / "hearth.toml"
    config.write_text(f'[database]\nurl = "{_url(tmp_path)}"\n', encoding="utf-8")
    return cli.main([*args, "--config", str(config)])


def _console(tmp_path: Path, script: str, at: datetime = START) -> list[str]:
    """One console run on the test's database: what Hearth wrote, without the prefix."""
    return asyncio.run(play(_url(tmp_path), ManualClock(at), script))


def test_default_faq_stays_out_of_small_talk_and_finds_money_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _hearth(tmp_path, "faq", "import", str(EXAMPLE)) == 0
    assert "4 added" in capsys.readouterr().out
    lines = [
        "怎么了？",
        "what time is it?",
        "how do I reset my router?",
        "how do I join a voice channel?",
        "can I get my money back?",
    ]
    # The first four get no answer; the last one the refund entry's.
    assert _console(tmp_path, "\n".join(lines) + "\n") == [REFUND]
    # Each of the four alone, too (no answer window hides anything).
    for line in lines[:4]:
        assert _console(tmp_path, f"{line}\n", START + timedelta(hours=1)) == [], line


def test_example_entries_still_answer_their_own_questions(tmp_path: Path) -> None:
    assert _hearth(tmp_path, "faq", "import", str(EXAMPLE)) == 0
    said = _console(
        tmp_path,
        "when is the next meetup?\n@ann: I forgot my password, what now?\n"
        "@bob: how can I get an invite to the server?\n@li: 请问怎么退款？\n",
    )
    assert said == [
        "The next meetup is on Saturday at 18:00 in the main hall.",
        "Use /reset in #help, then check your mail.",
        "Ask a moderator for an invite link.",
        REFUND,
    ]


def test_import_refuses_one_question_in_two_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text(
        '- id: join\n  questions: ["How do I join?", "Where do I sign up?"]\n  answer: Sign up.\n'
        '- id: signup\n  questions: ["ＷＨＥＲＥ do  I sign up ?"]\n  answer: Ask a mod.\n',
        encoding="utf-8",
    )
    assert _hearth(tmp_path, "faq", "import", str(faq)) == 1
    error = capsys.readouterr().err.strip()
    assert error == (
        f"hearth: error: {faq}: entries 'join' and 'signup' both have the question "
        "'Where do I sign up?'; keep it in one of them"
    )
    assert "\n" not in error
    # Nothing was written.
    assert _hearth(tmp_path, "faq", "export", str(tmp_path / "out.yaml")) == 0
    assert capsys.readouterr().out.strip().endswith("0 entries")


def test_import_refuses_a_question_another_entry_already_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _console(tmp_path, "/faq add How do I join? | Sign up at example.com\n")[0].startswith(
        "Added FAQ entry #1."
    )
    faq = tmp_path / "faq.yaml"
    faq.write_text('- id: join2\n  questions: ["how do i JOIN"]\n  answer: Ask.\n', "utf-8")
    assert _hearth(tmp_path, "faq", "import", str(faq)) == 1
    assert capsys.readouterr().err.strip() == (
        "hearth: error: the FAQ after this import: entries 'faq-1' and 'join2' both have the "
        "question "
        "'How do I join?'; keep it in one of them"
    )
    assert _console(tmp_path, "/faq list\n") == ["#1 How do I join?"]


def test_answer_cooldown_survives_a_restart(tmp_path: Path) -> None:
    assert _hearth(tmp_path, "faq", "import", str(EXAMPLE)) == 0
    ask = "@ann: how do I reset my password?\n"
    answer = "Use /reset in #help, then check your mail."
    assert _console(tmp_path, ask) == [answer]
    # A second run on the same database two minutes later: still within the 10 minutes.
    assert _console(tmp_path, ask, START + timedelta(minutes=2)) == []
    # Another entry is not held back, and 11 minutes after the answer it answers again.
    assert _console(tmp_path, "@bob: can I get my money back?\n", START + timedelta(minutes=3)) == [
        REFUND
    ]
    assert _console(tmp_path, ask, START + timedelta(minutes=11)) == [answer]


def test_faq_list_pages_out_of_range(tmp_path: Path) -> None:
    adds = "".join(f"/faq add Question number {n}? | Answer {n}.\n" for n in range(1, 32))
    said = _console(tmp_path, adds + "/faq list 0\n/faq list 3\n/faq list 2\n")
    assert said[31:] == [
        "The page must be 1 or more: /faq list [tag] [page]",
        "There is no page 3: the last page is 2 (/faq list 2).",
        "#31 Question number 31?",
        "Page 2 of 2 (31 entries); next: /faq list 1",
    ]


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff", "\u2060", "\u200b \u2060"])
def test_invisible_questions_and_answers_are_refused(tmp_path: Path, blank: str) -> None:
    said = _console(
        tmp_path,
        f"/faq add {blank} | An answer\n"
        f"/faq add A question? | {blank}\n"
        "/faq add How do I join? | Sign up.\n"
        f"/faq alias 1 {blank}\n"
        f"/faq edit 1 {blank}\n"
        "/faq show 1\n",
    )
    assert said[:2] == [
        "The question has no words: write it in letters or characters.",
        "The answer is empty: invisible characters show nothing.",
    ]
    assert said[2].startswith("Added FAQ entry #1.")
    assert said[3:5] == [
        "The question has no words: write it in letters or characters.",
        "The answer is empty: invisible characters show nothing.",
    ]
    assert said[5:8] == ["#1 (faq-1)", "Q: How do I join?", "A: Sign up."]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('questions: ["\u200b"]\n  answer: Hi.', "question 1 '\\u200b' has no words"),
        ('questions: ["How do I join?", "\ufeff\u2060"]\n  answer: Hi.', "question 2"),
        ('questions: ["How do I join?"]\n  answer: "\u200b"', "answer is missing"),
    ],
)
def test_import_refuses_invisible_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, problem: str
) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text(f"- id: x\n  {entry}\n", encoding="utf-8")
    assert _hearth(tmp_path, "faq", "import", str(faq)) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"hearth: error: {faq}: entry 1 (id 'x'): ")
    assert problem in error
