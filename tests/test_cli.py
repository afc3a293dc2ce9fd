"""The real `hearth` command in a subprocess: piped console, config and database errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from storage.database import head_revision

ROOT = Path(__file__).resolve().parents[1]


def hearth(
    *args: str, stdin: str = "", cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HEARTH_")}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=60,
        check=False,
    )


def test_piped_console_session_prints_help_and_exits_0(tmp_path: Path) -> None:
    result = hearth("run", stdin="hello\n@alice: hi all\n/help\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "hearth> Commands you can use:"
    assert "hearth> /help [command] — Show the commands you can use, or how to use one." in lines
    assert "hearth> /checkin — Daily check-in: XP, and a bonus for a streak." in lines
    assert not [line for line in lines if "/timezone" in line or "/points" in line]
    assert "Traceback" not in result.stderr
    with sqlite3.connect(tmp_path / "hearth.db") as db:
        rows = db.execute(
            "SELECT a.name, m.text, m.is_command FROM messages m "
            "JOIN member_accounts ma ON ma.member_id = m.member_id "
            "JOIN accounts a ON a.id = ma.account_id ORDER BY m.id"
        ).fetchall()
    assert rows == [("you", "hello", 0), ("alice", "hi all", 0), ("you", "/help", 1)]


def test_console_admin_and_chinese(tmp_path: Path) -> None:
    script = "/language zh\n/timezone Asia/Shanghai\n@bob: /timezone UTC\n/timezone\n"
    result = hearth(
        "run", "--admin", "--user", "lin", "--community", "茶馆", stdin=script, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "hearth> 语言已设置为简体中文。",
        "hearth> 时区已设置为 Asia/Shanghai。",
        "hearth> 只有管理员可以使用 /timezone。",
        "hearth> 当前时区：Asia/Shanghai",
    ]


def test_second_run_keeps_history_and_counts_each_line(tmp_path: Path) -> None:
    for _ in range(2):
        assert hearth("run", stdin="same text\n", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "hearth.db") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone() == (2,)


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "hearth.toml").write_text('[defaults]\ntimezone = "Moon/Base"\n')
    result = hearth("run", stdin="", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hearth: configuration error: hearth.toml: defaults.timezone: unknown time zone "
        "'Moon/Base'; use an IANA name such as 'Europe/Berlin' or 'Asia/Shanghai'"
    ]


def test_check_config(tmp_path: Path) -> None:
    good = hearth("check-config", str(ROOT / "config.example.toml"), cwd=tmp_path)
    assert good.returncode == 0
    assert "OK" in good.stdout
    (tmp_path / "bad.toml").write_text('[database]\nbatch_size = "many"\n')
    bad = hearth("check-config", "bad.toml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "database.batch_size" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"HEARTH_DATABASE_URL": "postgresql+asyncpg://hearth@127.0.0.1:1/hearth"}
    for args in (("run",), ("db", "upgrade")):
        result = hearth(*args, stdin="hi\n", cwd=tmp_path, env=env)
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("hearth: database error: cannot upgrade postgresql+asyncpg://")


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    result = hearth("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"is at revision {head_revision()}")


@pytest.mark.parametrize("args", [("frobnicate",), ("db", "downgrade"), ()])
def test_unknown_cli_command_is_usage_not_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = hearth(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: hearth" in result.stderr
    assert "Traceback" not in result.stderr


def test_version(tmp_path: Path) -> None:
    assert hearth("--version", cwd=tmp_path).stdout.strip() == f"hearth {__version__}"


def test_faq_import_and_export_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "faq.yaml").write_text(
        '- id: rules\n  questions: ["Where are the rules?", "群规在哪里"]\n'
        '  answer: "Pinned in #welcome."\n',
        encoding="utf-8",
    )
    first = hearth("faq", "import", "faq.yaml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "faq.yaml → 'console': 1 added, 0 updated, 0 unchanged"
    again = hearth("faq", "import", "faq.yaml", cwd=tmp_path)
    assert again.stdout.strip().endswith("0 added, 0 updated, 1 unchanged")
    exported = hearth("faq", "export", "out.csv", cwd=tmp_path)
    assert exported.stdout.strip() == "'console' → out.csv: 1 entries"
    assert "Where are the rules? | 群规在哪里" in (tmp_path / "out.csv").read_text("utf-8")
    chat = hearth("run", stdin="where are the rules?\n", cwd=tmp_path)
    assert chat.stdout.splitlines() == ["hearth> Pinned in #welcome."]


def test_faq_import_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("- id: x\n  questions: [q]\n", encoding="utf-8")
    result = hearth("faq", "import", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "hearth: error: bad.yaml: entry 1 (id 'x'): answer is missing"
    missing = hearth("faq", "import", "nope.yaml", "--community", "tea", cwd=tmp_path)
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
