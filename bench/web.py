"""Benchmark of the web dashboard's server time on a large history: the overview and the
leaderboards, as `storage.dashboard` computes them and `web.charts` draws them.

Each history size (default 250,000 and 1,000,000 messages, 10,000 members) is its own
database, built with `bench.digest`'s generator (not timed): one community on Europe/Berlin
time whose members joined over the history (one in 50 left three days later), Zipf-skewed
authors, a daily cycle, busier weekends, one reaction per five messages and the
`member_days` rollup as the activity writer keeps it. Here messages come at a fixed rate of
about 8,300 a day (1,000,000 over 120 days), so the 250,000-message history is exactly the
30 days the overview reads and the 1,000,000 one is four times as long: the same window over
a longer past, which is what "flat as history grows" compares. Three members are bots; every
member has XP (20 a message) in `points_totals` and per local week and month in
`points_periods`, as the points feature keeps them; one question in three the FAQ answered
(`faq_answers`), the others it logged as unanswered.

Timed, after a warm-up, each in a fresh session (a request's work):

* **overview** — `storage.dashboard.overview` of the 30 local days before `NOW`, plus the
  charts the page draws from it (`web.charts`: messages and active members per day, the
  hour × weekday heatmap, the cohort heatmap);
* **leaderboard week / month / all** — `storage.dashboard.leaderboard`, the first 50;
* **page_…** — the same four as whole HTTP requests to the dashboard `hearth web` serves
  (aiohttp on 127.0.0.1, an admin signed in through a one-time link): session check,
  figures, charts and template — the overview of yesterday charted over the same 30 days,
  and the leaderboard page of each period.

Goal: at most 300 ms each (median) on 1,000,000 messages, and the 1M / 250k ratio near 1.

Run from the repository root::

    .venv/bin/python -m bench.web [--messages N ...] [--members N] [--repeat N] [--json]
        [--database-url postgresql+asyncpg://…]

On PostgreSQL each history is built in SQLite first, then copied into a new database of the
server (``COPY`` through asyncpg), vacuumed and analysed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/web.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from sqlalchemy import Boolean

from bench.digest import NOW, ZONE
from bench.digest import make_dataset as digest_dataset
from bench.targets import Target, asyncpg_dsn
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.events import Role
from bot.features.dashboard import issue_link
from storage.dashboard import Overview, leaderboard, overview
from storage.database import Database
from storage.models import Base, UTCDateTime
from storage.web import Holder
from web.charts import bar_chart, heatmap, line_chart
from web.server import dashboard

PER_DAY = 1_000_000 / 120
GOAL_MS = 300.0
BOARDS = ("week", "month", "all")
TABLES = (
    "communities",
    "groups",
    "members",
    "member_events",
    "messages",
    "reactions",
    "member_days",
    "points_totals",
    "points_periods",
    "faq_answers",
    "faq_unanswered",
)


def make_dataset(path: Path, messages: int, members: int, seed: int = 1) -> None:
    """Write the history into the migrated, empty SQLite file at `path`: `bench.digest`'s
    at `PER_DAY` messages a day, then bots, XP and the FAQ's logs (`_dashboard_tables`)."""
    digest_dataset(path, messages, members, seed, per_day=PER_DAY, extra=_dashboard_tables)


def _dashboard_tables(db: sqlite3.Connection) -> None:
    """Bots, XP totals and periods, and the FAQ's answered and unanswered rows."""
    db.execute("UPDATE members SET is_bot = 1 WHERE id IN (1, 2, 3)")
    # XP as the points feature keeps it: a total per member, and per local week and month
    # (computed in UTC here: it changes a few rows at the edges, not the cost).
    db.execute(
        "INSERT INTO points_totals (member_id, community_id, xp, level, reputation, day_xp, "
        "day_reaction_xp, streak, version) SELECT member_id, 1, 20 * count(*), "
        "min(50, count(*) / 10), 0, 0, 0, 0, 0 FROM messages GROUP BY member_id"
    )
    for kind, start in (
        ("week", "date(sent_at, '-6 days', 'weekday 1')"),
        ("month", "strftime('%Y-%m-01', sent_at)"),
    ):
        db.execute(
            "INSERT INTO points_periods (community_id, kind, start, member_id, xp) "
            f"SELECT 1, '{kind}', {start}, member_id, 20 * count(*) FROM messages "
            "GROUP BY 3, 4"
        )
    questions = "FROM messages WHERE is_question = 1"
    db.execute(
        "INSERT INTO faq_answers (community_id, member_id, platform, channel_id, message_id, "
        f"score, at) SELECT 1, member_id, platform, channel_id, message_id, 0.9, sent_at "
        f"{questions} AND id % 3 = 0"
    )
    db.execute(
        "INSERT INTO faq_unanswered (community_id, member_id, platform, channel_id, message_id, "
        f"text, best_score, at) SELECT 1, member_id, platform, channel_id, message_id, text, "
        f"0.2, sent_at {questions} AND id % 3 != 0"
    )


