"""Moderation as a new admin tries it from the console: every deletion is in the audit log and
can be undone, the moderation window survives a restart, and times are shown in the
community's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from storage.database import Database
from storage.models import ModerationAction
from storage.moderation import recent_messages
from tests.console import play

#: 07:00 UTC is 15:00 in Shanghai.
START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
SETUP = "/modchannel\n/timezone Asia/Shanghai\n"


async def console_run(url: str, clock: ManualClock, script: str) -> list[str]:
    """One `hearth run` on `url` fed `script` (the console member is an admin); the lines
    Hearth wrote, without their prefix. The flood and repeat rules are on for the console."""
    return await play(
        url, clock, script, schedule={"worker": False}, moderation={"rate_exempt_platforms": []}
    )


def log_lines(lines: list[str]) -> list[str]:
    """The entries of the last /mod log in `lines`."""
    start = max(i for i, line in enumerate(lines) if line == "Moderation log (newest first):")
    return [line for line in lines[start + 1 :] if line.startswith("#")]


def deletions(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("(deleted message ")]


def alerts(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[#general] 🛡️")]


async def audit_rows(url: str) -> list[tuple[str, str, str | None, str | None]]:
    database = Database(url)
    try:
        async with database.session() as session:
            rows = await session.execute(
                select(
                    ModerationAction.kind,
                    ModerationAction.rule,
                    ModerationAction.message_id,
                    ModerationAction.text,
                ).order_by(ModerationAction.id)
            )
            return [(str(k), str(r), m, t) for k, r, m, t in rows.all()]
    finally:
        await database.close()


async def test_every_repeat_offence_is_audited_and_undoable(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    clock = ManualClock(START)
    script = (
        SETUP
        + "/mod words add free money\n"
        + "@ann: get FREE MONEY now\n"
        + "@ann: get f.r.e.e m-o-n-e-y now\n"
        + "~ +30s\n"
        + "@ann: free money, last chance\n"
        + "/mod log\n"
        + "/mod undo 2\n"
        + "/mod undo 3\n"
        + "/mod log\n"
    )
    lines = await console_run(url, clock, script)
    assert len(deletions(lines)) == 3
    # One incident: one warning and one alert, however many messages it deletes.
    assert len(alerts(lines)) == 1
    assert (
        lines.count(
            "[#general] ann, your message was removed: a blocked phrase. This is a warning."
        )
        == 1
    )
    second_log = max(i for i, line in enumerate(lines) if line.startswith("Moderation log"))
    entry = "#{n} · 2026-12-03 15:00 (Asia/Shanghai) · Hearth deleted ann · a blocked phrase: "
    entry += "free money"
    assert log_lines(lines[:second_log]) == [entry.format(n=n) for n in (3, 2, 1)]
    assert log_lines(lines) == [
        entry.format(n=3) + " (undone)",
        entry.format(n=2) + " (undone)",
        entry.format(n=1),
    ]
    assert "[#general] Restored by a moderator — ann wrote: get f.r.e.e m-o-n-e-y now" in lines
    assert "[#general] Restored by a moderator — ann wrote: free money, last chance" in lines
    assert "[#general] Undone: #2 (ann)." in lines
    # The first one's warning stands: undoing a later deletion takes back only that message.
    assert "(revoked)" not in "\n".join(await console_run(url, clock, "/warnings ann\n"))
    assert [row[:2] for row in await audit_rows(url)] == [("deleted", "words")] * 3


async def test_a_flood_tail_and_a_newcomers_second_link_are_audited(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    clock = ManualClock(START)
    flood = "".join(f"@bob: flood message number {n}\n" for n in range(9))
    script = (
        SETUP
        + flood
        + "@newbie joins\n"
        + "@newbie: visit my shop at example.com\n"
        + "@newbie: also see www.spam.cn\n"
        + "/mod log 10\n"
    )
    lines = await console_run(url, clock, script)
    # The 7th message in 10 seconds starts the flood; 8 and 9 are its tail.
    assert len(deletions(lines)) == 5
    assert len(alerts(lines)) == 2  # one per incident: the flood, the held link
    entries = log_lines(lines)
    assert len(entries) == 5
    held = [e for e in entries if "Hearth held newbie" in e]
    assert len(held) == 2
    flooded = [e for e in entries if "Hearth deleted bob · too many messages too fast" in e]
    assert len(flooded) == 3
    rows = await audit_rows(url)
    assert [(kind, rule) for kind, rule, _, _ in rows] == [("deleted", "flood")] * 3 + [
        ("held", "link")
    ] * 2
    assert [text for *_, text in rows] == [
        "flood message number 6",
        "flood message number 7",
        "flood message number 8",
        "visit my shop at example.com",
        "also see www.spam.cn",
    ]
    # The held second link comes back with its own undo.
    undone = await console_run(url, clock, "/mod undo 5\n")
    assert undone == [
        "[#general] Restored by a moderator — newbie wrote: also see www.spam.cn",
        "[#general] Undone: #5 (newbie).",
    ]


async def test_a_flood_and_a_repeat_split_by_a_restart_are_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    clock = ManualClock(START)
    before = "@cid: Buy followers cheap at my shop\n~ +20s\n"
    before += "@cid: BUY followers cheap at my shop!\n"
    before += "".join(f"@bob: first half number {n}\n" for n in range(4))
    first = await console_run(url, clock, SETUP + before)
    assert deletions(first) == []
    after = "".join(f"@bob: second half number {n}\n" for n in range(3))
    after += "@cid: buy followers cheap at my shop\n"
    asked: list[int] = []
    real = recent_messages

    async def counting(session: Any, **query: Any) -> Any:
        asked.append(query["community_id"])
        return await real(session, **query)

    monkeypatch.setattr("bot.features.moderation.window.recent_messages", counting)
    second = await console_run(url, clock, "~ +3s\n" + after + "@dee: unrelated words here\n")
    assert len(asked) == 1  # read back once for the community, not per message or member
    # Seven messages in 10 seconds across the restart: the 7th is a flood; the third copy
    # of cid's text within two minutes is a repeat.
    assert [line.split(": ", 1)[1] for line in deletions(second)] == [
        "too many messages too fast)",
        "the same message again and again)",
    ]
    assert (
        "[#general] bob, your message was removed: too many messages too fast. This is a warning."
        in second
    )


async def test_a_second_flood_after_a_restart_mutes_until_a_local_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    clock = ManualClock(START)
    flood = "".join(f"@bob: flood message number {n}\n" for n in range(7))
    first = await console_run(url, clock, SETUP + flood)
    assert len(alerts(first)) == 1
    again = "".join(f"@bob: another flood number {n}\n" for n in range(7))
    second = await console_run(url, clock, "~ +2m\n" + again + "/mod log 3\n")
    # 07:02 UTC plus the 10-minute flood mute: 15:12 in Shanghai.
    assert (
        "[#general] 🛡️ Hearth muted bob until 2026-12-03 15:12 (Asia/Shanghai): too many "
        "messages too fast. Undo: /mod undo 3"
    ) in second
    assert log_lines(second)[0] == (
        "#3 · 2026-12-03 15:02 (Asia/Shanghai) · Hearth muted bob · too many messages too "
        "fast · until 2026-12-03 15:12 (Asia/Shanghai)"
    )


async def test_warnings_show_the_communitys_time_zone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    clock = ManualClock(START)
    script = SETUP + "@ann: hello\n/warn ann spamming links\n/warnings ann\n/mod log\n"
    lines = await console_run(url, clock, script)
    assert lines[lines.index("Warnings of ann:") + 1] == (
        "#1 · 2026-12-03 15:00 (Asia/Shanghai) · you · spamming links"
    )
    assert log_lines(lines) == [
        "#1 · 2026-12-03 15:00 (Asia/Shanghai) · you warned ann · spamming links"
    ]
