r"""Keeping the FAQ in a file: `hearth faq import FILE` / `hearth faq export FILE`.

YAML: a list of ``{id, questions: [...], answer, tags: [...], enabled}``, every value read as
written (``answer: yes`` is the text "yes", ``id: 010`` the id "010"). CSV (a byte-order mark,
as spreadsheets write, is fine): columns ``id, questions, answer, tags, enabled`` with
questions separated by `` | `` (a bar inside a phrasing is written ``\|``) and tags by commas.
Import is idempotent: entries are matched by `id` and reported as added, updated or unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.errors import HearthError
from bot.text.normalize import is_blank
from bot.text.tokenize import question_key
from storage.database import Database
from storage.faq import (
    MAX_KEY,
    MAX_TAGS,
    Entry,
    add_entry,
    clean_tags,
    list_entries,
    update_entry,
)

__all__ = [
    "FaqFileError",
    "FileEntry",
    "ImportReport",
    "check_questions",
    "export_faq",
    "import_faq",
    "read_entries",
    "render_entries",
    "write_entries",
]

QUESTION_SEPARATOR = " | "


class FaqFileError(HearthError):
    """The FAQ file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """An entry as written in a file."""

    key: str
    questions: tuple[str, ...]
    answer: str
    tags: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    added: int
    updated: int
    unchanged: int


_NOTHING = ("", "~", "null")
_FLAGS = {"true": True, "yes": True, "on": True, "1": True}
_FLAGS |= {"false": False, "no": False, "off": False, "0": False}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NOTHING)


def _text(value: Any, what: str, where: str) -> str:
    """A scalar as written (the YAML is read without type guessing: ``yes`` stays "yes")."""
    if _missing(value):
        return ""
    if not isinstance(value, str):
        raise FaqFileError(f"{where}: {what} must be text, not a list or a mapping")
    return value.strip()


def _strings(value: Any, what: str, where: str) -> tuple[str, ...]:
    if _missing(value):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FaqFileError(f"{where}: {what} must be a list of texts")
    return tuple(v.strip() for v in value if v.strip())


def _entry(raw: Any, position: int, source: str) -> FileEntry:
    where = f"{source}: entry {position}"
    if not isinstance(raw, dict):
        raise FaqFileError(f"{where}: expected a mapping with id, questions and answer")
    key = _text(raw.get("id"), "id", where)
    where = f"{where} (id {key!r})" if key else where
    if not key:
        raise FaqFileError(f"{where}: id is missing")
    if len(key) > MAX_KEY:
        raise FaqFileError(f"{where}: id is longer than {MAX_KEY} characters")
    questions = _strings(raw.get("questions"), "questions", where)
    answer = _text(raw.get("answer"), "answer", where)
    if not questions:
        raise FaqFileError(f"{where}: questions must list at least one question")
    for number, question in enumerate(questions, 1):
        if not question_key(question):
            raise FaqFileError(f"{where}: question {number} {question!r} has no words")
    if not answer or is_blank(answer):
        raise FaqFileError(f"{where}: answer is missing")
    tags = clean_tags(_strings(raw.get("tags"), "tags", where))
    if len(",".join(tags)) > MAX_TAGS:
        raise FaqFileError(f"{where}: tags are longer than {MAX_TAGS} characters together")
    enabled = raw.get("enabled")
    flag = True if _missing(enabled) else _FLAGS.get(str(enabled).strip().lower())
    if flag is None:
        raise FaqFileError(f"{where}: enabled must be true or false")
    return FileEntry(key, questions, answer, tags, flag)


def _csv_rows(text: str) -> list[dict[str, Any]]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append(
            {
                "id": row.get("id"),
                "questions": _split_questions(row.get("questions") or ""),
                "answer": row.get("answer"),
                "tags": row.get("tags"),
                "enabled": row.get("enabled"),
            }
        )
    return rows


def _split_questions(cell: str) -> list[str]:
    r"""A CSV cell's phrasings: separated by `|`; a phrasing's own bar is written ``\|``."""
    return [q.replace(r"\|", "|") for q in re.split(r"(?<!\\)\|", cell) if q.strip()]


