"""Benchmark of what users run: `Engine.handle` with every feature on, against references.

Each path writes the same synthetic messages into a fresh database of its own (schema from the
project's migrations; a new SQLite file with WAL + ``synchronous=NORMAL``, or with
``--database-url`` a new PostgreSQL database on that server, see `bench.targets`):

* **full** — every message goes through `Engine.handle` with every feature on at its defaults
  (activity, points, FAQ with the few entries of `bench.targets.BENCH_FAQ`, schedule, digest,
  moderation): what a community that installs Hearth runs. Timed from the first `handle`
  until `Engine.stop` has flushed the last batch and closed the database.
* **activity** — the same, with points, FAQ, schedule and digest switched off by their own
  settings (`ACTIVITY_ONLY`): the activity-log pipeline alone (reported as ``engine`` before).
* **floor** — the same rows, prepared in advance, written in one transaction with the driver
  itself: `sqlite3.executemany` on SQLite, asyncpg ``executemany`` of the same
  ``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL.
* **naive** — one ``INSERT`` + ``COMMIT`` per message through an SQLAlchemy `AsyncSession`
  on a `Database` (a subset, because it is slow).
* **latency** — `bench.latency`: with every feature on, other traffic paced at
  ``--load-rate`` msg/s, a FAQ question and a ``/rank`` in turn every ``--probe-every``
  messages, each probe's `handle()` timed to its reply (p50/p99).

Run from the repository root::

    .venv/bin/python -m bench.ingest [--messages N] [--full-messages N] [--naive-messages N]
        [--latency-messages N] [--load-rate R] [--probe-every N] [--batch-size N]
        [--database-url postgresql+asyncpg://…] [--json]
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
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import sqlalchemy
from sqlalchemy import insert

from bench.latency import Latency, interleave, run_paced
from bench.targets import BENCH_FAQ, Target, count_rows, floor_insert, prepare
from bench.traffic import (
    CHANNELS,
    GROUP_ID,
    MEMBERS,
    PLATFORM,
    START,
    make_messages,
    message_row,
)
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.events import Author, Message
from storage.database import Database
from storage.models import Base, MessageLog

__all__ = ["ACTIVITY_ONLY", "BenchResult", "Phase", "main", "make_messages", "run"]

GOAL_VS_NAIVE = 20.0
GOAL_P99_MS = 25.0


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

    full: Phase
    activity: Phase
    floor: Phase
    naive: Phase
    latency: Latency | None
    batch_size: int
    database: str
    commit: str | None = None

    @property
    def full_vs_naive(self) -> float:
        """How many times faster than one commit per message Hearth as shipped ingests."""
        return self.full.rate / self.naive.rate

    @property
    def activity_vs_naive(self) -> float:
        """The same for the activity-only engine."""
        return self.activity.rate / self.naive.rate

    def as_dict(self) -> dict[str, Any]:
        """Every figure, for `--json` (``engine_*`` is the activity path, as before)."""
        phases = {
            "full": self.full,
            "activity": self.activity,
            "floor": self.floor,
            "naive": self.naive,
        }
        figures: dict[str, Any] = {
            "database": self.database,
            "commit": self.commit,
            "messages": self.activity.messages,
            "full_messages": self.full.messages,
            "naive_messages": self.naive.messages,
            "batch_size": self.batch_size,
        }
        for name, phase in phases.items():
            figures[f"{name}_seconds"] = round(phase.seconds, 4)
            figures[f"{name}_rate"] = round(phase.rate, 1)
        figures |= {
            "full_vs_naive": round(self.full_vs_naive, 2),
            "activity_vs_naive": round(self.activity_vs_naive, 2),
            "full_vs_floor": round(self.full.rate / self.floor.rate, 4),
            "activity_vs_floor": round(self.activity.rate / self.floor.rate, 4),
            "engine_seconds": round(self.activity.seconds, 4),
            "engine_rate": round(self.activity.rate, 1),
            "engine_vs_naive": round(self.activity_vs_naive, 2),
            "engine_vs_floor": round(self.activity.rate / self.floor.rate, 4),
            "goal_vs_naive": GOAL_VS_NAIVE,
            "goal_met": self.full_vs_naive >= GOAL_VS_NAIVE,
            "activity_goal_met": self.activity_vs_naive >= GOAL_VS_NAIVE,
        }
        if self.latency is not None:
            figures |= self.latency.as_dict()
            figures["goal_p99_ms"] = GOAL_P99_MS
            figures["latency_goal_met"] = self.latency.worst_p99_ms() <= GOAL_P99_MS
        return figures | {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
            "cpus": os.cpu_count(),
        }


def _authors(messages: Sequence[Message]) -> list[Author]:
    return list({message.author.user_id: message.author for message in messages}.values())


async def _check(url: str, expected: int, what: str) -> None:
    found = await count_rows(url)
    if found != expected:
        raise SystemExit(f"{what}: expected {expected} rows in messages, found {found}")


# --- the paths ------------------------------------------------------------------------------


#: The activity path: the other features are switched off by their own settings (they still
#: see every event). Moderation stays on: it is on by default and looks at every message.
ACTIVITY_ONLY: dict[str, Any] = {
    "points": {"enabled": False},
    "faq": {"enabled": False},
    "schedule": {"enabled": False},
    "digest": {"enabled": False},
}


def _settings(url: str, batch_size: int | None, *, full: bool) -> Any:
    database: dict[str, Any] = {"url": url}
    if batch_size is not None:
        database["batch_size"] = batch_size
    return parse_settings({"database": database, **({} if full else ACTIVITY_ONLY)}, environ={})


async def run_engine(
    messages: Sequence[Message], url: str, batch_size: int | None, *, full: bool = False
) -> Phase:
    """Push `messages` through `Engine.handle`; time first handle to end of stop (the flush).

    With `full`, every feature is on at its defaults (points, FAQ matching, schedules…); the
    community has the bench FAQ's entries either way (created first, not timed).
    """
    await prepare(url, platform=PLATFORM, group_external_id=GROUP_ID, now=START, faq=True)
    engine = build_engine(_settings(url, batch_size, full=full), clock=ManualClock(START))
    await engine.start()
    handle = engine.handle
    started = time.perf_counter()
    try:
        for message in messages:
            await handle(message)
    finally:
        await engine.stop()
    seconds = time.perf_counter() - started
    await _check(url, len(messages), "full" if full else "activity")
    return Phase(len(messages), seconds)


async def run_floor(messages: Sequence[Message], url: str) -> Phase:
    """Insert the same rows with the driver's `executemany` in one transaction (rows
    pre-built): `sqlite3` on SQLite, asyncpg on PostgreSQL."""
    ids = await prepare(
        url, platform=PLATFORM, group_external_id=GROUP_ID, now=START, authors=_authors(messages)
    )
    sqlite = url.startswith("sqlite")
    rows = [
        (
            ids.community_id,
            ids.group_id,
            ids.members[m.author.user_id],
            m.place.platform,
            m.place.channel_id,
            m.place.thread_id,
            m.message_id,
            m.reply_to,
            len(m.mentions),
            # SQLAlchemy's SQLite DateTime storage format is naive UTC text.
            m.sent_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            if sqlite
            else m.sent_at,
            len(m.text),
            0 if sqlite else False,
            m.text,
        )
        for m in messages
    ]
    seconds = await floor_insert(url, rows)
    await _check(url, len(messages), "floor")
    return Phase(len(messages), seconds)


async def run_naive(messages: Sequence[Message], url: str) -> Phase:
    """One Core ``INSERT`` and one ``COMMIT`` per message through an `AsyncSession`."""
    ids = await prepare(
        url, platform=PLATFORM, group_external_id=GROUP_ID, now=START, authors=_authors(messages)
    )
    table = Base.metadata.tables[MessageLog.__tablename__]
    database = Database(url)
    try:
        async with database.session() as session:
            started = time.perf_counter()
            for message in messages:
                member = ids.members[message.author.user_id]
                await session.execute(
                    insert(table), message_row(message, ids.community_id, ids.group_id, member)
                )
                await session.commit()
            seconds = time.perf_counter() - started
    finally:
        await database.close()
    await _check(url, len(messages), "naive")
    return Phase(len(messages), seconds)


async def run_latency(
    messages: Sequence[Message],
    url: str,
    batch_size: int | None,
    *,
    rate: float,
    probe_every: int,
) -> Latency:
    """Every feature on: `messages` paced at `rate` msg/s with FAQ and /rank probes timed."""
    await prepare(url, platform=PLATFORM, group_external_id=GROUP_ID, now=START, faq=True)
    engine = build_engine(_settings(url, batch_size, full=True), clock=ManualClock(START))
    await engine.start()
    stream = interleave(
        messages, probe_every=probe_every, answers=[answer for _, answer in BENCH_FAQ]
    )
    try:
        return await run_paced(engine.handle, stream, rate)
    finally:
        await engine.stop()


@dataclass(frozen=True, slots=True)
class Sizes:
    """How many messages each path runs."""

    messages: int
    full: int
    naive: int
    latency: int
    load_rate: float = 1000.0
    probe_every: int = 20


async def run(sizes: Sizes, batch_size: int | None, target: Target) -> BenchResult:
    """Run every path on fresh databases of `target` and return the figures."""
    traffic = make_messages(sizes.messages)
    phases: dict[str, Phase] = {}
    for name, subset in (
        ("full", traffic[: sizes.full]),
        ("activity", traffic),
        ("floor", traffic),
        ("naive", traffic[: sizes.naive]),
    ):
        gc.collect()
        async with target.fresh(name) as url:
            if name in ("full", "activity"):
                phases[name] = await run_engine(subset, url, batch_size, full=name == "full")
            elif name == "floor":
                phases[name] = await run_floor(subset, url)
            else:
                phases[name] = await run_naive(subset, url)
    latency = None
    if sizes.latency:
        gc.collect()
        async with target.fresh("latency") as url:
            latency = await run_latency(
                make_messages(sizes.latency, seed=20260106),
                url,
                batch_size,
                rate=sizes.load_rate,
                probe_every=sizes.probe_every,
            )
    effective = batch_size or parse_settings({}, environ={}).database.batch_size
    return BenchResult(
        latency=latency,
        batch_size=effective,
        database=await target.version(),
        commit=_commit(),
        **phases,
    )


def _commit() -> str | None:
    """The checkout's commit (the tree may carry uncommitted changes on top)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


