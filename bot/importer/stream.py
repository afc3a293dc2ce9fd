"""Streaming over an export file: the header fields before `messages`, then one message at a
time, with the position (byte offset, message index) kept for error messages.

Exports can be gigabytes, so nothing here holds more than one message in memory; ijson's C
backend (yajl2) parses the bytes incrementally.
"""

from __future__ import annotations

from collections.abc import Iterator
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


class _CountingReader:
    """A binary file that counts the bytes handed to the parser."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
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

    def header(self) -> dict[str, Any]:
        """The top-level fields that come before `messages` (an error if there is none).

        Raises:
            ExportError: not a JSON object with a `messages` array.
        """
        fields: dict[str, Any] = {}
        key: str | None = None
        builder: Any = None
        with self.path.open("rb") as raw:
            reader = _CountingReader(raw)
            try:
                for prefix, event, value in ijson.parse(reader):
                    if prefix == "" and event == "map_key":
                        if key is not None:
                            fields[key] = builder.value
                        if value == "messages":
                            return fields
                        key, builder = value, ijson.ObjectBuilder()
                    elif key is not None and prefix != "":
                        builder.event(event, value)
            except ijson.JSONError as error:
                raise self._error(error, reader.offset) from None
        raise ExportError(f"{self.path}: no 'messages' array found; is this a chat export?")

    def messages(self) -> Iterator[dict[str, Any]]:
        """Each object of the `messages` array, in file order.

        Raises:
            ExportError: the JSON is malformed or ends early; names the position.
        """
        with self.path.open("rb") as raw:
            self._reader = _CountingReader(raw)
            try:
                for message in ijson.items(self._reader, "messages.item", use_float=True):
                    self.index += 1
                    if isinstance(message, dict):
                        self.last_id = message.get("id")
                        yield message
            except ijson.JSONError as error:
                raise self._error(error, self._reader.offset) from None
            finally:
                self._reader, self._finished = None, True

    def _error(self, error: Exception, offset: int) -> ExportError:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else "malformed"
        if self.index < 0:
            where = "before the first message"
        else:
            where = f"after message index {self.index} (id {self.last_id})"
        kind = "ends early" if "premature EOF" in detail else "is malformed"
        return ExportError(
            f"{self.path}: the JSON {kind} near byte {offset:,} of {self.size:,}, {where}: "
            f"{detail}. Everything before that point was imported; fix or re-export the file "
            "and run the import again (already imported rows are skipped)."
        )
