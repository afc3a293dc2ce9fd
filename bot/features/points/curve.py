"""Level curves: how much XP each level takes."""

from __future__ import annotations

import bisect

from bot.config import CurveSettings

__all__ = ["Curve"]

MAX_LEVEL = 1000


class Curve:
    """Thresholds of a named curve; `level_for(xp)` is a binary search."""

    def __init__(self, settings: CurveSettings) -> None:
        self.settings = settings
        self._thresholds = [0]
        for level in range(MAX_LEVEL):
            self._thresholds.append(self._thresholds[-1] + self.step(level))

    def step(self, level: int) -> int:
        """XP needed to go from `level` to `level + 1` (always at least 1)."""
        s = self.settings
        if s.name == "exponential":
            value = s.c * s.growth**level
        else:
            value = s.a * level * level + s.b * level + s.c
        return max(1, round(value))

    def threshold(self, level: int) -> int:
        """Total XP at which `level` is reached."""
        return self._thresholds[min(level, MAX_LEVEL)]

    def level_for(self, xp: int) -> int:
        """The level a member with `xp` total XP has."""
        return bisect.bisect_right(self._thresholds, max(xp, 0)) - 1

    def progress(self, xp: int) -> tuple[int, int, int]:
        """(level, XP gained into this level, XP this level needs in all)."""
        level = self.level_for(xp)
        if level >= MAX_LEVEL:
            return level, 0, 0
        return level, xp - self.threshold(level), self.step(level)
