"""What kind of media a file is, from its MIME type or its name (Discord attachments, export
files): one of `bot.events.MESSAGE_KINDS`."""

from __future__ import annotations

import mimetypes

__all__ = ["file_kind"]

_GIF = frozenset({"image/gif"})


def file_kind(content_type: str | None, filename: str = "", *, voice: bool = False) -> str:
    """The message kind of an attached file: a GIF is an "animation", other images "photo",
    videos "video", audio "voice" (a recorded voice message) or "audio", the rest "document".

    `content_type` wins over the name's extension when given.
    """
    mime = (content_type or "").split(";")[0].strip().lower()
    if not mime:
        mime = (mimetypes.guess_type(filename)[0] or "").lower()
    if mime in _GIF:
        return "animation"
    major = mime.partition("/")[0]
    if major == "image":
        return "photo"
    if major == "video":
        return "video"
    if major == "audio":
        return "voice" if voice else "audio"
    return "document"