# --- command line --------------------------------------------------------------------------


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _report(result: BenchResult) -> str:
    lines = [
        f"Ingest: {result.activity.messages:,} messages, {MEMBERS} members, {CHANNELS} "
        f"channels, batch_size={result.batch_size}, {result.database}",
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{os.cpu_count()} CPUs, commit {result.commit or '?'}",
        "",
        f"{'path':<10}{'messages':>10}{'seconds':>10}{'msg/s':>12}{'÷ naive':>10}",
    ]
    for name in ("full", "activity", "floor", "naive"):
        phase: Phase = getattr(result, name)
        ratio = phase.rate / result.naive.rate
        lines.append(
            f"{name:<10}{phase.messages:>10,}{phase.seconds:>10.2f}{phase.rate:>12,.0f}"
            f"{ratio:>9.1f}x"
        )
    lines += [
        "",
        f"full vs naive: {result.full_vs_naive:.2f}x "
        f"(goal >= {GOAL_VS_NAIVE:.0f}x: {_verdict(result.full_vs_naive >= GOAL_VS_NAIVE)})",
        f"activity vs naive: {result.activity_vs_naive:.1f}x; "
        f"full {result.full.rate / result.floor.rate:.1%} and activity "
        f"{result.activity.rate / result.floor.rate:.1%} of the floor",
    ]
    if result.latency is not None:
        lines += ["", *_latency_lines(result.latency)]
    return "\n".join(lines)


