"""Bounded memory (issue 17, item 4): with every per-member memory bounded to one member, so
each message of another member pushes the previous member's state out, Hearth decides as it
does with its default bounds — XP cooldown and the repeat filter, flood and repeat
detection — because forgotten state that still matters is read back from storage.

Each script is played twice on fresh databases, with the default bounds and with the bounds
at one, and what Hearth wrote (and the XP ledger) must be the same; the expected decisions
are asserted too, so agreeing on doing nothing would not pass.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.directory
import bot.features.moderation.feature
import bot.features.moderation.rules
import bot.features.points.feature
import bot.features.points.staged
from bot.clock import ManualClock
from bot.features.points.memory import RepeatFilter
from bot.recent import Expiring, micros
from storage.database import Database
from storage.models import PointsLedger
from tests.conftest import make_settings
from tests.console import play

START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
#: The console's message ids start with its session's (random) id.
_SESSION = re.compile(r"\b[0-9a-f]{16}-")
#: Every bound on what is kept per member, and what it is kept as a module constant in.
BOUNDS = (
    (bot.features.points.feature, "RECENT_MEMBERS"),
    (bot.features.points.feature, "RECENT_AUTHORS"),
    (bot.features.points.staged, "CAPACITY"),
    (bot.features.moderation.feature, "TRACKED"),
    (bot.features.moderation.rules, "TRACKED_MEMBERS"),
    (bot.directory, "MEMBERS_KEPT"),
)


async def ledger(url: str) -> list[tuple[str, str, int]]:
    database = Database(url)
    try:
        async with database.session() as session:
            query = select(PointsLedger.source, PointsLedger.reason, PointsLedger.amount).order_by(
                PointsLedger.id
            )
            rows = (await session.execute(query)).all()
    finally:
        await database.close()
    # The console numbers messages after a session prefix: message:<session>-<n> → message:n.
    return [(_numbered(str(s)), str(r), int(a)) for s, r, a in rows]


def _numbered(source: str) -> str:
    """``message:<session>-3`` → ``message:3``."""
    kind, _, key = source.partition(":")
    return f"{kind}:{_SESSION.sub('', key)}"


async def both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, **sections: dict[str, Any]
) -> tuple[list[str], list[tuple[str, str, int]]]:
    """Play `script` with the default bounds, then with every bound at one member; assert
    both runs wrote the same and recorded the same XP; return the bounded run's lines and
    ledger."""
    runs = []
    for name, bound in (("default", None), ("bounded", 1)):
        with monkeypatch.context() as patch:
            if bound is not None:
                for module, constant in BOUNDS:
                    patch.setattr(module, constant, bound)
            url = f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
            settings = make_settings(url, **sections)
            lines = await play(url, ManualClock(START), script, settings=settings)
            runs.append(([_SESSION.sub("", line) for line in lines], await ledger(url)))
    assert runs[1] == runs[0]
    return runs[1]


async def test_xp_cooldown_and_repeat_filter_hold_after_eviction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "@ann: the tea is lovely this morning\n"  # 1: earns
        "@bob: hello everyone at the tea house\n"  # 2: earns; ann is forgotten
        "@ann: a different thought entirely here\n"  # 3: ann's cooldown
        "~ +2m\n"
        "@ann: the tea is lovely this morning\n"  # 4: the same as 1: no XP
        "@bob: another message from bob today\n"  # 5: earns
        "@ann: something new to say right now\n"  # 6: earns
        "~ +2m\n"
        "@bob: hello everyone at the tea house\n"  # 7: the same as 2: no XP
        "@ann: a different thought entirely here\n"  # 8: the same as 3: no XP
        "/rank ann\n"
        "/rank bob\n"
    )
    lines, entries = await both_ways(
        tmp_path,
        monkeypatch,
        script,
        schedule={"worker": False},
        points={"message_xp_min": 10, "message_xp_max": 10},
    )
    assert [source for source, reason, _ in entries if reason == "message"] == [
        "message:1",
        "message:2",
        "message:5",
        "message:6",
    ]
    assert sum("20 XP" in line for line in lines) == 2, lines


async def test_flood_and_repeat_detection_hold_after_eviction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seven messages from ann within ten seconds, each followed by another member's.
    flood = "".join(f"@ann: message number {n} from ann\n@m{n}: hi there {n}\n" for n in range(7))
    repeat = "".join(
        f"~ +20s\n@ann: buy cheap tea at my shop\n@r{n}: something else {n}\n" for n in range(3)
    )
    lines, _ = await both_ways(
        tmp_path,
        monkeypatch,
        "/modchannel\n" + flood + "~ +5m\n" + repeat,
        schedule={"worker": False},
        points={"message_xp_min": 10, "message_xp_max": 10},
        moderation={"rate_exempt_platforms": []},
    )
    # /modchannel is #1; ann's seventh message is #14, her third copy #20.
    assert [line for line in lines if line.startswith("(deleted message ")] == [
        "(deleted message 14: too many messages too fast)",
        "(deleted message 20: the same message again and again)",
    ]
    assert "ann, your message was removed: too many messages too fast. This is a warning." in (
        line.removeprefix("[#general] ") for line in lines
    )


def test_expired_windows_are_forgotten_without_loss() -> None:
    """A member whose window has passed takes no memory and needs no read from storage."""
    repeats = RepeatFilter(capacity=1_000)
    window = timedelta(minutes=10)
    for n in range(500):
        at = START + n * timedelta(seconds=6)  # a new member every 6 s
        assert repeats.needs_load(n, at, window) == (at - window <= START)
        assert not repeats.repeated(n, f"hello number {n}", at, window)
    assert len(repeats) <= 102  # the members of the last ten minutes, not all 500


def test_forgetting_a_window_that_still_counts_is_known() -> None:
    memory: Expiring[str, int] = Expiring(capacity=1)
    memory.put("ann", 1, until=micros(START) + 10, now=micros(START))
    memory.put("bob", 2, until=micros(START) + 10, now=micros(START))
    assert "ann" not in memory
    assert memory.lost("ann", micros(START) + 10)  # ann's state counted until then
    assert not memory.lost("ann", micros(START) + 11)
    assert not memory.lost("bob", micros(START))  # in memory