def read_entries(path: Path) -> list[FileEntry]:
    """Read and validate an FAQ file (YAML, or CSV by its `.csv` suffix)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets save CSV with a BOM
    except (OSError, UnicodeDecodeError) as error:
        raise FaqFileError(f"{path}: cannot read: {error}") from None
    if path.suffix.lower() == ".csv":
        raw: Any = _csv_rows(text)
    else:
        try:
            # Every scalar as text: "yes", "9.90" and "010" stay as written.
            raw = yaml.load(text, Loader=yaml.BaseLoader)
        except yaml.YAMLError as error:
            raise FaqFileError(f"{path}: not valid YAML: {error}") from None
    if isinstance(raw, dict) and "entries" in raw:
        raw = raw["entries"]
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise FaqFileError(f"{path}: expected a list of entries")
    entries = [_entry(item, n, str(path)) for n, item in enumerate(raw, 1)]
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise FaqFileError(f"{path}: id {entry.key!r} appears twice")
        seen.add(entry.key)
    check_questions(entries, str(path))
    return entries


def check_questions(entries: Sequence[FileEntry | Entry], source: str) -> None:
    """Refuse one question in two entries (compared as the matcher reads them: whatever the
    case, width, spacing and punctuation): the two would tie and neither would answer.

    Raises:
        FaqFileError: naming both entries' ids and the question.
    """
    owners: dict[str, tuple[str, str]] = {}
    for entry in entries:
        for question in entry.questions:
            key = question_key(question)
            owner = owners.setdefault(key, (entry.key, question))
            if owner[0] != entry.key:
                raise FaqFileError(
                    f"{source}: entries {owner[0]!r} and {entry.key!r} both have the question "
                    f"{owner[1]!r}; keep it in one of them"
                )


def render_entries(entries: Sequence[Entry], csv_format: bool = False) -> str:
    """The community's entries in the import format."""
    if csv_format:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "questions", "answer", "tags", "enabled"])
        for e in entries:
            writer.writerow(
                [
                    e.key,
                    QUESTION_SEPARATOR.join(q.replace("|", r"\|") for q in e.questions),
                    e.answer,
                    ",".join(e.tags),
                    str(e.enabled).lower(),
                ]
            )
        return out.getvalue()
    data = [
        {
            "id": e.key,
            "questions": list(e.questions),
            "answer": e.answer,
            "tags": list(e.tags),
            "enabled": e.enabled,
        }
        for e in entries
    ]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


async def import_faq(
    database: Database, community_id: int, wanted: Sequence[FileEntry], now: datetime
) -> ImportReport:
    """Add or update the community's entries from a file's entries, in one transaction."""
    added = updated = unchanged = 0
    async with database.session() as session, session.begin():
        existing = {e.key: e for e in await list_entries(session, community_id=community_id)}
        # The FAQ as it will be: the file's entries and the community's others.
        incoming = {item.key for item in wanted}
        kept = [e for key, e in existing.items() if key not in incoming]
        check_questions([*kept, *wanted], "the FAQ after this import")
        for item in wanted:
            current = existing.get(item.key)
            if current is None:
                await add_entry(
                    session,
                    community_id=community_id,
                    questions=item.questions,
                    answer=item.answer,
                    now=now,
                    tags=item.tags,
                    key=item.key,
                    enabled=item.enabled,
                )
                added += 1
            elif (current.questions, current.answer, current.tags, current.enabled) == (
                item.questions,
                item.answer,
                item.tags,
                item.enabled,
            ):
                unchanged += 1
            else:
                await update_entry(
                    session,
                    community_id=community_id,
                    entry_id=current.id,
                    now=now,
                    answer=item.answer,
                    questions=item.questions,
                    tags=item.tags,
                    enabled=item.enabled,
                )
                updated += 1
    return ImportReport(added, updated, unchanged)


async def export_faq(database: Database, community_id: int) -> list[Entry]:
    """Every entry of the community, for `render_entries`."""
    async with database.session() as session:
        return await list_entries(session, community_id=community_id)


def write_entries(path: Path, entries: Sequence[Entry]) -> None:
    """Write entries to `path`: CSV for a `.csv` name, YAML otherwise."""
    text = render_entries(entries, csv_format=path.suffix.lower() == ".csv")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise FaqFileError(f"{path}: cannot write: {error}") from None
