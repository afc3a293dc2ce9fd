"""The ingest benchmark runs every path, writes every row and reports what it promises."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest

from bench.ingest import main, run_engine
from bench.latency import Probe, interleave, percentile
from bench.targets import BENCH_FAQ, Target, count_rows
from bench.traffic import make_messages
from bot.events import CommandInvoked, Message
from tests.postgres import PostgresServer

KEYS = {
    "full_rate",
    "activity_rate",
    "naive_rate",
    "floor_rate",
    "full_vs_naive",
    "activity_vs_naive",
    "engine_rate",
    "goal_met",
    "faq_p50_ms",
    "faq_p99_ms",
    "rank_p50_ms",
    "rank_p99_ms",
    "load_rate",
}
TINY = [
    "--messages",
    "150",
    "--naive-messages",
    "40",
    "--latency-messages",
    "120",
    "--probe-every",
    "12",
    "--load-rate",
    "1000000",  # no pacing: the test does not wait for time
    "--json",
]


def _figures(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main(argv) == 0
    figures: dict[str, object] = json.loads(capsys.readouterr().out)
    return figures


def test_json_has_every_path_and_the_latency(capsys: pytest.CaptureFixture[str]) -> None:
    figures = _figures(capsys, TINY)
    assert figures.keys() >= KEYS
    assert figures["messages"] == 150
    assert figures["full_messages"] == 150
    assert figures["naive_messages"] == 40
    assert figures["engine_rate"] == figures["activity_rate"]
    assert figures["goal_met"] == (float(figures["full_vs_naive"]) >= 20)  # type: ignore[arg-type]
    # Ten probes, alternately a FAQ question and /rank: each got its reply.
    assert (figures["faq_probes"], figures["faq_missed"]) == (5, 0)
    assert (figures["rank_probes"], figures["rank_missed"]) == (5, 0)
    assert str(figures["database"]).startswith("SQLite")


def test_the_report_names_the_goal_on_the_full_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([arg for arg in TINY if arg != "--json"]) == 0
    report = capsys.readouterr().out
    assert "full vs naive:" in report
    assert "(goal >= 20x:" in report
    for path in ("full", "activity", "floor", "naive"):
        assert any(line.startswith(path) for line in report.splitlines()), path
    assert "FAQ answer" in report
    assert "/rank" in report


async def test_the_full_engine_writes_every_message(tmp_path: Path) -> None:
    messages = make_messages(120)
    url = f"sqlite+aiosqlite:///{tmp_path / 'full.db'}"
    phase = await run_engine(messages, url, None, full=True)
    assert phase.messages == 120
    assert await count_rows(url) == 120


def test_probes_alternate_and_ask_each_entry_in_turn() -> None:
    messages = make_messages(80)
    stream = interleave(messages, probe_every=10, answers=[a for _, a in BENCH_FAQ])
    probes = [item for item in stream if isinstance(item, Probe)]
    assert len(stream) == 88
    assert [p.kind for p in probes] == ["faq", "rank"] * 4
    questions = [p.event for p in probes if isinstance(p.event, Message)]
    assert [q.text for q in questions][:2] == [
        "how can I reset my password?",
        "when is the next meetup?",
    ]
    assert all(q.place.channel_id.startswith("help-") for q in questions)
    assert all(isinstance(p.event, CommandInvoked) for p in probes if p.kind == "rank")
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0] * 99 + [9.0], 99) == 1.0


@pytest.mark.postgres
def test_runs_on_postgresql_in_databases_it_drops(
    postgres: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = _figures(capsys, [*TINY, "--database-url", postgres.url("postgres")])
    assert figures.keys() >= KEYS
    assert str(figures["database"]).startswith("PostgreSQL")
    assert (figures["faq_missed"], figures["rank_missed"]) == (0, 0)

    async def leftovers() -> list[str]:
        connection = await asyncpg.connect(
            host=str(postgres.socket_dir), user=postgres.user, database="postgres"
        )
        try:
            rows = await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'hearth_bench_%'"
            )
        finally:
            await connection.close()
        return [row["datname"] for row in rows]

    assert asyncio.run(leftovers()) == []


def test_database_url_must_be_postgresql(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        Target(tmp_path, "sqlite+aiosqlite:///x.db")
