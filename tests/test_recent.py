"""The bounded memory shared by redelivery checks, answer tags and recent authors."""

from __future__ import annotations

from bot.recent import Recent


def test_keeps_the_newest_and_forgets_the_oldest_first() -> None:
    recent: Recent[str, int] = Recent(capacity=2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("c", 3)
    assert "a" not in recent
    assert (recent.get("b"), recent.get("c"), len(recent)) == (2, 3, 2)
    recent.put("b", 20)  # updating does not grow it
    assert recent.get("b") == 20
    assert len(recent) == 2
