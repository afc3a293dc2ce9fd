"""Level curves and the points invariant under random workloads."""

from __future__ import annotations

import asyncio
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.config import CurveSettings
from bot.events import Role
from bot.features.points.curve import Curve
from tests.conftest import make_settings, start_harness
from tests.test_points import assert_totals_match_ledger


def test_default_curve_is_mee6() -> None:
    curve = Curve(CurveSettings())
    assert [curve.step(level) for level in range(4)] == [100, 155, 220, 295]
    assert [curve.threshold(level) for level in range(5)] == [0, 100, 255, 475, 770]
    assert curve.level_for(99) == 0
    assert curve.level_for(100) == 1
    assert curve.level_for(254) == 1
    assert curve.level_for(255) == 2
    assert curve.progress(300) == (2, 45, 220)


def test_exponential_curve() -> None:
    curve = Curve(CurveSettings(name="exponential", c=50, growth=2))
    assert [curve.threshold(level) for level in range(4)] == [0, 50, 150, 350]


@given(st.integers(0, 10**7))
def test_levels_are_monotonic(xp: int) -> None:
    curve = Curve(CurveSettings())
    level = curve.level_for(xp)
    assert curve.threshold(level) <= xp < curve.threshold(level + 1)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["say", "thank", "react", "checkin", "give", "take", "wait"]),
        st.integers(0, 4),
        st.integers(0, 4),
        st.integers(1, 400),
    ),
    max_size=40,
)


async def _workload(ops: list[tuple[str, int, int, int]], root: Path) -> None:
    clock = ManualClock(datetime(2026, 2, 1, tzinfo=UTC))
    h = await start_harness(make_settings(f"sqlite+aiosqlite:///{root / 'w.db'}"), clock)
    rng = random.Random(1)
    try:
        for n, (op, a, b, amount) in enumerate(ops):
            me, other = f"m{a}", f"m{b}"
            if op == "say":
                await h.chat.say(me, f"message {rng.random()} here", message_id=f"x{n}")
            elif op == "thank":
                await h.chat.say(me, "thanks!", reply_to=f"x{rng.randrange(n + 1)}")
            elif op == "react":
                await h.chat.react(me, f"x{rng.randrange(n + 1)}", rng.choice("👍❤️🎉"))
            elif op == "checkin":
                await h.chat.command(me, "/checkin")
            elif op in ("give", "take"):
                await h.chat.command(other, "/help")
                await h.chat.command("root", f"/points {op} {other} {amount}", role=Role.ADMIN)
            else:
                clock.advance(timedelta(minutes=amount * 7))
        await assert_totals_match_ledger(h)
    finally:
        await h.engine.stop()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_totals_always_equal_the_ledger(ops: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_workload(ops, Path(root)))


def _weight_by_character(text: str) -> int:
    """The definition `content_weight` implements faster: CJK 2, other letters and digits 1."""
    from bot.text.normalize import CJK, normalize

    return sum(2 if CJK.match(c) else 1 if c.isalnum() else 0 for c in normalize(text))


@given(st.text())
def test_content_weight_counts_cjk_twice_and_letters_once(text: str) -> None:
    from bot.text.normalize import content_weight

    assert content_weight(text) == _weight_by_character(text)


def test_content_weight_examples() -> None:
    from bot.text.normalize import content_weight

    assert [
        content_weight(t) for t in ("好的谢谢", "thanks!!", "ok", "カタカナ・ー", "https://x.io hi")
    ] == [
        8,
        6,
        2,
        12,
        2,
    ]