def _postgres_value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(kind, Boolean):
        return bool(value)
    return value


async def copy_to_postgres(source: Path, url: str) -> None:
    """Copy the bench tables from the SQLite file into the (migrated) PostgreSQL `url`."""
    db = sqlite3.connect(source)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for name in TABLES:
            table = Base.metadata.tables[name]
            columns = [column.name for column in table.columns]
            kinds = [column.type for column in table.columns]
            cursor = db.execute(f"SELECT {', '.join(columns)} FROM {name}")
            while rows := cursor.fetchmany(100_000):
                records = [
                    tuple(_postgres_value(k, v) for k, v in zip(kinds, row, strict=True))
                    for row in rows
                ]
                await connection.copy_records_to_table(name, records=records, columns=columns)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
        db.close()


def render(found: Overview) -> list[str]:
    """The overview page's charts."""
    days = [d.day.strftime("%m-%d") for d in found.days]
    weeks = [f"+{k}" for k in range(1, len(found.cohorts))]
    return [
        line_chart("Messages per day", days, [d.messages for d in found.days]),
        bar_chart("Active members per day", days, [d.active for d in found.days]),
        heatmap(
            "Messages by weekday and hour",
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            [f"{hour:02d}" for hour in range(24)],
            found.hours,
        ),
        heatmap(
            "Retention by join week",
            [c.week.isoformat() for c in found.cohorts],
            weeks,
            [list(c.shares) for c in found.cohorts],
            percent=True,
        ),
    ]


