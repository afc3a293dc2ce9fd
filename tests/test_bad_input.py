"""Badly encoded input loses nothing and never stops the activity writer (issue 24, item 2)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.events import Author, Message, Place
from storage.activity import Row
from storage.models import MessageLog
from tests.conftest import START, Harness
from tests.console import play

ROOT = Path(__file__).resolve().parents[1]
BAD_SCRIPT = b"/rank\n@bad: caf\xe9 latin1 text here\n/rank bad\n/checkin\n"


def _environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HEARTH_")}
    environment["PYTHONPATH"] = str(ROOT)
    return environment


def _texts(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT text FROM messages ORDER BY id")]


def test_a_latin1_byte_is_replaced_and_every_line_is_kept(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        input=BAD_SCRIPT,
        capture_output=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    out = result.stdout.decode()
    assert "hearth> bad — level 0" in out  # /rank bad found the member who wrote the bad line
    assert "Checked in" in out
    assert _texts(tmp_path / "hearth.db") == [
        "/rank",
        "caf\ufffd latin1 text here",
        "/rank bad",
        "/checkin",
    ]


def _wait_for_rows(path: Path, count: int, deadline: float = 20.0) -> list[str]:
    end = time.monotonic() + deadline
    texts: list[str] = []
    while time.monotonic() < end:
        try:
            texts = _texts(path)
        except sqlite3.OperationalError:
            texts = []
        if len(texts) >= count:
            return texts
        time.sleep(0.05)
    return texts


def test_killed_after_a_bad_line_the_other_messages_are_stored(tmp_path: Path) -> None:
    """The periodic flush goes on after a bad line: a kill -9 later loses nothing written."""
    (tmp_path / "hearth.toml").write_text("[database]\nflush_interval = 0.1\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_environment(),
    )
    assert process.stdin is not None
    try:
        process.stdin.write(b"@ann: first line\n@bad: caf\xe9 \xff\xfe broken\n")
        process.stdin.flush()
        for n in range(5):
            process.stdin.write(f"@ann: later message {n}\n".encode())
        process.stdin.flush()
        texts = _wait_for_rows(tmp_path / "hearth.db", 7)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert texts == [
        "first line",
        "caf\ufffd \ufffd\ufffd broken",
        *(f"later message {n}" for n in range(5)),
    ]


async def test_console_reads_bad_bytes_with_replacement(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    stdin = io.TextIOWrapper(io.BytesIO(BAD_SCRIPT), encoding="utf-8", errors="strict")
    lines = await play(
        url, ManualClock(START), stdin, admin=False, community="c", raw=True, interactive=None
    )
    assert "hearth> bad — level 0" in "\n".join(lines)


def _message(n: int, text: str, name: str = "ann") -> Message:
    return Message(
        place=Place("telegram", "-100", "-100"),
        message_id=str(n),
        author=Author("7", name),
        text=text,
        sent_at=START,
    )


async def _stored(harness: Harness) -> list[str | None]:
    async with harness.database.session() as session:
        rows = await session.execute(select(MessageLog.text).order_by(MessageLog.id))
        return list(rows.scalars())


async def test_nul_and_surrogates_from_any_adapter_are_stored_cleaned(
    any_harness: Harness,
) -> None:
    engine = any_harness.engine
    await engine.process(_message(1, "nul\x00 inside", name="a\x00nn"))
    await engine.process(_message(2, "lone \udce9 surrogate"))
    await engine.process(_message(3, "fine"))
    await engine.services.writer.flush()
    assert await _stored(any_harness) == ["nul inside", "lone \ufffd surrogate", "fine"]


async def test_a_row_the_database_refuses_is_set_aside_and_the_rest_written(
    any_harness: Harness,
) -> None:
    harness = any_harness
    writer = harness.engine.services.writer
    for n in range(9):
        await harness.engine.process(_message(n, f"message {n}"))
    # Smuggle in what no driver can encode (the queue cleans what it is given).
    queued = writer._queues["messages"]
    queued[4] = dict(queued[4], text="lone \udce9")
    await writer.flush()
    assert (writer.written, writer.set_aside, writer.pending) == (8, 1, 0)
    assert await _stored(harness) == [f"message {n}" for n in range(9) if n != 4]


async def test_the_periodic_flush_survives_an_unexpected_error(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = harness.engine.services.writer
    real_write = writer._write
    failures = [UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")]

    async def flaky(batch: Mapping[str, Sequence[Row]], *derived: Any) -> None:
        if failures:
            raise failures.pop()
        await real_write(batch, *derived)

    monkeypatch.setattr(writer, "_write", flaky)
    monkeypatch.setattr(writer, "flush_interval", 0.01)
    task = asyncio.create_task(writer.run())
    try:
        await harness.engine.process(_message(1, "one"))
        await harness.engine.process(_message(2, "two"))
        await _until(lambda: writer.written >= 2)
        await harness.engine.process(_message(3, "three"))
        await _until(lambda: writer.written >= 3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert await _stored(harness) == ["one", "two", "three"]


async def _until(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_flush_cancelled_while_writing_loses_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop that cancels the periodic flush halfway through a write: the batch is still
    written once (it used to be neither written nor kept)."""
    writer = harness.engine.services.writer
    real_write = writer._write
    writing, release = asyncio.Event(), asyncio.Event()

    async def slow(batch: Mapping[str, Sequence[Row]], *derived: Any) -> None:
        writing.set()
        await release.wait()
        await real_write(batch, *derived)

    monkeypatch.setattr(writer, "_write", slow)
    for n in range(5):
        await harness.engine.process(_message(n, f"message {n}"))
    flushing = asyncio.create_task(writer.flush())
    await writing.wait()
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    release.set()
    await writer.flush()  # waits for the write under way, then finds nothing left
    assert await _stored(harness) == [f"message {n}" for n in range(5)]
    assert writer.pending == 0
