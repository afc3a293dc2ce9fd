"""`hearth import` as a real subprocess: summary, idempotency, broken file, bad input."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.test_cli import hearth

DATA = Path(__file__).parent / "data"


def test_import_telegram_twice_then_a_truncated_file(tmp_path: Path) -> None:
    export = str(DATA / "telegram_export.json")
    first = hearth("import", "telegram", export, "--award-points", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout.splitlines()
    assert out[0].endswith("→ community 'Tea House' (telegram:-1001234567890)")
    assert "messages: 9 read, 9 new" in out
    assert "joins: 3, leaves: 1 (4 new)" in out
    assert any(line.startswith("points: ") and "reputation" in line for line in out)
    assert "import: 100% of the file, 9 messages · 6 members" in first.stderr

    second = hearth("import", "telegram", export, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "messages: 9 read, 0 new" in second.stdout.splitlines()

    broken = tmp_path / "cut.json"
    broken.write_bytes((DATA / "telegram_export.json").read_bytes()[:3000])
    third = hearth("import", "telegram", str(broken), cwd=tmp_path)
    assert third.returncode == 1
    assert "stopped early; imported so far:" in third.stdout
    error = third.stderr.strip().splitlines()[-1]
    assert error.startswith(f"hearth: error: {broken}: the JSON ends early in bytes 0–3,000")
    assert "Traceback" not in third.stderr
    with sqlite3.connect(tmp_path / "hearth.db") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone() == (9,)
        reasons = db.execute("SELECT DISTINCT reason FROM points_ledger ORDER BY reason").fetchall()
        # Times are stored as SQLAlchemy stores them (the fast insert path must agree).
        times = db.execute(
            "SELECT sent_at FROM messages UNION ALL SELECT at FROM reactions "
            "UNION ALL SELECT at FROM member_events UNION ALL SELECT day FROM member_days"
        ).fetchall()
        bots = db.execute("SELECT name FROM accounts WHERE is_bot ORDER BY name").fetchall()
    assert reasons == [("message",), ("reaction",), ("thanks",)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", at) for (at,) in times)
    assert ("2025-12-20 11:05:00.000000",) in times
    assert bots == [("Tea House",), ("Tea Reminder Bot",)]


def test_import_discord_files_and_missing_file(tmp_path: Path) -> None:
    files = [str(DATA / "discord_export.json"), str(DATA / "discord_thread_export.json")]
    result = hearth("import", "discord", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "messages: 5 read, 5 new" in result.stdout.splitlines()
    missing = hearth("import", "discord", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith("nope.json: no such file")


def test_import_telegram_bot_option(tmp_path: Path) -> None:
    export = str(DATA / "telegram_forum_export.json")
    result = hearth("import", "telegram", export, "--bot", "user555", "--bot", "444", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "hearth.db") as db:
        bots = db.execute(
            "SELECT display_name FROM members WHERE is_bot ORDER BY display_name"
        ).fetchall()
        topics = db.execute(
            "SELECT DISTINCT thread_id FROM messages WHERE thread_id IS NOT NULL"
        ).fetchall()
        first = db.execute("SELECT sent_at FROM messages ORDER BY sent_at LIMIT 1").fetchone()
    assert bots == [("Dave",), ("GroupHelpBot",), ("Rose",), ("Talbot",)]
    assert topics == [("11",)]
    assert first == ("2025-11-01 10:00:00.000000",)  # as SQLAlchemy writes times