async def _timed(action: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    await action()  # warm-up
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        await action()
        runs.append((time.perf_counter() - began) * 1000)
    return runs


async def time_dashboard(url: str, repeat: int) -> dict[str, list[float]]:
    """Time the overview (queries + charts) and the three leaderboards."""
    database = Database(url)
    today = NOW.astimezone(ZoneInfo(ZONE)).date()

    async def page() -> None:
        found = await overview(
            database,
            community_id=1,
            start=today - timedelta(days=30),
            end=today,
            timezone=ZONE,
        )
        render(found)

    def board(period: str) -> Callable[[], Awaitable[object]]:
        async def run() -> None:
            async with database.session() as session:
                await leaderboard(
                    session,
                    community_id=1,
                    period=period,  # type: ignore[arg-type]
                    now=NOW,
                    timezone=ZONE,
                    limit=50,
                )

        return run

    try:
        timings = {"overview": await _timed(page, repeat)}
        for period in BOARDS:
            timings[f"leaderboard_{period}"] = await _timed(board(period), repeat)
    finally:
        await database.close()
    return timings | await time_pages(url, repeat)


async def time_pages(url: str, repeat: int) -> dict[str, list[float]]:
    """Time whole requests to the dashboard as `hearth web` serves it, over HTTP on
    127.0.0.1 with a signed-in admin's cookie: the overview of the 30 days above (session
    check, figures, charts, template) and the leaderboard page of each period."""
    settings = parse_settings({"database": {"url": url}}, environ={})
    engine = build_engine(settings, clock=ManualClock(NOW))
    server = TestServer(dashboard(engine, settings), host="127.0.0.1")
    await server.start_server()
    client = ClientSession(base_url=server.make_url(""), cookie_jar=CookieJar(unsafe=True))
    services = engine.services
    try:
        operator = Holder(community_id=1, member_id=None, role=int(Role.ADMIN))
        link = await issue_link(services.database, services.clock, settings.web, operator)
        async with client.post(link.removeprefix(settings.web.base_url)) as signed:
            if signed.status != 200:
                raise RuntimeError(f"sign-in through a link failed: {signed.status}")

        def get(path: str) -> Callable[[], Awaitable[object]]:
            async def run() -> None:
                async with client.get(path) as response:
                    if response.status != 200:
                        raise RuntimeError(f"GET {path}: {response.status}")
                    await response.read()

            return run

        # Yesterday, charted over the 30 days the overview above reads.
        yesterday = get("/c/1/?period=day&date=2026-01-11")
        timings = {"page_overview": await _timed(yesterday, repeat)}
        for period in BOARDS:
            timings[f"page_leaderboard_{period}"] = await _timed(
                get(f"/c/1/leaderboard?period={period}"), repeat
            )
    finally:
        await client.close()
        await server.close()
        await services.database.close()
    return timings


async def _migrate(url: str) -> None:
    database = Database(url)
    await database.upgrade()
    await database.close()


async def _history(target: Target, folder: Path, size: int, members: int, repeat: int) -> Any:
    path = folder / f"web-{size}.db"
    began = time.perf_counter()
    await _migrate(f"sqlite+aiosqlite:///{path}")
    make_dataset(path, size, members)
    if target.server_url is None:
        built = time.perf_counter() - began
        return built, await time_dashboard(f"sqlite+aiosqlite:///{path}", repeat)
    async with target.fresh(f"web_{size}") as url:
        await _migrate(url)
        await copy_to_postgres(path, url)
        built = time.perf_counter() - began
        return built, await time_dashboard(url, repeat)


async def run(
    sizes: list[int], members: int, repeat: int, database_url: str | None
) -> dict[str, Any]:
    """Build each history and time the dashboard on it; returns every figure."""
    with tempfile.TemporaryDirectory() as folder:
        target = Target(Path(folder), database_url)
        results: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "database": await target.version(),
                "platform": platform.platform(),
            },
            "members": members,
            "goal_ms": GOAL_MS,
            "now": NOW.isoformat(),
            "window_days": 30,
            "histories": [],
        }
        for size in sizes:
            built, timings = await _history(target, Path(folder), size, members, repeat)
            entry: dict[str, Any] = {
                "messages": size,
                "days": max(1, round(size / PER_DAY)),
                "build_seconds": round(built, 1),
            }
            for name, runs in timings.items():
                median = statistics.median(runs)
                entry[name] = {
                    "median_ms": round(median, 1),
                    "min_ms": round(min(runs), 1),
                    "max_ms": round(max(runs), 1),
                    "goal_met": median <= GOAL_MS,
                }
            results["histories"].append(entry)
    first, last = results["histories"][0], results["histories"][-1]
    names = _names()
    results["ratio"] = {
        name: round(last[name]["median_ms"] / first[name]["median_ms"], 2) for name in names
    }
    results["ratio_sizes"] = [first["messages"], last["messages"]]
    return results


def _names() -> list[str]:
    parts = ["overview", *(f"leaderboard_{p}" for p in BOARDS)]
    return [*parts, *(f"page_{part}" for part in parts)]


def _report(results: dict[str, Any]) -> str:
    names = _names()
    lines = [
        f"{results['machine']['database']}, {results['members']:,} members, medians in ms "
        f"(goal ≤ {GOAL_MS:.0f})",
        f"{'messages':>10} {'days':>5} " + " ".join(f"{n:>18}" for n in names),
    ]
    for entry in results["histories"]:
        cells = " ".join(f"{entry[n]['median_ms']:>18.1f}" for n in names)
        lines.append(f"{entry['messages']:>10,} {entry['days']:>5} {cells}")
    small, large = results["ratio_sizes"]
    ratios = " ".join(f"{results['ratio'][n]:>18.2f}" for n in names)
    lines.append(f"{f'{large:,} / {small:,}':>16} {ratios}")
    met = all(e[n]["goal_met"] for e in results["histories"] for n in names)
    lines.append("goal met" if met else "goal MISSED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (CREATEDB)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    options = parser.parse_args(argv)
    results = asyncio.run(
        run(options.messages, options.members, options.repeat, options.database_url)
    )
    print(json.dumps(results, indent=2) if options.json else _report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
