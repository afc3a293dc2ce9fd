"""`/config`: a community's admins switch features off and change XP rules for their community,
checked by the config file's own rules, kept across restarts, seen by other processes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.events import Role
from storage.identity import CommunityInfo
from tests.conftest import Harness, make_settings
from tests.console import play

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


async def _play(url: str, script: str, **sections: dict[str, object]) -> list[str]:
    return await play(url, ManualClock(START), script, schedule={"worker": False}, **sections)


async def test_config_lists_every_setting_with_its_source(url: str) -> None:
    lines = await _play(url, "/config\n", faq={"enabled": False})
    assert lines[0] == "Settings of console (/config KEY VALUE to change one):"
    assert "points.enabled = on (config file)" in lines
    assert "faq.enabled = off (off in the config file)" in lines
    assert "points.message_cooldown_seconds = 60 (config file)" in lines
    assert "points.curve.name = polynomial (config file)" in lines


async def test_members_and_moderators_may_not_change_settings(harness: Harness) -> None:
    (text,) = await harness.chat.command("mallory", "/config faq.enabled off")
    assert text == "Only admins can use /config."
    (text,) = await harness.chat.command("mod", "/config faq.enabled off", role=Role.MODERATOR)
    assert text == "Only admins can use /config."
    (shown,) = await harness.chat.command("root", "/config faq.enabled", role=Role.ADMIN)
    assert shown == "faq.enabled = on (config file)"


async def test_bad_keys_and_values_are_refused_naming_the_field(url: str) -> None:
    script = (
        "/config points.nope 3\n"
        "/config points.message_cooldown_seconds -5\n"
        "/config points.message_xp_min 500\n"  # above message_xp_max (25)
        "/config faq.enabled maybe\n"
        "/config points.curve.name cubic\n"
        "/config points.message_cooldown_seconds\n"
    )
    lines = await _play(url, script)
    assert lines[0] == "points.nope: unknown setting; send /config to see them all."
    assert lines[1] == (
        "Not changed: points.message_cooldown_seconds: Input should be greater than or equal to 0"
    )
    assert lines[2] == "Not changed: points: message_xp_min must not exceed message_xp_max"
    assert lines[3] == "Not changed: faq.enabled: use on or off"
    assert lines[4].startswith("Not changed: points.curve.name: Input should be 'polynomial'")
    assert lines[5] == "points.message_cooldown_seconds = 60 (config file)"  # nothing changed


async def test_xp_rules_change_the_next_award_and_survive_a_restart(url: str) -> None:
    first = await _play(
        url,
        "/config points.message_xp_max 100\n"
        "/config points.message_xp_min 100\n"
        "@ann: hello everyone, this is long enough\n"
        "/rank ann\n",
    )
    assert first[0] == "Changed: points.message_xp_max = 100 (set here)"
    assert first[1] == "Changed: points.message_xp_min = 100 (set here)"
    assert "100 XP" in "\n".join(first[2:])
    again = await _play(
        url,
        "/config points.message_xp_max\n"
        "/config points.message_xp_max default\n"  # min 100 would exceed the file's max 25
        "/config points.message_xp_min default\n"
        "/config points.message_xp_max default\n"
        "/config points.message_xp_max\n",
    )
    assert again == [
        "points.message_xp_max = 100 (set here)",  # kept by the database across the restart
        "Not changed: points: message_xp_min must not exceed message_xp_max",
        "Back to the config file's value: points.message_xp_min = 15 (config file)",
        "Back to the config file's value: points.message_xp_max = 25 (config file)",
        "points.message_xp_max = 25 (config file)",
    ]


async def test_switched_off_features_stop_acting_and_their_member_commands_say_so(
    url: str,
) -> None:
    script = (
        "/faq add when is the meetup | Fridays at 18:00\n"
        "/config faq.enabled off\n"
        "/config points.enabled off\n"
        "@ann: when is the meetup?\n"
        "/rank\n"
        "/config faq.enabled on\n"
        "@ann: when is the meetup?\n"
    )
    lines = await _play(url, script)
    assert lines[1] == "Changed: faq.enabled = off (set here)"
    assert lines[2] == "Changed: points.enabled = off (set here)"
    # No FAQ answer to ann's first question; /rank says points are off here.
    assert lines[3] == (
        "Points and levels is turned off in this community. An admin can turn it on with "
        "/config points.enabled on."
    )
    assert lines[4] == "Changed: faq.enabled = on (set here)"
    assert lines[5].endswith("Fridays at 18:00")
    assert len(lines) == 6


async def test_a_switch_cannot_turn_on_what_the_config_file_turned_off(url: str) -> None:
    lines = await _play(url, "/config faq.enabled on\n", faq={"enabled": False})
    assert lines == ["Changed: faq.enabled = off (off in the config file)"]


async def test_another_process_sees_a_change_after_a_refresh(sqlite_url: str) -> None:
    """`hearth web` (or a second shard) changes a setting; the bot's engine reads it again."""
    clock = ManualClock(START)
    bot = build_engine(make_settings(sqlite_url), clock=clock)
    web = build_engine(make_settings(sqlite_url), clock=clock)
    await bot.start()
    await web.start()
    try:
        seen = await bot.services.directory.group("console", "g1")
        other = await web.services.directory.group("console", "g1")
        await web.services.directory.set_override(other.community.id, "faq.enabled", False)
        cached = await bot.services.directory.group("console", "g1")
        assert cached.community.override("faq.enabled") is None  # cached until the refresh
        await bot.services.directory.refresh_communities()
        fresh = await bot.services.directory.group("console", "g1")
        assert fresh.community.override("faq.enabled") is False
        assert fresh.community.id == seen.community.id
    finally:
        await web.stop()
        await bot.stop()


def test_community_info_keeps_lists_hashable() -> None:
    info = CommunityInfo(1, "c", "en", "UTC", overrides=(("points.no_xp_channels", ("a",)),))
    assert hash(info.overrides)
    assert info.override("points.no_xp_channels") == ("a",)
