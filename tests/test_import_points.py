"""`hearth import … --award-points` after a plain import of the same file: the points are
awarded once, as if the first import had asked for them, and the output says what happened."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.cli import main
from bot.bootstrap import build_services
from bot.clock import ManualClock
from bot.importer import Importer, TelegramExport
from storage.models import PointsLedger
from tests.conftest import make_settings

EXPORT = Path(__file__).parent / "data" / "telegram_export.json"
NOT_AWARDED = (
    "points: not awarded (run the same import again with --award-points to award them under "
    "the live rules; it never awards a message twice)"
)

ALREADY = "awards were already in the ledger from an earlier --award-points import; not given again"


def _config(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / name}.db"\n')
    return str(path)


def _import(capsys: pytest.CaptureFixture[str], config: str, *extra: str) -> list[str]:
    assert main(["import", "telegram", str(EXPORT), "--config", config, *extra]) == 0
    return capsys.readouterr().out.splitlines()


def _points(tmp_path: Path, name: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(tmp_path / f"{name}.db") as db:
        ledger = db.execute(
            "SELECT member_id, currency, amount, reason, source FROM points_ledger "
            "ORDER BY source, reason, currency"
        ).fetchall()
        totals = db.execute(
            "SELECT member_id, xp, level, reputation FROM points_totals WHERE xp > 0 "
            "ORDER BY member_id"
        ).fetchall()
    return ledger, totals


def test_award_points_after_a_plain_import_awards_once_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What an import with --award-points from the start gives, for comparison.
    fresh = _config(tmp_path, "fresh")
    first_time = _import(capsys, fresh, "--award-points")
    expected = _points(tmp_path, "fresh")
    assert expected[0], "the export earns points"
    (awarded,) = [line for line in first_time if line.startswith("points: ") and "XP" in line]

    config = _config(tmp_path, "hearth")
    plain = _import(capsys, config)
    assert "messages: 9 read, 9 new" in plain
    assert NOT_AWARDED in plain
    assert _points(tmp_path, "hearth") == ([], [])

    later = _import(capsys, config, "--award-points")
    assert "messages: 9 read, 0 new" in later
    assert awarded in later  # the same XP, reputation and members as the first time
    assert (
        "points: 6 messages were already in the log from an earlier import; replayed under the "
        "live rules"
    ) in later  # 9, less a command, a channel posting as a bot and a reminder bot
    assert not [line for line in later if "already in the ledger" in line]
    assert _points(tmp_path, "hearth") == expected

    again = _import(capsys, config, "--award-points")
    assert "points: none awarded" in again
    assert any(line.endswith(ALREADY) for line in again)
    assert _points(tmp_path, "hearth") == expected  # derived rows carry their source: once


def test_a_second_award_after_an_award_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, "hearth")
    _import(capsys, config, "--award-points")
    expected = _points(tmp_path, "hearth")
    again = _import(capsys, config, "--award-points")
    assert "points: none awarded" in again
    assert any(line.endswith(ALREADY) for line in again)
    assert _points(tmp_path, "hearth") == expected


async def test_history_hearth_saw_live_is_not_awarded_again(sqlite_url: str) -> None:
    # Hearth watched the group from before the exported messages were sent: they were logged
    # live (a plain import stands in for that) and earned under the live rules then.
    clock = ManualClock(datetime(2025, 11, 1, tzinfo=UTC))
    services = build_services(make_settings(sqlite_url), clock=clock)
    await services.database.upgrade()
    try:
        for award in (False, True):
            export = TelegramExport(EXPORT)
            importer = Importer(services, award_points=award)
            await importer.open_group(export.header)
            summary = await importer.run(export.items())
        async with services.database.session() as session:
            ledger = (await session.execute(select(PointsLedger))).scalars().all()
    finally:
        await services.database.close()
    assert ledger == []
    assert summary.lines()[4:6] == [
        "points: none awarded",
        "points: 6 messages were already logged while Hearth watched the group live; they "
        "earned points then and earn nothing here",
    ]


async def test_award_after_a_plain_import_on_each_backend(db_url: str) -> None:
    services = build_services(
        make_settings(db_url), clock=ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    )
    await services.database.upgrade()
    try:
        rows = []
        for award in (False, True, True):
            export = TelegramExport(EXPORT)
            importer = Importer(services, award_points=award, batch_size=4)
            await importer.open_group(export.header)
            await importer.run(export.items())
            async with services.database.session() as session:
                ledger = await session.execute(
                    select(PointsLedger.source, PointsLedger.reason, PointsLedger.amount)
                )
                rows.append(sorted(tuple(row) for row in ledger.all()))
    finally:
        await services.database.close()
    plain, awarded, again = rows
    assert plain == []
    assert {reason for _, reason, _ in awarded} == {"message", "thanks", "reaction"}
    assert again == awarded
