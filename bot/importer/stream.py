"""Streaming over an export file: the header fields before `messages`, then one message at a
time, with the position (byte offset, message index) kept for error messages.

Exports can be gigabytes, so nothing here holds more than one message in memory; ijson's C
backend (yajl2) parses the bytes incrementally.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import ijson  # type: ignore[import-untyped]

from bot.errors import HearthError
from bot.events import MemberJoined, MemberLeft, Message, ReactionAdded

__all__ = [
    "ExportError",
    "ExportHeader",
    "ImportItem",
    "MessageReader",
    "Skipped",
    "Timed",
]


class ExportError(HearthError):
    """The export cannot be read (wrong kind of file, malformed or truncated JSON)."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the export that is not imported, and why (counted in the summary)."""

    reason: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """The platform group an export belongs to, as the live bot would name it."""

    platform: str
    group_id: str
    name: str
    path: Path
    details: dict[str, Any] = field(default_factory=dict)


ImportItem = Message | MemberJoined | MemberLeft | ReactionAdded | Skipped
#: An item with the time it happened at (the previous item's time for a `Skipped`), so the
#: streams of several files can be merged in time order.
Timed = tuple[datetime, ImportItem]


#: Bytes handed to the parser at a time: an error's position is known to within this.
CHUNK = 16 * 1024
_BOM = b"\xef\xbb\xbf"


class _CountingReader:
    """A binary file that counts the bytes handed to the parser (and drops a UTF-8 BOM,
    which some editors write and the parser refuses)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self.offset == 0 and data.startswith(_BOM):
            self.offset = len(_BOM)
            data = data[len(_BOM) :]
        self.offset += len(data)
        return data


class MessageReader:
    """Reads one export file: `header()` first, then `messages()` streams the array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.index = -1  # index in `messages` of the last message handed out
        self.last_id: object = None
        self._reader: _CountingReader | None = None
        self._finished = False

    @property
    def offset(self) -> int:
        """Bytes read so far (a chunk ahead of the parser at most)."""
        if self._reader is not None:
            return self._reader.offset
        return self.size if self._finished else 0

    def header(self, wanted: Iterable[str] = (), stop: Collection[str] = ()) -> dict[str, Any]:
        """The top-level fields before `messages`; and after it, if one of `wanted` is not
        before it (a file written with sorted keys: reading on costs a second pass).

        A key in `stop` ends the header at once, with None as its value (a key whose value
        may be huge and means the file is not what the caller reads).

        Raises:
            ExportError: not a JSON object with a `messages` array.
        """
        fields: dict[str, Any] = {}
        key: str | None = None
        builder: Any = None
        found_messages = False
        with self.path.open("rb") as raw:
            reader = _CountingReader(raw)
            events = ijson.parse(reader, buf_size=CHUNK)
            try:
                for prefix, event, value in events:
                    if prefix != "" or event != "map_key":
                        if key is not None and prefix != "":
                            builder.event(event, value)
                        continue
                    if key is not None:
                        fields[key] = builder.value
                    key = None
                    if value in stop:
                        return fields | {value: None}
                    if value == "messages":
                        found_messages = True
                        _, kind, _ = next(events, ("", "end", None))
                        if kind != "start_array":
                            raise ExportError(f"{self.path}: 'messages' is not an array")
                        if all(name in fields for name in wanted):
                            return fields
                        _skip_value(events)
                        continue
                    key, builder = value, ijson.ObjectBuilder()
            except ijson.JSONError as error:
                raise self._error(error, reader.offset) from None
        if key is not None:  # the last field of the object
            fields[key] = builder.value
        if found_messages:
            return fields
        raise ExportError(f"{self.path}: no 'messages' array found; is this a chat export?")

    def messages(self) -> Iterator[dict[str, Any]]:
        """Each object of the `messages` array, in file order.

        Raises:
            ExportError: the JSON is malformed or ends early; names the position.
        """
        with self.path.open("rb") as raw:
            self._reader = _CountingReader(raw)
            try:
                items = ijson.items(self._reader, "messages.item", use_float=True, buf_size=CHUNK)
                for message in items:
                    self.index += 1
                    if not isinstance(message, dict):
                        message = {}  # not a message: the export counts it as skipped
                    self.last_id = message.get("id")
                    yield message
            except ijson.JSONError as error:
                raise self._error(error, self._reader.offset) from None
            finally:
                self._reader, self._finished = None, True

    def _error(self, error: Exception, offset: int) -> ExportError:
        text = error.args[0] if error.args else ""
        if isinstance(text, bytes):  # yajl's messages come as bytes, with a dump of the input
            text = text.decode("utf-8", "replace")
        detail = str(text).strip().splitlines()[0] if str(text).strip() else "malformed"
        if self.index < 0:
            where = "before the first message"
        else:
            where = f"after message index {self.index} (id {self.last_id})"
        kind = "ends early" if "premature EOF" in detail else "is malformed"
        return ExportError(
            f"{self.path}: the JSON {kind} in bytes {max(0, offset - CHUNK):,}–{offset:,} of "
            f"{self.size:,}, {where}: "
            f"{detail}. Everything before that point was imported; fix or re-export the file "
            "and run the import again (already imported rows are skipped)."
        )


def _skip_value(events: Iterator[tuple[str, str, Any]]) -> None:
    """Consume the events of one value whose start event was just read (an array)."""
    depth = 1
    for _, event, _ in events:
        if event in ("start_array", "start_map"):
            depth += 1
        elif event in ("end_array", "end_map"):
            depth -= 1
            if depth == 0:
                return


def reaction_count(value: object, listed: int) -> int:
    """How many reacted: the export's count if it is a whole number, at least those listed."""
    text = str(value)
    count = value if isinstance(value, int) else int(text) if text.isdigit() else 0
    return max(count, listed)
