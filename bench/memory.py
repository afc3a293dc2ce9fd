"""Memory of a long-running Hearth: messages from many distinct members through `Engine.handle`.

Every feature is on at its defaults (as `bench.ingest`'s full path, FAQ entries included);
``--members`` distinct members (100,000 by default) each post ``--messages-each`` messages,
in rounds, one second apart, across the bench's five channels. Messages are made as they are
sent, so the traffic itself holds no memory. Reported: the process's resident memory before
the engine starts (the baseline: interpreter, libraries, migrated schema) and its peak at the
end (``ru_maxrss``), their ratio, and whether the peak is within the goal of 250 MB for the
whole process (issue 17, item 4). ``--trace N`` adds `tracemalloc`'s top N allocation sites
at the end (much slower; the peak RSS then includes tracemalloc's own bookkeeping).

Run from the repository root::

    .venv/bin/python -m bench.memory [--members N] [--messages-each N]
        [--database-url postgresql+asyncpg://…] [--trace N] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/memory.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import gc
import json
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from bench.targets import Target, prepare
from bench.traffic import CHANNELS, GROUP_ID, PLATFORM, START
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import parse_settings
from bot.events import Author, Message, Place

GOAL_MB = 250.0
_TEXTS = (
    "good morning everyone, the tea is ready",
    "has anyone tried the new oolong?",
    "see you all at the meetup on friday",
    "大家好，今天的茶很好喝。",
    "thanks for the tips yesterday",
)


def rss_mb() -> float:
    """The process's resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def messages(members: int, each: int) -> Iterator[Message]:
    """`each` rounds in which every one of `members` posts once (made as they are sent)."""
    places = [Place(PLATFORM, GROUP_ID, str(900_000_000 + n)) for n in range(CHANNELS)]
    number = 0
    for _ in range(each):
        for member in range(members):
            yield Message(
                place=places[number % CHANNELS],
                message_id=str(2_000_000_000 + number),
                author=Author(user_id=str(400_000_000 + member), name=f"m{member}"),
                text=_TEXTS[number % len(_TEXTS)],
                sent_at=START + timedelta(seconds=number),
            )
            number += 1


async def run(members: int, each: int, target: Target, trace: int) -> dict[str, Any]:
    """Feed the traffic through a full engine; the figures of `main`."""
    async with target.fresh("memory") as url:
        await prepare(url, platform=PLATFORM, group_external_id=GROUP_ID, now=START, faq=True)
        settings = parse_settings({"database": {"url": url}}, environ={})
        gc.collect()
        baseline = rss_mb()
        if trace:
            tracemalloc.start()
        engine = build_engine(settings, clock=ManualClock(START))
        await engine.start()
        started = time.perf_counter()
        sent = 0
        try:
            for message in messages(members, each):
                await engine.handle(message)
                sent += 1
        finally:
            await engine.stop()
        seconds = time.perf_counter() - started
        top: list[str] = []
        if trace:
            snapshot = tracemalloc.take_snapshot()
            tracemalloc.stop()
            top = [str(stat) for stat in snapshot.statistics("lineno")[:trace]]
        peak = peak_rss_mb()
    return {
        "members": members,
        "messages": sent,
        "seconds": round(seconds, 2),
        "rate": round(sent / seconds, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb": round(peak - baseline, 1),
        "peak_vs_baseline": round(peak / baseline, 2),
        "goal_mb": GOAL_MB,
        "goal_met": peak <= GOAL_MB,
        "database": target.dialect,
        "traced": trace > 0,
        "top_allocations": top,
    }


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=_positive, default=100_000)
    parser.add_argument("--messages-each", type=_positive, default=1)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    parser.add_argument("--trace", type=int, default=0, help="show the top N allocation sites")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-memory-") as workdir:
        target = Target(Path(workdir), args.database_url)
        result = asyncio.run(run(args.members, args.messages_each, target, args.trace))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['messages']:,} messages from {result['members']:,} members "
            f"({result['database']}, every feature on) in {result['seconds']} s "
            f"({result['rate']:,} msg/s)\n"
            f"RSS before the engine {result['baseline_rss_mb']} MB, peak "
            f"{result['peak_rss_mb']} MB (×{result['peak_vs_baseline']}); goal ≤ "
            f"{GOAL_MB:.0f} MB: {'met' if result['goal_met'] else 'NOT met'}"
        )
        for line in result["top_allocations"]:
            print("  " + line)
    return 0 if result["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