def _latency_lines(latency: Latency) -> list[str]:
    lines = [
        f"Reply latency, every feature on: other traffic {latency.load_rate:,.0f} msg/s "
        f"(target {latency.target_rate:,.0f}), {latency.background:,} messages"
    ]
    if latency.load_rate < 0.95 * latency.target_rate:
        lines.append("  the engine could not keep up with the target rate: it ran flat out")
    for kind, label in (("faq", "FAQ answer"), ("rank", "/rank")):
        lines.append(
            f"  {label:<11} p50 {latency.ms(kind, 50):7.2f} ms  p99 {latency.ms(kind, 99):7.2f} ms"
            f"  ({len(latency.timings[kind])} probes, {latency.missed[kind]} without the reply)"
        )
    worst = latency.worst_p99_ms()
    lines.append(f"  p99 goal <= {GOAL_P99_MS:.0f} ms: {_verdict(worst <= GOAL_P99_MS)}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add = parser.add_argument
    add("--messages", type=_positive, default=50_000, help="activity and floor, default 50000")
    add("--full-messages", type=_positive, default=None, help="full path, default --messages")
    add("--naive-messages", type=_positive, default=5_000, help="naive subset, default 5000")
    add("--latency-messages", type=_count, default=10_000, help="0 skips; default 10000")
    add("--load-rate", type=_positive, default=1_000, help="latency traffic msg/s, default 1000")
    add("--probe-every", type=_positive, default=20, help="messages between probes, default 20")
    add("--batch-size", type=_positive, default=None, help="database.batch_size (default 500)")
    add("--database-url", default=None, help="a PostgreSQL server to run on (CREATEDB role)")
    add("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    sizes = Sizes(
        messages=args.messages,
        full=min(args.full_messages or args.messages, args.messages),
        naive=min(args.naive_messages, args.messages),
        latency=args.latency_messages,
        load_rate=float(args.load_rate),
        probe_every=args.probe_every,
    )
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        target = Target(Path(tmp), args.database_url)
        result = asyncio.run(run(sizes, args.batch_size, target))
    print(json.dumps(result.as_dict()) if args.json else _report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
