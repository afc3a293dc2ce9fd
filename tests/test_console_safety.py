"""What a new admin found trying Hearth from the console (issue 24): forgetting, Chinese
input and errors, and the small refusals that said the wrong thing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.i18n import load_catalog
from tests.conftest import START, make_settings
from tests.console import play


async def test_forgetme_deletes_the_name_everywhere_and_the_member_is_not_found(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    lines = await play(
        url,
        ManualClock(START),
        "@carol: hello there, everyone\n"
        "/rank carol\n"
        "@carol: /forgetme\n"
        "@carol: /forgetme confirm\n"
        "/rank carol\n"
        "/leaderboard\n",
    )
    assert lines[0].startswith("carol — level 0")
    assert "Done: your texts, name and point details here are deleted." in lines
    assert "No member called carol here." in lines
    after = lines[lines.index("No member called carol here.") + 1 :]
    assert after
    assert not any("carol" in line for line in after)  # the leaderboard too
    with sqlite3.connect(tmp_path / "h.db") as db:
        names = {row[0] for row in db.execute("SELECT name FROM accounts")}
        texts = db.execute(
            "SELECT count(*) FROM messages WHERE text LIKE '%hello there%'"
        ).fetchone()
    assert "carol" not in names
    assert texts == (0,)


async def test_chinese_errors_name_parameters_in_chinese(tmp_path: Path) -> None:
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        ManualClock(START),
        "/language zh_Hans\n/faq add\n/points give\n/rank\n",
    )
    missing = [line for line in lines if line.startswith("缺少")]
    assert missing[:2] == ["缺少 问题", "缺少 成员"]
    usage = next(line for line in lines if "/faq add" in line and "<" in line)
    assert "<问题>" in usage
    assert "<答案>" in usage
    assert not any("question" in line or "missing" in line for line in lines)


async def test_chinese_choice_words_are_understood(tmp_path: Path) -> None:
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        ManualClock(START),
        "/language zh_Hans\n"
        "@ann: 大家好，今天天气不错\n"
        "/leaderboard 周\n"
        "/leaderboard 月\n"
        "/leaderboard 全部\n"
        "@ann: /forgetme\n"
        "@ann: /forgetme 是\n",
    )
    assert not any("必须是以下之一" in line for line in lines), lines
    assert len([line for line in lines if "ann" in line]) >= 3  # each period lists ann
    assert (
        lines[-1]
        == load_catalog("zh_Hans")["Done: your texts, name and point details here are deleted."]
    )


async def test_modchannel_on_and_off(tmp_path: Path) -> None:
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        ManualClock(START),
        "/modchannel on\n/modchannel off\n/modchannel maybe\n",
    )
    assert lines[0] == "Moderator alerts will be posted in this channel."
    assert lines[1] == "Moderator alerts are off."
    assert lines[2] == "state must be one of: on, off"


async def test_help_for_a_group_a_member_cannot_use_says_why(tmp_path: Path) -> None:
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        ManualClock(START),
        "/help schedule\n/schedule\n/help mod\n",
        admin=False,
    )
    assert lines[0] == "The /schedule commands are for moderators and admins."
    assert lines[1] == "The /schedule commands are for moderators and admins."
    assert lines[2] == "The /mod commands are for moderators and admins."


def test_every_parameter_and_choice_has_a_chinese_name(tmp_path: Path) -> None:
    engine = build_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"))
    catalog = load_catalog("zh_Hans")
    names = {param.name for command in engine.registry for param in command.params}
    assert sorted(name for name in names if name not in catalog) == []


async def test_a_time_zone_name_too_long_for_a_file_is_an_unknown_zone(tmp_path: Path) -> None:
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", ManualClock(START), "/timezone " + "x" * 600
    )
    assert lines[0].startswith("timezone: unknown time zone 'xxx")


async def test_an_os_error_that_is_not_the_database_is_an_ordinary_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a database that really cannot be reached holds events; a command failing with
    some other OSError gets the apology at once (it used to wait for a database that was up)."""

    def broken(value: str) -> str:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("bot.features.community.validate_timezone", broken)
    lines = await play(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        ManualClock(START),
        "/timezone Asia/Shanghai\n/rank\n",
    )
    assert lines[0].startswith("Sorry, something went wrong.")
    assert lines[1].startswith("you — level 0")
    assert not any("trouble with its database" in line for line in lines)
