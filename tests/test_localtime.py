"""Times shown to people carry the community's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.localtime import local_time


def test_local_time_is_converted_and_labelled() -> None:
    moment = datetime(2026, 12, 3, 7, 4, 5, tzinfo=UTC)
    assert local_time(moment, "Asia/Shanghai") == "2026-12-03 15:04 (Asia/Shanghai)"
    assert local_time(moment, "UTC", seconds=True) == "2026-12-03 07:04:05 (UTC)"
    assert (
        local_time(moment.replace(tzinfo=None), "Europe/Berlin")
        == "2026-12-03 08:04 (Europe/Berlin)"
    )
