"""Benchmark of `/leaderboard` on a large community: the real command through `Engine.handle`.

A fresh SQLite file gets the schema from the project's migrations, then one community (one
Discord guild) with N members (default 100,000) is bulk-loaded with the standard library's
`sqlite3.executemany` (not timed): an account, a member, a `member_accounts` row and a
`points_totals` row each (random XP from a seeded RNG, the level the default curve gives
it), and ledger rows spread over the last 60 days whose amounts add up to each member's XP.

Then, on an engine from `build_engine` (clock fixed at `NOW`), these are timed:

* **all / week / month** — `/leaderboard`, `/leaderboard week`, `/leaderboard month`, each
  sent as a `CommandInvoked` through `MemoryAdapter.command` (`Engine.handle` plus delivery)
  by the member in the middle of the all-time ranking, so the "You: #N of M" line is computed
  as well as the top ten. Warm-ups first, then `--repeat` timed runs of each.
* **naive** — what the command would cost without SQL doing the work: every member's XP of the
  community fetched into Python with the standard library's `sqlite3`
  (``SELECT member_id, xp FROM points_totals WHERE community_id = ?``), sorted, top ten and the
  caller's rank taken from the sorted list. No engine, no SQLAlchemy, no names: a generous
  baseline.

Run from the repository root::

    .venv/bin/python -m bench.points [--members N] [--ledger-per-member N] [--repeat N]
        [--warmup N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/points.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import itertools
import json
import math
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy

from adapters.memory import MemoryAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import CurveSettings, parse_settings
from bot.features.points.curve import Curve
from storage.database import Database

__all__ = ["BenchResult", "Dataset", "Timing", "main", "make_dataset", "run"]

PLATFORM = "discord"
GROUP_ID = "811000000000000001"
CHANNEL_ID = "900000000"
USER_BASE = 300_000_000
# A Wednesday: the week (from Monday) holds 2.5 of the 60 days of history, the month 17.5.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
HISTORY = timedelta(days=60)
PERIODS = ("all", "week", "month")
GOAL_MS = 50.0
T = TypeVar("T")
_REASONS = ("message", "message", "message", "reaction", "thanks", "checkin")


@dataclass(frozen=True, slots=True)
class Timing:
    """Repeated timings of one path, in seconds."""

    samples: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        """Median, in milliseconds."""
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        """95th percentile (nearest rank), in milliseconds."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000


@dataclass(frozen=True, slots=True)
class Dataset:
    """The synthetic community: one row tuple list per table, ready for `executemany`."""

    accounts: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    member_accounts: list[tuple[Any, ...]]
    totals: list[tuple[Any, ...]]
    ledger: list[tuple[Any, ...]]
    caller_user_id: str
    caller_rank: int


@dataclass(frozen=True, slots=True)
class BenchResult:
    """The figures of one benchmark run."""

    members: int
    ledger_rows: int
    repeat: int
    warmup: int
    caller_rank: int
    engine: Mapping[str, Timing]
    naive: Timing
    replies: Mapping[str, str]

    @property
    def ratio(self) -> float:
        """Naive median ÷ all-time `/leaderboard` median."""
        return self.naive.median_ms / self.engine["all"].median_ms

    @property
    def goal_met(self) -> bool:
        """Whether `/leaderboard` (all time, the command's default) has a median under the goal."""
        return self.engine["all"].median_ms < GOAL_MS

    @property
    def goal_met_every_period(self) -> bool:
        """Whether the week and month boards are under the goal too."""
        return all(timing.median_ms < GOAL_MS for timing in self.engine.values())

    def as_dict(self) -> dict[str, Any]:
        """Every figure, for `--json`."""
        figures: dict[str, Any] = {
            "members": self.members,
            "ledger_rows": self.ledger_rows,
            "repeat": self.repeat,
            "warmup": self.warmup,
            "caller_rank": self.caller_rank,
        }
        for period, timing in self.engine.items():
            figures[f"{period}_median_ms"] = round(timing.median_ms, 2)
            figures[f"{period}_p95_ms"] = round(timing.p95_ms, 2)
            figures[f"{period}_goal_met"] = timing.median_ms < GOAL_MS
        figures |= {
            "naive_median_ms": round(self.naive.median_ms, 2),
            "naive_p95_ms": round(self.naive.p95_ms, 2),
            "ratio": round(self.ratio, 2),
            "goal_ms": GOAL_MS,
            "goal_met": self.goal_met,
            "goal_met_every_period": self.goal_met_every_period,
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
            "cpus": os.cpu_count(),
        }
        return figures


# --- synthetic community -------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    """SQLAlchemy's SQLite `DateTime` storage format: naive UTC with microseconds."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` cut into `parts` positive amounts (`total` >= `parts`)."""
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    edges = [0, *cuts, total]
    return [high - low for low, high in itertools.pairwise(edges)]


