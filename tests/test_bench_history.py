"""The digest and dashboard benchmarks' histories: a fixed message rate, so a longer history
is the same community watched for longer, and bench/web times real signed-in requests."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bench.digest import NOW, make_dataset
from bench.web import main as web_main
from storage.database import Database


def _migrated(path: Path) -> None:
    async def upgrade() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.upgrade()
        await database.close()

    asyncio.run(upgrade())


def _window(path: Path, days: int) -> tuple[int, int]:
    """Messages in the last `days` days before NOW, and how many precede their author's join."""
    since = (NOW - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(path) as db:
        (recent,) = db.execute(
            "SELECT count(*) FROM messages WHERE sent_at >= ?", (since,)
        ).fetchone()
        (early,) = db.execute(
            "SELECT count(*) FROM messages m JOIN members u ON u.id = m.member_id "
            "WHERE m.sent_at < u.created_at"
        ).fetchone()
    return recent, early


def test_longer_history_has_the_same_recent_window(tmp_path: Path) -> None:
    """Four times the messages over four times the days: the last 5 days hold about the same
    number of messages (before the fix, messages written before their author joined piled up
    at the join times, so the recent window of the long history was much busier)."""
    short, long = tmp_path / "short.db", tmp_path / "long.db"
    for path, messages in ((short, 10_000), (long, 40_000)):
        _migrated(path)
        make_dataset(path, messages, 500, per_day=1_000)
    short_recent, short_early = _window(short, 5)
    long_recent, long_early = _window(long, 5)
    assert short_early == long_early == 0  # nobody posts before they joined
    assert abs(long_recent - short_recent) / short_recent < 0.1
    assert 4_000 < long_recent < 6_000  # about 1,000 a day


def test_web_bench_times_pages_through_http(capsys: pytest.CaptureFixture[str]) -> None:
    """Tiny histories: every figure, including the signed-in page requests, is reported."""
    assert (
        web_main(["--messages", "3000", "6000", "--members", "200", "--repeat", "1", "--json"]) == 0
    )
    results = json.loads(capsys.readouterr().out)
    names = ["overview", "leaderboard_week", "leaderboard_month", "leaderboard_all"]
    names += [f"page_{name}" for name in names]
    assert set(results["ratio"]) == set(names)
    for entry in results["histories"]:
        for name in names:
            assert entry[name]["median_ms"] > 0
