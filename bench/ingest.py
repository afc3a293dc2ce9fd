"""Benchmark of the activity-log ingest path: `Engine.handle` with the batched writer.

Three paths write the same synthetic messages into a fresh SQLite file each (schema from the
project's migrations, WAL + ``synchronous=NORMAL``):

* **engine** — every message goes through `Engine.handle` (identity resolution, feature
  dispatch, `ActivityWriter` group commit); timed from the first `handle` until `Engine.stop`
  has flushed the last batch and closed the database.
* **floor** — the same rows, prepared in advance, written with the standard library's
  `sqlite3.executemany` in one transaction: what SQLite itself can do from Python.
* **naive** — one ``INSERT`` + ``COMMIT`` per message through an SQLAlchemy `AsyncSession`
  on a `Database` (a subset, because it is slow).

Run from the repository root::

    .venv/bin/python -m bench.ingest [--messages N] [--naive-messages N] [--batch-size N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/ingest.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import insert

from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.events import Author, Message, Place
from storage.database import Database
from storage.identity import ensure_group, ensure_member
from storage.models import Base, MessageLog

__all__ = ["BenchResult", "Phase", "main", "make_messages", "run"]

PLATFORM = "discord"
GROUP_ID = "811000000000000001"
MEMBERS = 50
CHANNELS = 5
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GOAL_VS_NAIVE = 20.0

_ENGLISH_TEXT = (
    "the meetup is on friday evening does anyone want to join us for the release party "
    "thanks for the help with the build it works now i think the bot counts points twice "
    "when someone edits a message could you share the logs please good morning everyone "
    "welcome to the server read the rules channel first and have fun here is the link to "
    "the docs we moved the call to next week because half of the team is travelling"
)
_ENGLISH = tuple(_ENGLISH_TEXT.split())
_CHINESE = (
    "大家好",
    "今天的活动几点开始",
    "谢谢你的帮助",
    "我觉得这个功能很有用",
    "有人知道怎么设置时区吗",
    "下周见",
    "文档在这里",
    "机器人好像重复计分了",
    "欢迎新朋友",
    "周五晚上一起吃饭吧",
    "这个问题我也遇到过",
    "请先看一下规则频道",
)
_MESSAGE_COLUMNS = (
    "community_id",
    "group_id",
    "member_id",
    "platform",
    "channel_id",
    "thread_id",
    "message_id",
    "reply_to",
    "mentions",
    "sent_at",
    "length",
    "is_command",
    "text",
)
# The statement `storage.activity.insert_ignoring_duplicates` renders for SQLite.
_FLOOR_INSERT = (
    f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_MESSAGE_COLUMNS))}) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class Phase:
    """One timed path: how many messages it wrote and how long that took."""

    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds


@dataclass(frozen=True, slots=True)
class BenchResult:
    """The figures of one benchmark run."""

    engine: Phase
    floor: Phase
    naive: Phase
    batch_size: int

    @property
    def engine_vs_naive(self) -> float:
        """How many times faster than one commit per message the engine ingests."""
        return self.engine.rate / self.naive.rate

    @property
    def engine_vs_floor(self) -> float:
        """The engine's rate as a fraction of raw `sqlite3.executemany`."""
        return self.engine.rate / self.floor.rate

    def as_dict(self) -> dict[str, Any]:
        """Every figure, for `--json`."""
        return {
            "messages": self.engine.messages,
            "naive_messages": self.naive.messages,
            "batch_size": self.batch_size,
            "engine_seconds": round(self.engine.seconds, 4),
            "floor_seconds": round(self.floor.seconds, 4),
            "naive_seconds": round(self.naive.seconds, 4),
            "engine_rate": round(self.engine.rate, 1),
            "floor_rate": round(self.floor.rate, 1),
            "naive_rate": round(self.naive.rate, 1),
            "engine_vs_naive": round(self.engine_vs_naive, 2),
            "engine_vs_floor": round(self.engine_vs_floor, 4),
            "goal_vs_naive": GOAL_VS_NAIVE,
            "goal_met": self.engine_vs_naive >= GOAL_VS_NAIVE,
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
            "cpus": os.cpu_count(),
        }


# --- synthetic traffic ---------------------------------------------------------------------