def make_dataset(
    members: int, ledger_per_member: int, community_id: int, *, seed: int = 20260318
) -> Dataset:
    """Rows for `members` members of `community_id`, deterministic for a given seed.

    XP is log-normal (median about 1,100, a long tail into the hundreds of thousands), at
    least `ledger_per_member` so that every ledger amount is positive. Member ids are 1…N.
    The caller is the member at the middle of the all-time ranking; one of their ledger rows
    is moved into the current week so that every period's board has a "You:" line.
    """
    rng = random.Random(seed)
    curve = Curve(CurveSettings())
    created = _stamp(NOW - HISTORY - timedelta(days=30))
    history_seconds = int(HISTORY.total_seconds())
    accounts: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    totals: list[tuple[Any, ...]] = []
    ledger: list[list[Any]] = []
    xps: list[tuple[int, int]] = []
    for member_id in range(1, members + 1):
        user_id = str(USER_BASE + member_id)
        name = f"member{member_id:06d}"
        xp = max(ledger_per_member, min(5_000_000, int(rng.lognormvariate(7.0, 1.5))))
        accounts.append((member_id, PLATFORM, user_id, name, 0))
        rows.append((member_id, community_id, name, 0, created))
        links.append((member_id, community_id, member_id, member_id))
        # member_id, community_id, xp, level, reputation, day, day_xp, day_reaction_xp,
        # last_message_xp_at, streak, last_checkin_day, version
        totals.append(
            (member_id, community_id, xp, curve.level_for(xp), 0, None, 0, 0, None, 0, None, 0)
        )
        for amount in _split(xp, ledger_per_member, rng):
            at = NOW - timedelta(seconds=rng.randrange(1, history_seconds))
            reason = rng.choice(_REASONS)
            source = f"{reason}:{len(ledger)}"
            ledger.append([community_id, member_id, "xp", amount, reason, source, _stamp(at)])
        xps.append((xp, member_id))
    xps.sort(key=lambda pair: (-pair[0], pair[1]))
    caller_xp, caller = xps[members // 2]
    # The command's rank: members with strictly more XP, plus one (ties share a rank).
    caller_rank = 1 + sum(1 for xp, _ in xps if xp > caller_xp)
    first_row = (caller - 1) * ledger_per_member
    ledger[first_row][6] = _stamp(NOW - timedelta(hours=1))
    return Dataset(
        accounts=accounts,
        members=rows,
        member_accounts=links,
        totals=totals,
        ledger=[tuple(row) for row in ledger],
        caller_user_id=str(USER_BASE + caller),
        caller_rank=caller_rank,
    )


# --- setup ---------------------------------------------------------------------------------


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _migrate(path: Path) -> None:
    database = Database(_url(path))
    try:
        await database.upgrade()
    finally:
        await database.close()


def load(path: Path, members: int, ledger_per_member: int) -> Dataset:
    """Create the schema at `path` with the migrations and bulk-load the community."""
    asyncio.run(_migrate(path))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN")
        created = _stamp(NOW - HISTORY - timedelta(days=30))
        cursor = connection.execute(
            "INSERT INTO communities (name, language, timezone, created_at) VALUES (?, ?, ?, ?)",
            (GROUP_ID, "en", "UTC", created),
        )
        community_id = int(cursor.lastrowid or 0)
        connection.execute(
            "INSERT INTO groups (community_id, platform, external_id, name, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (community_id, PLATFORM, GROUP_ID, GROUP_ID, created),
        )
        data = make_dataset(members, ledger_per_member, community_id)
        statements: Sequence[tuple[str, list[tuple[Any, ...]]]] = (
            (
                "INSERT INTO accounts (id, platform, external_id, name, is_bot) "
                "VALUES (?, ?, ?, ?, ?)",
                data.accounts,
            ),
            (
                "INSERT INTO members (id, community_id, display_name, is_bot, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                data.members,
            ),
            (
                "INSERT INTO member_accounts (id, community_id, account_id, member_id) "
                "VALUES (?, ?, ?, ?)",
                data.member_accounts,
            ),
            (
                "INSERT INTO points_totals (member_id, community_id, xp, level, reputation, day, "
                "day_xp, day_reaction_xp, last_message_xp_at, streak, last_checkin_day, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                data.totals,
            ),
            (
                "INSERT INTO points_ledger (community_id, member_id, currency, amount, reason, "
                "source, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                data.ledger,
            ),
        )
        for statement, rows in statements:
            connection.executemany(statement, rows)
        # What PointsBook.apply keeps per change: XP per member per local week and month.
        for kind, start in (
            ("week", "date(at, '-6 days', 'weekday 1')"),
            ("month", "strftime('%Y-%m-01', at)"),
        ):
            connection.execute(
                "INSERT INTO points_periods (community_id, kind, start, member_id, xp) "
                f"SELECT community_id, '{kind}', {start}, member_id, sum(amount) "
                "FROM points_ledger WHERE currency = 'xp' GROUP BY 1, 2, 3, 4"
            )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return data


# --- the timed paths -----------------------------------------------------------------------


async def _timed(action: Callable[[], Awaitable[T]], repeat: int, warmup: int) -> tuple[Timing, T]:
    """Await `action()` `warmup` + `repeat` times; time the last `repeat`, keep the last result."""
    for _ in range(warmup):
        result = await action()
    gc.collect()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await action()
        samples.append(time.perf_counter() - started)
    return Timing(tuple(samples)), result


async def run_engine(
    path: Path, caller: str, expected: str, repeat: int, warmup: int
) -> tuple[dict[str, Timing], dict[str, str]]:
    """Time `/leaderboard [period]` through the engine for each period; keep one reply each.

    Every reply must end with the caller's "You:" line, and the all-time one must contain
    `expected` (the caller's rank worked out from the generated data).
    """
    settings = parse_settings({"database": {"url": _url(path)}}, environ={})
    clock = ManualClock(NOW)
    engine = build_engine(settings, clock=clock, rng=random.Random(7))
    await engine.start()
    chat = MemoryAdapter(engine, clock, platform=PLATFORM, group=GROUP_ID, channel=CHANNEL_ID)
    timings: dict[str, Timing] = {}
    replies: dict[str, str] = {}
    try:
        for period in PERIODS:
            line = "/leaderboard" if period == "all" else f"/leaderboard {period}"

            async def leaderboard(line: str = line) -> list[str]:
                return await chat.command(caller, line)

            timing, texts = await _timed(leaderboard, repeat, warmup)
            wanted = expected if period == "all" else "You: #"
            if len(texts) != 1 or wanted not in texts[0].splitlines()[-1]:
                raise SystemExit(f"{line}: expected {wanted!r} in the last line, got {texts!r}")
            timings[period], replies[period] = timing, texts[0]
    finally:
        await engine.stop()
    return timings, replies


def run_naive(path: Path, caller_member_id: int, repeat: int, warmup: int) -> Timing:
    """Fetch every member's XP with `sqlite3`, sort in Python, take top ten and own rank."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    (community_id,) = connection.execute("SELECT id FROM communities").fetchone()

    async def naive() -> tuple[list[tuple[int, int]], int]:  # async only to share `_timed`
        rows = connection.execute(
            "SELECT member_id, xp FROM points_totals WHERE community_id = ?", (community_id,)
        ).fetchall()
        ranked = sorted((row for row in rows if row[1] > 0), key=lambda row: (-row[1], row[0]))
        mine = next(n for n, row in enumerate(ranked, 1) if row[0] == caller_member_id)
        return ranked[:10], mine

    try:
        timing, _ = asyncio.run(_timed(naive, repeat, warmup))
    finally:
        connection.close()
    return timing


def run(
    members: int, ledger_per_member: int, repeat: int, warmup: int, workdir: Path
) -> BenchResult:
    """Load a fresh community under `workdir`, time every path and return the figures."""
    path = workdir / "points.db"
    data = load(path, members, ledger_per_member)
    caller, rank, ledger_rows = data.caller_user_id, data.caller_rank, len(data.ledger)
    del data
    gc.collect()
    expected = f"You: #{rank} of {members}"
    engine, replies = asyncio.run(run_engine(path, caller, expected, repeat, warmup))
    gc.collect()
    naive = run_naive(path, int(caller) - USER_BASE, repeat, warmup)
    return BenchResult(
        members=members,
        ledger_rows=ledger_rows,
        repeat=repeat,
        warmup=warmup,
        caller_rank=rank,
        engine=engine,
        naive=naive,
        replies=replies,
    )


# --- command line --------------------------------------------------------------------------


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {number}")
    return number


def _report(result: BenchResult) -> str:
    lines = [
        f"/leaderboard: {result.members:,} members, {result.ledger_rows:,} ledger rows, "
        f"caller ranked #{result.caller_rank:,}, {result.repeat} runs after {result.warmup} "
        "warm-ups",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs",
        "",
        f"{'path':<20}{'median ms':>11}{'p95 ms':>10}",
    ]
    for period, timing in result.engine.items():
        name = "/leaderboard" if period == "all" else f"/leaderboard {period}"
        lines.append(f"{name:<20}{timing.median_ms:>11.2f}{timing.p95_ms:>10.2f}")
    naive = result.naive
    lines.append(f"{'naive (all time)':<20}{naive.median_ms:>11.2f}{naive.p95_ms:>10.2f}")
    verdict = "met" if result.goal_met else "NOT met"
    slow = [p for p, t in result.engine.items() if t.median_ms >= GOAL_MS]
    periods = f"over the goal: {', '.join(slow)}" if slow else "every period under the goal"
    lines += [
        "",
        f"naive / engine (all time): {result.ratio:.1f}x",
        f"goal: /leaderboard median < {GOAL_MS:.0f} ms: {verdict} ({periods})",
        "",
        "reply (all time):",
        *(f"  {text}" for text in result.replies["all"].splitlines()),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.points", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--members", type=_positive, default=100_000, help="default 100000")
    parser.add_argument(
        "--ledger-per-member", type=_positive, default=3, help="XP ledger rows each, default 3"
    )
    parser.add_argument("--repeat", type=_positive, default=30, help="timed runs, default 30")
    parser.add_argument("--warmup", type=_not_negative, default=3, help="default 3")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        result = run(args.members, args.ledger_per_member, args.repeat, args.warmup, Path(tmp))
    figures: Mapping[str, Any] = result.as_dict()
    print(json.dumps(figures) if args.json else _report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
