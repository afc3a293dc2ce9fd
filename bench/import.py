"""Benchmark of `hearth import telegram`: a generated 500,000-message Telegram Desktop export.

Every phase runs in a fresh subprocess that reports its wall time and its peak resident
memory (``ru_maxrss``), against a fresh SQLite file:

* **import** — the real command, ``hearth import telegram FILE`` (`adapters.cli.main`):
  migrations, streaming parse (ijson), identity, batched inserts, summary; timed after the
  interpreter has imported the libraries (about 1.5 s, the same for any file size).
* **award** — the same command with ``--award-points`` (the live earning rules replayed over
  the new history: message XP, thanks, reactions), against a fresh file too.
* **json.load** — the standard library loading the whole file: the memory a non-streaming
  importer starts from, and the time of parsing alone.
* **naive** — ``json.load`` then one ``INSERT`` + ``COMMIT`` per message through an SQLAlchemy
  `AsyncSession` (a subset of messages, because it is slow).

Run from the repository root::

    .venv/bin/python -m bench.import [--messages N] [--naive-messages N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/import.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import tempfile
import time
from typing import Any, TextIO

__all__ = ["main", "write_export"]

ROOT = Path(__file__).resolve().parent.parent
START = 1_735_689_600  # 2025-01-01T00:00:00Z
MEMBERS = 2_000
GOAL_RATE = 20_000.0
GOAL_MEMORY_MB = 200.0
_WORDS = (
    "the",
    "meetup",
    "is",
    "on",
    "friday",
    "evening",
    "does",
    "anyone",
    "want",
    "to",
    "join",
    "us",
    "for",
    "the",
    "release",
    "party",
    "thanks",
    "for",
    "the",
    "help",
    "with",
    "the",
    "build",
    "it",
    "works",
    "now",
    "good",
    "morning",
    "everyone",
    "welcome",
    "大家好",
    "今天的活动几点开始",
    "谢谢你的帮助",
    "下周见",
    "文档在这里",
)


def _message(rng: random.Random, number: int, at: int) -> dict[str, Any]:
    user = rng.randrange(MEMBERS)
    words = " ".join(rng.choices(_WORDS, k=rng.randint(3, 25)))
    message: dict[str, Any] = {
        "id": number,
        "type": "message",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)),
        "date_unixtime": str(at),
        "from": f"Member {user}",
        "from_id": f"user{100_000 + user}",
    }
    if number % 7 == 0:
        message["text"] = [words, {"type": "bold", "text": "ok"}, " !"]
    else:
        message["text"] = words
    if number % 5 == 0 and number > 1:
        message["reply_to_message_id"] = number - rng.randint(1, min(number - 1, 50))
    if number % 10 == 0:
        reactor = rng.randrange(MEMBERS)
        recent = [{"from": f"Member {reactor}", "from_id": f"user{100_000 + reactor}"}]
        message["reactions"] = [{"type": "emoji", "count": 1, "emoji": "👍", "recent": recent}]
    return message


def write_export(out: TextIO, messages: int, seed: int = 7) -> None:
    """Write a Telegram Desktop JSON export of `messages` messages (one service join per 100)."""
    rng = random.Random(seed)
    out.write('{\n "name": "Bench Group",\n "type": "private_supergroup",\n "id": 1500000000,\n')
    out.write(' "messages": [\n')
    at = START
    for number in range(1, messages + 1):
        at += rng.randint(1, 30)
        if number % 100 == 0:
            user = rng.randrange(MEMBERS)
            item: dict[str, Any] = {
                "id": number,
                "type": "service",
                "date_unixtime": str(at),
                "actor": f"Member {user}",
                "actor_id": f"user{100_000 + user}",
                "action": "join_group_by_link",
                "text": "",
            }
        else:
            item = _message(rng, number, at)
        out.write(
            "  " + json.dumps(item, ensure_ascii=False) + (",\n" if number < messages else "\n")
        )
    out.write(" ]\n}\n")


def _child(phase: str, path: Path, workdir: Path, naive: int) -> dict[str, Any]:
    from adapters.cli import main as hearth  # library imports: a constant, not per message

    started = time.perf_counter()
    if phase in ("import", "award"):
        os.chdir(workdir)
        award = ["--award-points"] if phase == "award" else []
        status = hearth(["import", "telegram", str(path), *award])
        if status != 0:
            raise SystemExit(status)
    elif phase == "json.load":
        with path.open("rb") as file:
            loaded = json.load(file)
        assert loaded["messages"]
    else:
        _naive(path, workdir, naive)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024}


def _naive(path: Path, workdir: Path, count: int) -> None:
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from storage.database import Database
    from storage.identity import ensure_group, ensure_member
    from storage.models import MessageLog

    async def run() -> None:
        database = Database(f"sqlite+aiosqlite:///{workdir / 'naive.db'}")
        await database.upgrade()
        with path.open("rb") as file:
            messages = [m for m in json.load(file)["messages"] if m["type"] == "message"]
        now = datetime.now(UTC)
        async with database.session() as session, session.begin():
            group = await ensure_group(
                session,
                platform="telegram",
                external_id="-1001500000000",
                name="Bench",
                language="en",
                timezone="UTC",
                now=now,
            )
        members: dict[str, int] = {}
        for message in messages[:count]:
            async with database.session() as session, session.begin():
                user = message["from_id"][4:]
                if user not in members:
                    members[user] = await ensure_member(
                        session,
                        community_id=group.community.id,
                        platform="telegram",
                        user_id=user,
                        name=message["from"],
                        is_bot=False,
                        now=now,
                    )
                text = message["text"] if isinstance(message["text"], str) else "…"
                await session.execute(
                    insert(MessageLog).values(
                        community_id=group.community.id,
                        group_id=group.id,
                        member_id=members[user],
                        platform="telegram",
                        channel_id="-1001500000000",
                        message_id=str(message["id"]),
                        sent_at=datetime.fromtimestamp(int(message["date_unixtime"]), UTC),
                        length=len(text),
                        text=text,
                    )
                )
        await database.close()

    asyncio.run(run())


def _phase(phase: str, path: Path, naive: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as workdir:
        command = [sys.executable, "-m", "bench.import", "--child", phase, str(path), workdir]
        command += ["--naive-messages", str(naive)]
        done = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(messages: int, naive: int) -> dict[str, Any]:
    """Generate the export, run the four phases, and return every figure."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as directory:
        path = Path(directory) / "result.json"
        with path.open("w", encoding="utf-8") as out:
            write_export(out, messages)
        size_mb = path.stat().st_size / 2**20
        chat = messages - messages // 100
        imported = _phase("import", path, naive)
        awarded = _phase("award", path, naive)
        loaded = _phase("json.load", path, naive)
        slow = _phase("naive", path, naive)
    rate = chat / imported["seconds"]
    naive_rate = naive / slow["seconds"]
    return {
        "items": messages,
        "chat_messages": chat,
        "file_mb": round(size_mb, 1),
        "import_seconds": round(imported["seconds"], 2),
        "import_rate": round(rate, 1),
        "import_peak_mb": round(imported["peak_mb"], 1),
        "award_seconds": round(awarded["seconds"], 2),
        "award_rate": round(chat / awarded["seconds"], 1),
        "award_peak_mb": round(awarded["peak_mb"], 1),
        "award_vs_import": round(awarded["seconds"] / imported["seconds"], 2),
        "json_load_seconds": round(loaded["seconds"], 2),
        "json_load_peak_mb": round(loaded["peak_mb"], 1),
        "naive_messages": naive,
        "naive_rate": round(naive_rate, 1),
        "import_vs_naive": round(rate / naive_rate, 1),
        "memory_vs_json_load": round(imported["peak_mb"] / loaded["peak_mb"], 3),
        "goal_rate_met": rate >= GOAL_RATE,
        "goal_memory_met": imported["peak_mb"] < GOAL_MEMORY_MB,
        "machine": (
            f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or one phase, as the benchmark's own subprocess)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--naive-messages", type=int, default=5_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--child", nargs=3, metavar=("PHASE", "FILE", "DIR"), help=argparse.SUPPRESS
    )
    options = parser.parse_args(argv)
    if options.child:
        phase, file, workdir = options.child
        figures = _child(phase, Path(file), Path(workdir), options.naive_messages)
        print(json.dumps(figures))
        return 0
    result = run(options.messages, options.naive_messages)
    if options.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"export: {result['items']:,} items ({result['chat_messages']:,} messages), "
        f"{result['file_mb']} MB; {result['machine']}"
    )
    print(
        f"import:    {result['import_seconds']} s, {result['import_rate']:,.0f} messages/s, "
        f"peak {result['import_peak_mb']} MB"
    )
    print(
        f"award:     {result['award_seconds']} s with --award-points, "
        f"{result['award_rate']:,.0f} messages/s ({result['award_vs_import']}x the import), "
        f"peak {result['award_peak_mb']} MB"
    )
    print(f"json.load: {result['json_load_seconds']} s, peak {result['json_load_peak_mb']} MB")
    print(f"naive:     {result['naive_rate']:,.0f} messages/s ({result['naive_messages']:,})")
    print(
        f"import is {result['import_vs_naive']}x the naive rate and uses "
        f"{result['memory_vs_json_load']:.0%} of json.load's memory; goals: rate "
        f"{'met' if result['goal_rate_met'] else 'NOT met'}, memory "
        f"{'met' if result['goal_memory_met'] else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
