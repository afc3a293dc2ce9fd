"""Reply latency under load: FAQ answers and `/rank` while other traffic flows.

The bench's synthetic messages are sent through `Engine.handle` (every feature on at its
defaults) paced at a target rate (default 1,000 msg/s; when the engine cannot keep up it
simply runs flat out and the achieved rate is reported). Every `probe_every` messages one
probe is slipped in, alternately a question the bench FAQ answers (`targets.BENCH_FAQ`, each
entry asked in turn in each of five help channels that carry no other traffic, so the answer
cooldown never silences a probe) and a `/rank` command in one of the traffic's channels.
Each probe's `handle()` is timed on its own: from the call to the returned reply.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.events import Author, CommandInvoked, Event, Message, Place, Reply

__all__ = ["FAQ_PROBES", "Latency", "Probe", "interleave", "percentile", "run_paced"]

#: Ways members ask the bench FAQ's entries (one per entry, in `BENCH_FAQ` order).
FAQ_PROBES: tuple[str, ...] = (
    "how can I reset my password?",
    "when is the next meetup?",
    "how do i earn xp?",
    "where are the server rules?",
    "怎么设置时区",
    "is there a mobile app?",
)


#: Channels the FAQ probes are asked in: the same entry is answered again in a channel only
#: after `faq.answer_cooldown_minutes`, so the traffic's own questions must not cool them.
HELP_CHANNELS = 5


@dataclass(frozen=True, slots=True)
class Probe:
    """An event whose reply is timed: `kind` is "faq" or "rank"; `expect` the reply text
    (None: any reply)."""

    event: Event
    kind: str
    expect: str | None = None


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0–100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


@dataclass(slots=True)
class Latency:
    """Probe timings (seconds) of one paced run."""

    target_rate: float
    background: int = 0
    seconds: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=lambda: {"faq": [], "rank": []})
    #: Probes that got no reply, or not the expected one (should be 0).
    missed: dict[str, int] = field(default_factory=lambda: {"faq": 0, "rank": 0})

    @property
    def load_rate(self) -> float:
        """Messages of other traffic per second actually handled."""
        return self.background / self.seconds if self.seconds else 0.0

    def ms(self, kind: str, share: float) -> float:
        """Percentile `share` of the `kind` probes, in milliseconds."""
        return percentile(self.timings[kind], share) * 1000

    def worst_p99_ms(self) -> float:
        """The higher p99 of the two probe kinds."""
        return max(self.ms("faq", 99), self.ms("rank", 99))

    def as_dict(self) -> dict[str, Any]:
        """The figures, for `--json`."""
        figures: dict[str, Any] = {
            "load_target": self.target_rate,
            "load_rate": round(self.load_rate, 1),
            "latency_messages": self.background,
        }
        for kind in ("faq", "rank"):
            figures[f"{kind}_probes"] = len(self.timings[kind])
            figures[f"{kind}_missed"] = self.missed[kind]
            for share in (50, 99):
                figures[f"{kind}_p{share}_ms"] = round(self.ms(kind, share), 2)
            figures[f"{kind}_max_ms"] = round(max(self.timings[kind], default=math.nan) * 1000, 2)
        return figures


def interleave(
    messages: Sequence[Message], *, probe_every: int, answers: Sequence[str]
) -> list[Message | Probe]:
    """`messages` with a probe after every `probe_every`-th: FAQ questions (answered with
    `answers[i]`, asked in the help channels) and `/rank` commands in turn, from rotating
    members."""
    authors = sorted({m.author.user_id: m.author for m in messages}.values(), key=_user)
    channels = sorted({m.place.channel_id: m.place for m in messages}.values(), key=_channel)
    first = channels[0]
    helps = [Place(first.platform, first.group_id, f"help-{n}") for n in range(HELP_CHANNELS)]
    stream: list[Message | Probe] = []
    probes = 0
    for number, message in enumerate(messages, start=1):
        stream.append(message)
        if number % probe_every:
            continue
        author = authors[probes % len(authors)]
        at = message.sent_at + timedelta(milliseconds=500)
        if probes % 2 == 0:
            ask = probes // 2
            entry = ask % len(FAQ_PROBES)
            place = helps[(ask // len(FAQ_PROBES)) % len(helps)]
            question = Message(place, f"faq-{number}", author, FAQ_PROBES[entry], at)
            stream.append(Probe(question, "faq", answers[entry]))
        else:
            place = channels[probes % len(channels)]
            command = CommandInvoked(place, author, "rank", "", at, message_id=f"rank-{number}")
            stream.append(Probe(command, "rank"))
        probes += 1
    return stream


def _user(author: Author) -> str:
    return author.user_id


def _channel(place: Place) -> str:
    return place.channel_id


async def run_paced(handle: Any, stream: Sequence[Message | Probe], rate: float) -> Latency:
    """Feed `stream` to `handle` (`Engine.handle`), other traffic at `rate` msg/s, probes
    timed one by one."""
    result = Latency(target_rate=rate)
    interval = 1.0 / rate
    clock = time.perf_counter
    started = clock()
    for item in stream:
        if isinstance(item, Probe):
            began = clock()
            actions = await handle(item.event)
            took = clock() - began
            replies = [a.text for a in actions if isinstance(a, Reply)]
            if not replies or (item.expect is not None and item.expect not in replies):
                result.missed[item.kind] += 1
            else:
                result.timings[item.kind].append(took)
            continue
        due = started + result.background * interval
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        await handle(item)
        result.background += 1
    result.seconds = clock() - started
    return result
