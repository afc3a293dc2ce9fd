"""The console's line syntax: messages, commands, replies, reactions, joins, leaves and time.

One line is one input. Messages and commands are numbered 1, 2, … in input order, so later
lines can point at them:

- ``text`` / ``@ann: text`` — a message from the console member / from ``ann``;
  ``/cmd args`` / ``@ann: /cmd args`` — a command.
- ``@ann -> 3: text`` — ann replies to message #3; ``-> @bob: text`` to bob's latest
  message; ``-> @hearth: text`` to Hearth's latest message.
- ``@ann +👍 3`` — ann reacts 👍 to message #3 (``@bob``: bob's latest, ``@hearth``: Hearth's
  latest; nothing: the previous message).
- ``@ann: [sticker]`` / ``@ann: [photo] a caption`` — media (any kind of
  `bot.events.MESSAGE_KINDS` but text: photo, sticker, voice, video, poll, …), with an
  optional caption.
- ``@ann joins`` / ``@ann leaves`` — ann joins or leaves the group.
- ``~ +10m`` / ``~ +1h30m`` / ``~ +2d`` moves the clock forward; ``~ 2026-12-05 10:00`` sets
  it (UTC unless the time has an offset such as ``+08:00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from bot.events import (
    MESSAGE_KINDS,
    Author,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    Message,
    Place,
    ReactionAdded,
    Role,
)

__all__ = ["HEARTH", "ClockMove", "ScriptError", "Transcript", "parse_duration", "parse_line"]

#: The name that points at Hearth's own latest message (``+👍 @hearth``).
HEARTH = "hearth"
_NAME = r"[^\s:>]{1,64}"
_SPEAKER = re.compile(rf"^@({_NAME}):\s?(.*)$", re.DOTALL)
_COMMAND = re.compile(r"^/([^\s@/]+)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)
_REF = r"#?\d+|@[^\s:]{1,64}"
_REPLY = re.compile(rf"^(?:@({_NAME})\s+)?->\s*({_REF})\s*:\s?(.*)$", re.DOTALL)
# An emoji, a custom :name: or anything not starting with a letter or digit, so "+1" stays chat.
_REACT = re.compile(rf"^(?:@({_NAME})\s+)?\+([^\s\w]\S*)(?:\s+({_REF}))?\s*$")
_MEMBERSHIP = re.compile(rf"^@({_NAME})\s+(joins|leaves)\s*$", re.IGNORECASE)
_MEDIA = re.compile(
    rf"^\[({'|'.join(kind for kind in MESSAGE_KINDS if kind != 'text')})\]\s*(.*)$", re.DOTALL
)
_CLOCK = re.compile(r"^~\s*([+\d].*)$")
_DURATION = re.compile(r"(\d+)\s*([wdhms])", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class ScriptError(ValueError):
    """A console line that names something that does not exist, or a malformed time."""


@dataclass(frozen=True, slots=True)
class ClockMove:
    """Move the console's clock: forward by `by`, or to `to`."""

    by: timedelta | None = None
    to: datetime | None = None


def parse_duration(text: str) -> timedelta:
    """``1h30m`` → 90 minutes; weeks, days, hours, minutes and seconds.

    Raises:
        ScriptError: the text is not a sequence of number-unit pairs.
    """
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ScriptError(f"cannot read {text!r} as a duration; use e.g. +10m, +1h30m, +2d")
    delta = timedelta()
    for number, unit in parts:
        delta += timedelta(**{_UNITS[unit.lower()]: int(number)})
    return delta


