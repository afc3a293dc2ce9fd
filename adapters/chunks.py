"""Cutting long text into messages a platform accepts (Telegram 4096, Discord 2000 chars)."""

from __future__ import annotations

__all__ = ["split_message"]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit  # no space to break at (a URL, Chinese text): cut hard
        pieces.append(line[:cut])
        line = line[cut:].lstrip(" ") if line[cut : cut + 1] == " " else line[cut:]
    pieces.append(line)
    return pieces


def split_message(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, at line breaks where possible,
    else at a space, else anywhere. Blank pieces are dropped; nothing else is lost."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        *full, current = _cut_line(line, limit)
        pieces.extend(full)
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()]