def _text(rng: random.Random) -> str:
    """A message text: mostly short, sometimes long; English, Chinese or mixed."""
    roll = rng.random()
    words = rng.randint(1, 12) if roll < 0.7 else rng.randint(13, 60) if roll < 0.95 else 300
    language = rng.random()
    if language < 0.6:
        return " ".join(rng.choice(_ENGLISH) for _ in range(words)).capitalize()
    if language < 0.85:
        return "，".join(rng.choice(_CHINESE) for _ in range(max(1, words // 3))) + "。"
    parts = [rng.choice(_CHINESE) if rng.random() < 0.5 else rng.choice(_ENGLISH)]
    parts += [rng.choice(_ENGLISH) for _ in range(words)]
    return " ".join(parts)


def make_messages(count: int, *, seed: int = 20260105) -> list[Message]:
    """`count` messages from 50 members across 5 channels of one Discord guild.

    Deterministic for a given seed. About one in six replies to a recent message of the same
    channel and one in ten mentions someone; one second passes between messages.
    """
    rng = random.Random(seed)
    authors = [Author(user_id=str(300_000_000 + n), name=f"member{n:02d}") for n in range(MEMBERS)]
    places = [Place(PLATFORM, GROUP_ID, str(900_000_000 + n)) for n in range(CHANNELS)]
    recent: list[list[str]] = [[] for _ in places]
    messages = []
    for number in range(count):
        channel = rng.randrange(CHANNELS)
        author = authors[rng.randrange(MEMBERS)]
        message_id = str(1_000_000_000 + number)
        history = recent[channel]
        reply_to = rng.choice(history) if history and rng.random() < 0.17 else None
        mentions = (rng.choice(authors).user_id,) if rng.random() < 0.1 else ()
        messages.append(
            Message(
                place=places[channel],
                message_id=message_id,
                author=author,
                text=_text(rng),
                sent_at=START + timedelta(seconds=number),
                reply_to=reply_to,
                mentions=mentions,
            )
        )
        history.append(message_id)
        if len(history) > 50:
            del history[0]
    return messages


def _row(message: Message, community_id: int, group_id: int, member_id: int) -> dict[str, Any]:
    """The `messages` row the activity feature writes for `message`."""
    return {
        "community_id": community_id,
        "group_id": group_id,
        "member_id": member_id,
        "platform": message.place.platform,
        "channel_id": message.place.channel_id,
        "thread_id": message.place.thread_id,
        "message_id": message.message_id,
        "reply_to": message.reply_to,
        "mentions": len(message.mentions),
        "sent_at": message.sent_at,
        "length": len(message.text),
        "is_command": False,
        "text": message.text,
    }


# --- helpers --------------------------------------------------------------------------------


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def count_rows(path: Path) -> int:
    """Rows in the `messages` table of the SQLite file at `path`."""
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM messages").fetchone()
    connection.close()
    return int(count)


def _check(path: Path, expected: int, what: str) -> None:
    found = count_rows(path)
    if found != expected:
        raise SystemExit(f"{what}: expected {expected} rows in messages, found {found}")


async def _prepare(path: Path, messages: Sequence[Message]) -> tuple[int, int, dict[str, int]]:
    """Create a fresh database at `path` (migrations) with the group and every author.

    Returns the community id, the group id and the member id of each user id.
    """
    database = Database(_url(path))
    try:
        await database.upgrade()
        authors = {message.author.user_id: message.author for message in messages}
        async with database.session() as session, session.begin():
            group = await ensure_group(
                session,
                platform=PLATFORM,
                external_id=GROUP_ID,
                name=GROUP_ID,
                language="en",
                timezone="UTC",
                now=START,
            )
            members = {
                user_id: await ensure_member(
                    session,
                    community_id=group.community.id,
                    platform=PLATFORM,
                    user_id=user_id,
                    name=author.name,
                    is_bot=author.is_bot,
                    now=START,
                )
                for user_id, author in authors.items()
            }
    finally:
        await database.close()
    return group.community.id, group.id, members


# --- the three paths -----------------------------------------------------------------------


#: The activity path: the other features are switched off by their own settings (they still
#: see every event), so the figure is the logging pipeline the issue asks about. Moderation
#: stays on: it is on by default and looks at every message (its trackers and pre-checks are
#: part of the price of each message).
ACTIVITY_ONLY: dict[str, Any] = {
    "points": {"enabled": False},
    "faq": {"enabled": False},
    "schedule": {"enabled": False},
    "digest": {"enabled": False},
}


async def run_engine(
    messages: Sequence[Message], path: Path, batch_size: int | None, *, full: bool = False
) -> Phase:
    """Push `messages` through `Engine.handle`; time first handle to end of stop (the flush).

    With `full`, every feature is on at its defaults (points, FAQ matching, schedules…).
    """
    database: dict[str, Any] = {"url": _url(path)}
    if batch_size is not None:
        database["batch_size"] = batch_size
    sections = {} if full else ACTIVITY_ONLY
    settings = parse_settings({"database": database, **sections}, environ={})
    engine = build_engine(settings, clock=ManualClock(START))
    await engine.start()
    handle = engine.handle
    started = time.perf_counter()
    try:
        for message in messages:
            await handle(message)
    finally:
        await engine.stop()
    seconds = time.perf_counter() - started
    _check(path, len(messages), "engine")
    return Phase(len(messages), seconds)


def run_floor(messages: Sequence[Message], path: Path) -> Phase:
    """Insert the same rows with `sqlite3.executemany` in one transaction (rows pre-built)."""
    community_id, group_id, members = asyncio.run(_prepare(path, messages))
    rows = [
        (
            community_id,
            group_id,
            members[m.author.user_id],
            m.place.platform,
            m.place.channel_id,
            m.place.thread_id,
            m.message_id,
            m.reply_to,
            len(m.mentions),
            # SQLAlchemy's SQLite DateTime storage format, naive UTC.
            m.sent_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
            len(m.text),
            0,
            m.text,
        )
        for m in messages
    ]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # The pragmas `storage.database` sets on every connection.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(_FLOOR_INSERT, rows)
        connection.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    _check(path, len(messages), "floor")
    return Phase(len(messages), seconds)


async def run_naive(messages: Sequence[Message], path: Path) -> Phase:
    """One Core ``INSERT`` and one ``COMMIT`` per message through an `AsyncSession`."""
    community_id, group_id, members = await _prepare(path, messages)
    table = Base.metadata.tables[MessageLog.__tablename__]
    database = Database(_url(path))
    try:
        async with database.session() as session:
            started = time.perf_counter()
            for message in messages:
                row = _row(message, community_id, group_id, members[message.author.user_id])
                await session.execute(insert(table), row)
                await session.commit()
            seconds = time.perf_counter() - started
    finally:
        await database.close()
    _check(path, len(messages), "naive")
    return Phase(len(messages), seconds)


def run(messages: int, naive_messages: int, batch_size: int | None, workdir: Path) -> BenchResult:
    """Run the three paths on fresh files under `workdir` and return the figures."""
    traffic = make_messages(messages)
    naive_traffic = traffic[: min(naive_messages, messages)]
    gc.collect()
    engine = asyncio.run(run_engine(traffic, workdir / "engine.db", batch_size))
    gc.collect()
    floor = run_floor(traffic, workdir / "floor.db")
    gc.collect()
    naive = asyncio.run(run_naive(naive_traffic, workdir / "naive.db"))
    effective = batch_size or parse_settings({}, environ={}).database.batch_size
    return BenchResult(engine=engine, floor=floor, naive=naive, batch_size=effective)


# --- command line --------------------------------------------------------------------------


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _report(result: BenchResult) -> str:
    lines = [
        f"Activity ingest: {result.engine.messages:,} messages, {MEMBERS} members, "
        f"{CHANNELS} channels, batch_size={result.batch_size}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs",
        "",
        f"{'path':<8}{'messages':>10}{'seconds':>10}{'msg/s':>12}",
    ]
    for name, phase in (("engine", result.engine), ("floor", result.floor)):
        lines.append(f"{name:<8}{phase.messages:>10,}{phase.seconds:>10.2f}{phase.rate:>12,.0f}")
    naive = result.naive
    lines.append(f"{'naive':<8}{naive.messages:>10,}{naive.seconds:>10.2f}{naive.rate:>12,.0f}")
    verdict = "met" if result.engine_vs_naive >= GOAL_VS_NAIVE else "NOT met"
    lines += [
        "",
        f"engine vs naive: {result.engine_vs_naive:.1f}x (goal >= {GOAL_VS_NAIVE:.0f}x: {verdict})",
        f"engine vs floor: {result.engine_vs_floor:.1%} of raw sqlite3.executemany",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--messages", type=_positive, default=200_000, help="default 200000")
    parser.add_argument(
        "--naive-messages", type=_positive, default=5_000, help="naive subset, default 5000"
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=None, help="database.batch_size (default 500)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        result = run(args.messages, args.naive_messages, args.batch_size, Path(tmp))
    figures: Mapping[str, Any] = result.as_dict()
    print(json.dumps(figures) if args.json else _report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