def _parse_clock(text: str) -> ClockMove:
    text = text.strip()
    if text.startswith("+"):
        return ClockMove(by=parse_duration(text[1:]))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ScriptError(
            f"cannot read {text!r} as a time; use e.g. ~ +2d or ~ 2026-12-05 10:00"
        ) from None
    return ClockMove(to=moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def parse_line(
    line: str,
    *,
    place: Place,
    default_user: str,
    admin: bool,
    message_id: str,
    clock: Clock,
) -> Event | None:
    """Turn a plain console line (a message or a command) into an event (None when blank)."""
    text = line.rstrip("\r\n")
    user = default_user
    speaker = _SPEAKER.match(text)
    if speaker:
        user, text = speaker.group(1), speaker.group(2)
    return _message(text, user, place, default_user, admin, message_id, clock.now())


def _message(
    text: str,
    user: str,
    place: Place,
    default_user: str,
    admin: bool,
    message_id: str,
    now: datetime,
    reply_to: str | None = None,
) -> Event | None:
    if not text.strip():
        return None
    author = Author(user_id=user, name=user)
    command = _COMMAND.match(text.strip())
    if command:
        role = Role.ADMIN if admin and user == default_user else Role.MEMBER
        return CommandInvoked(
            place=place,
            invoker=author,
            name=command.group(1),
            args=(command.group(2) or "").strip(),
            sent_at=now,
            invoker_role=role,
            message_id=message_id,
        )
    kind = "text"
    if media := _MEDIA.match(text.strip()):
        kind, text = media.group(1), media.group(2)
    return Message(
        place=place,
        message_id=message_id,
        author=author,
        text=text,
        sent_at=now,
        reply_to=reply_to,
        mentions=tuple(re.findall(r"@(\w+)", text)),
        kind=kind,
    )


class Transcript:
    """The state one console run needs to read its lines: numbering and who said what."""

    def __init__(self, *, place: Place, user: str, admin: bool, run: str, clock: Clock) -> None:
        self.place = place
        self.user = user
        self.admin = admin
        self.clock = clock
        self._run = run
        self._ids: list[tuple[str, str]] = []  # message number - 1 → (message id, author)
        self._latest: dict[str, str] = {}
        self._sent = 0

    @property
    def next_number(self) -> int:
        """The number the next message or command will get."""
        return len(self._ids) + 1

    def sent_by_hearth(self) -> str:
        """Record a message Hearth sent and return its id (reactions and replies name it)."""
        self._sent += 1
        message_id = f"{self._run}-h{self._sent}"
        self._latest[HEARTH] = message_id
        return message_id

    def read(self, line: str) -> Event | ClockMove | None:
        """The event or clock move one line stands for (None for a blank line).

        Raises:
            ScriptError: the line points at a message that does not exist, or a bad time.
        """
        text = line.rstrip("\r\n")
        now = self.clock.now()
        if clock := _CLOCK.match(text):
            return _parse_clock(clock.group(1))
        if membership := _MEMBERSHIP.match(text):
            user = membership.group(1)
            kind = MemberJoined if membership.group(2).lower() == "joins" else MemberLeft
            return kind(self.place.platform, self.place.group_id, Author(user, user), now)
        if react := _REACT.match(text):
            user = react.group(1) or self.user
            target, author = self._target(react.group(3))
            return ReactionAdded(
                place=self.place,
                message_id=target,
                reactor=Author(user, user),
                emoji=react.group(2),
                at=now,
                message_author_id=author,
            )
        user, reply_to = self.user, None
        if reply := _REPLY.match(text):
            user = reply.group(1) or self.user
            reply_to, _ = self._target(reply.group(2))
            text = reply.group(3)
        elif speaker := _SPEAKER.match(text):
            user, text = speaker.group(1), speaker.group(2)
        message_id = f"{self._run}-{len(self._ids) + 1}"
        event = _message(
            text, user, self.place, self.user, self.admin, message_id, now, reply_to=reply_to
        )
        if event is not None:
            self._ids.append((message_id, user))
            self._latest[user] = message_id
        return event

    def _target(self, ref: str | None) -> tuple[str, str | None]:
        """(message id, author id) of ``3``/``#3``, ``@bob``, or the previous message."""
        if ref is None:
            if not self._ids:
                raise ScriptError("there is no message yet to point at")
            return self._ids[-1]
        if ref.startswith("@"):
            name = ref[1:]
            if name not in self._latest:
                raise ScriptError(f"@{name} has not said anything yet")
            return self._latest[name], None if name == HEARTH else name
        number = int(ref.lstrip("#"))
        if not 1 <= number <= len(self._ids):
            raise ScriptError(f"there is no message #{number} (messages so far: {len(self._ids)})")
        return self._ids[number - 1]
