"""Times shown to people: in the community's time zone, always labelled with it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["local_time"]


def local_time(moment: datetime, zone: str, *, seconds: bool = False) -> str:
    """`moment` in `zone` as ``2026-12-03 15:04 (Asia/Shanghai)``.

    Args:
        moment: a timezone-aware time (a naive one is read as UTC, as the database stores it).
        zone: the IANA name of the community's time zone.
        seconds: include seconds.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{moment.astimezone(ZoneInfo(zone)).strftime(shape)} ({zone})"
