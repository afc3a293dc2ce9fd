"""Progress of a long import on stderr: a redrawn bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]

BAR = 24


class Progress:
    """Shows messages, members and rate; `tick()` is cheap enough to call per item.

    Args:
        stream: where to write (stderr).
        total_bytes: size of the input, for the percentage.
        position: returns the bytes read so far.
        tty: redraw one line (True) or print a line every `every` seconds (False).
        clock: monotonic seconds (injected by tests).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        total_bytes: int,
        position: Callable[[], int],
        tty: bool,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._total = max(total_bytes, 1)
        self._position = position
        self._tty = tty
        self._every = every if every is not None else (0.2 if tty else 10.0)
        self._clock = clock
        self._started = clock()
        self._next = self._started + self._every
        self._drawn = False

    def tick(self, messages: int, members: int) -> None:
        """Report if it is time to (cheap otherwise)."""
        now = self._clock()
        if now >= self._next:
            self._next = now + self._every
            self._show(now, messages, members)

    def _show(self, now: float, messages: int, members: int) -> None:
        share = min(self._position() / self._total, 1.0)
        rate = messages / max(now - self._started, 1e-9)
        figures = f"{messages:,} messages · {members:,} members · {rate:,.0f} msg/s"
        if self._tty:
            filled = round(share * BAR)
            bar = "#" * filled + "-" * (BAR - filled)
            self._stream.write(f"\r[{bar}] {share:4.0%} {figures}\x1b[K")
            self._drawn = True
        else:
            self._stream.write(f"import: {share:.0%} of the file, {figures}\n")
        self._stream.flush()

    def done(self, messages: int, members: int) -> None:
        """The last report (ends the redrawn line on a terminal)."""
        self._show(self._clock(), messages, members)
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
