"""Benchmark of digests on a large history: daily and weekly digests on SQLite.

A fresh SQLite file gets the schema from the project's migrations, then one community (time
zone Europe/Berlin) is bulk-loaded with the standard library's `sqlite3.executemany` (not
timed): N members (default 10,000) who joined over the history, a few of whom left; messages
at a fixed rate of about 11,100 a day (1,000,000 over 90 days), so a longer history is the same
community observed for longer; and one reaction per five messages. Activity is skewed like a
real community: member weights follow a Zipf law (a few members write most messages), hours
follow a daily cycle (quiet at night, busiest in the evening) and weekends are busier. One
message in ten is a question and one in six is a reply to a recent message. As the activity
writer does, each message carries its question flag and `member_days` gets one row per member
and UTC day with a message or a reaction.

Timed, with `DigestFeature.report` (every query of a digest plus the previous period's, as
`/digest`, the scheduled digests and `hearth digest` run them), after a warm-up:

* **daily** — the last complete local day;
* **weekly** — the last complete week (Monday to Sunday).

Each history size (default 250,000 and 1,000,000 messages) is its own database, so the daily
digest's time can be compared across history lengths.

Run from the repository root::

    .venv/bin/python -m bench.digest [--messages N ...] [--members N] [--repeat N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/digest.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import math
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.features.digest.feature import DigestFeature
from bot.features.digest.periods import Kind, period_before
from bot.text.question import is_question
from storage.database import Database
from storage.identity import get_community

NOW = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # Monday morning in Berlin
ZONE = "Europe/Berlin"
PER_DAY = 1_000_000 / 90
GOALS_MS = {"day": 1000.0, "week": 3000.0}
TEXTS = (
    "good morning everyone",
    "that makes sense, thanks",
    "I pushed the fix yesterday",
    "lol same here",
    "see you at the meetup",
    "nice work on the release",
    "has anyone tried the new build?",
    "how do I reset my password?",
    "where can I find the rules?",
    "what time does the event start?",
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _day(stamp: str) -> str:
    """The stored UTC midnight of a stored time."""
    return stamp[:10] + " 00:00:00.000000"


def _hour_weights() -> list[float]:
    """Quiet at 04:00 UTC, busiest at 19:00 UTC."""
    return [1.2 + math.cos((hour - 19) / 24 * 2 * math.pi) for hour in range(24)]


def _times(count: int, days: int, rng: random.Random) -> Iterator[datetime]:
    start = NOW - timedelta(days=days)
    day_weights = [1.3 if (start + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
    picked_days = rng.choices(range(days), weights=day_weights, k=count)
    hours = rng.choices(range(24), weights=_hour_weights(), k=count)
    for day, hour in zip(picked_days, hours, strict=True):
        yield start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))


def _members(
    db: sqlite3.Connection, members: int, first: datetime, days: int, rng: random.Random
) -> list[datetime]:
    """Members who joined over the history (one in 50 left 3 days later); their join times."""
    joined = sorted(first + timedelta(seconds=rng.randrange(days * 86400)) for _ in range(members))
    db.executemany(
        "INSERT INTO members (id, community_id, display_name, is_bot, created_at) "
        "VALUES (?, 1, ?, 0, ?)",
        [(m + 1, f"member{m + 1}", _stamp(joined[m])) for m in range(members)],
    )
    events = [(m + 1, "join", _stamp(joined[m])) for m in range(members)]
    events += [
        (m + 1, "leave", _stamp(joined[m] + timedelta(days=3)))
        for m in rng.sample(range(members), members // 50)
        if joined[m] + timedelta(days=3) < NOW
    ]
    db.executemany(
        "INSERT INTO member_events (community_id, group_id, member_id, kind, at) "
        "VALUES (1, 1, ?, ?, ?)",
        events,
    )
    return joined


def _activity(
    db: sqlite3.Connection, messages: int, days: int, joined: list[datetime], rng: random.Random
) -> None:
    """Skewed messages and reactions on one in five. Each message's author is drawn among
    the members who had joined by then (so the rate stays fixed: no message waits for its
    author to join), and reactors among all members, each at their Zipf weight."""
    members = len(joined)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(members)]
    rng.shuffle(weights)
    cumulative = list(accumulate(weights))  # members are numbered in the order they joined
    times = sorted(_times(messages, days, rng))
    rows = []
    days: set[tuple[str, int]] = set()
    questions = {text: int(is_question(text)) for text in TEXTS}
    for i, moment in enumerate(times):
        present = max(1, bisect_right(joined, moment))
        author = bisect_right(cumulative, rng.random() * cumulative[present - 1]) + 1
        author = min(author, present)  # rounding at the top of the range
        text = rng.choice(TEXTS)
        reply = str(i - rng.randrange(1, 20)) if i > 20 and rng.random() < 1 / 6 else None
        sent = _stamp(max(moment, joined[author - 1]))
        days.add((_day(sent), author))
        head = (1, 1, author, "discord", f"c{i % 7}", None, str(i), reply, 0, sent)
        rows.append((*head, len(text), 0, text, questions[text]))
        if len(rows) == 100_000:
            _insert_messages(db, rows)
            rows = []
    _insert_messages(db, rows)
    reactors = rng.choices(range(1, members + 1), weights=weights, k=messages // 5)
    reactions = [
        (1, reactor, "discord", f"c{i % 7}", str(i), "👍", _stamp(times[i] + timedelta(minutes=5)))
        for reactor, i in zip(reactors, rng.sample(range(messages), messages // 5), strict=True)
    ]
    db.executemany(
        "INSERT OR IGNORE INTO reactions (community_id, member_id, platform, channel_id, "
        "message_id, emoji, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        reactions,
    )
    days.update((_day(row[-1]), row[1]) for row in reactions)
    db.executemany(
        "INSERT INTO member_days (community_id, day, member_id) VALUES (1, ?, ?)", sorted(days)
    )


def make_dataset(
    path: Path,
    messages: int,
    members: int,
    seed: int = 1,
    *,
    per_day: float = PER_DAY,
    extra: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """Write the history into the (migrated, empty) SQLite file at `path`: `messages` at
    about `per_day` a day, then `extra` (more tables derived from them) before committing."""
    rng = random.Random(seed)
    days = max(1, round(messages / per_day))
    first = NOW - timedelta(days=days)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "INSERT INTO communities (id, name, language, timezone, created_at) VALUES (1,?,?,?,?)",
        ("bench", "en", ZONE, _stamp(first)),
    )
    db.execute(
        "INSERT INTO groups (id, community_id, platform, external_id, name, created_at) "
        "VALUES (1, 1, 'discord', 'g', 'bench', ?)",
        (_stamp(first),),
    )
    joined = _members(db, members, first, days, rng)
    _activity(db, messages, days, joined, rng)
    if extra is not None:
        extra(db)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _insert_messages(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    db.executemany(
        "INSERT INTO messages (community_id, group_id, member_id, platform, channel_id, "
        "thread_id, message_id, reply_to, mentions, sent_at, length, is_command, text, "
        "is_question) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


async def _time(url: str, kinds: tuple[Kind, ...], repeat: int) -> dict[str, list[float]]:
    settings = parse_settings({"database": {"url": url}}, environ={})
    services = build_services(settings, clock=ManualClock(NOW), database=Database(url))
    feature = DigestFeature(services)
    timings: dict[str, list[float]] = {}
    try:
        async with services.database.session() as session:
            community = await get_community(session, community_id=1)
        assert community is not None
        for kind in kinds:
            period = period_before(kind, NOW, ZONE)
            await feature.report(community, period)  # warm-up
            runs = []
            for _ in range(repeat):
                began = time.perf_counter()
                await feature.report(community, period)
                runs.append((time.perf_counter() - began) * 1000)
            timings[kind] = runs
    finally:
        await services.database.close()
    return timings


async def _migrate(url: str) -> None:
    database = Database(url)
    await database.upgrade()
    await database.close()


def run(sizes: list[int], members: int, repeat: int) -> dict[str, Any]:
    """Build each history and time the digests; returns every figure."""
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "members": members,
        "histories": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"digest-{size}.db"
            url = f"sqlite+aiosqlite:///{path}"
            asyncio.run(_migrate(url))
            began = time.perf_counter()
            make_dataset(path, size, members)
            built = time.perf_counter() - began
            timings = asyncio.run(_time(url, ("day", "week"), repeat))
            entry = {
                "messages": size,
                "days": max(1, round(size / PER_DAY)),
                "build_seconds": round(built, 1),
            }
            for kind, runs in timings.items():
                median = statistics.median(runs)
                entry[kind] = {
                    "median_ms": round(median, 1),
                    "max_ms": round(max(runs), 1),
                    "goal_ms": GOALS_MS[kind],
                    "goal_met": median <= GOALS_MS[kind],
                }
            results["histories"].append(entry)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    options = parser.parse_args(argv)
    results = run(options.messages, options.members, options.repeat)
    if options.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'messages':>10} {'days':>5} {'daily ms':>9} {'weekly ms':>10}  goals (1000 / 3000 ms)")
    for entry in results["histories"]:
        day, week = entry["day"], entry["week"]
        met = "met" if day["goal_met"] and week["goal_met"] else "MISSED"
        print(
            f"{entry['messages']:>10,} {entry['days']:>5} {day['median_ms']:>9.1f} "
            f"{week['median_ms']:>10.1f}  {met}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
