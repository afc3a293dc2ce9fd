"""Settings a community's admins change themselves (`/config`, the dashboard's Settings page),
on top of the config file's.

Two kinds, validated by the config file's own models so a value is refused with the same
wording as in `config.toml` (the key named first):

* **switches** — ``points.enabled``, ``faq.enabled``, ``moderation.enabled``,
  ``digest.enabled``: the config file's switch is the operator's, for every community; a
  community's admins can turn a feature off (and on again) for their community only. Off, the
  feature does nothing on its own there (the engine skips it for that community's events;
  scheduled digests are not sent) and its members' commands say so.
* **XP rules** — every key of ``[points]`` but the switch (``points.message_cooldown_seconds``,
  ``points.curve.name``, …): the community's value replaces the file's (which may itself come
  from ``[points.communities.NAME]``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.commands import Command
from bot.config import CurveSettings, PointsRules, Settings, describe_error
from bot.events import Role
from bot.i18n import N_, Translator
from storage.identity import CommunityInfo

__all__ = [
    "KEYS",
    "MEMBER_COMMANDS_STOP",
    "RULE_KEYS",
    "SWITCHES",
    "OverrideError",
    "Setting",
    "check_reset",
    "configured",
    "is_on",
    "parse_override",
    "points_rules",
    "setting_lines",
    "settings_of",
    "shown_value",
    "switched_off",
]

logger = logging.getLogger(__name__)

#: Features a community can switch off, and what they are called.
SWITCHES: Mapping[str, str] = {
    "points": N_("Points and levels"),
    "faq": N_("FAQ answers"),
    "moderation": N_("Moderation"),
    "digest": N_("Digests"),
}
#: Switched off, these features' member commands (/rank, /checkin, …) say so; a digest's
#: /unsubscribe still works.
MEMBER_COMMANDS_STOP = frozenset({"points", "faq", "moderation"})
_NOT_RULES = ("enabled", "curve")
RULE_KEYS: tuple[str, ...] = (
    *(f"points.{name}" for name in PointsRules.model_fields if name not in _NOT_RULES),
    *(f"points.curve.{name}" for name in CurveSettings.model_fields),
)
KEYS: tuple[str, ...] = (*(f"{feature}.enabled" for feature in SWITCHES), *RULE_KEYS)
_SWITCH = TypeAdapter(bool)


class OverrideError(ValueError):
    """A `/config` key or value that cannot be used; the message names the key."""


def _file_rules(settings: Settings, community: CommunityInfo) -> PointsRules:
    return settings.points.for_community(community.name)


def configured(settings: Settings, community: CommunityInfo, feature: str) -> bool:
    """Whether the config file turns `feature` on for `community`."""
    if feature == "points":
        return _file_rules(settings, community).enabled
    section = getattr(settings, feature)
    return bool(section.enabled)


def is_on(settings: Settings, community: CommunityInfo, feature: str) -> bool:
    """Whether `feature` acts in `community`: on in the config file and not switched off
    there with `/config` (features without a switch are always on)."""
    if feature not in SWITCHES:
        return True
    return configured(settings, community, feature) and community.override(
        f"{feature}.enabled", True
    )


_SWITCHED_OFF = N_(
    "{feature} is turned off in this community. An admin can turn it on with /config {key} on."
)


def switched_off(
    settings: Settings, community: CommunityInfo, command: Command, tr: Translator
) -> str | None:
    """What a member's command of a feature switched off in `community` answers (None: it
    runs). Moderators' and admins' commands always run, so a feature can be prepared."""
    feature = command.feature
    if command.role != Role.MEMBER or feature not in MEMBER_COMMANDS_STOP:
        return None
    if is_on(settings, community, feature):
        return None
    return tr(_SWITCHED_OFF).format(feature=tr(SWITCHES[feature]), key=f"{feature}.enabled")


def _with_rules(base: PointsRules, overrides: Mapping[str, Any]) -> PointsRules:
    data = base.model_dump()
    for key, value in overrides.items():
        if key.startswith("points.curve."):
            data["curve"][key.removeprefix("points.curve.")] = value
        elif key in RULE_KEYS:
            data[key.removeprefix("points.")] = value
    return PointsRules.model_validate(data)


def points_rules(settings: Settings, community: CommunityInfo) -> PointsRules:
    """The community's XP rules: the config file's, with its `/config` values. Values that no
    longer fit the file (it changed since) are logged and the file's rules are used."""
    base = _file_rules(settings, community)
    overrides = dict(community.overrides)
    if not any(key in RULE_KEYS for key in overrides):
        return base
    try:
        return _with_rules(base, overrides)
    except ValidationError as error:
        logger.warning(
            "community %s: its /config XP rules no longer fit the config file (%s); using "
            "the file's",
            community.name,
            describe_error(error, "points"),
        )
        return base


def _field(key: str) -> tuple[type[BaseModel], str]:
    if key.startswith("points.curve."):
        return CurveSettings, key.removeprefix("points.curve.")
    return PointsRules, key.removeprefix("points.")


def _typed(key: str, text: str) -> Any:
    """`text` as the field's type: lists split at commas, everything else as the config
    file's environment overrides are read (pydantic's lax mode: "30", "on", "exponential")."""
    model, name = _field(key)
    annotation = model.model_fields[name].annotation
    if annotation == tuple[str, ...]:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def parse_override(settings: Settings, community: CommunityInfo, key: str, text: str) -> Any:
    """The value to store for `key` (typed as the config file has it), checked against the
    community's other settings.

    Raises:
        OverrideError: unknown key or invalid value; the message starts with the key.
    """
    key = key.strip().lower()
    text = text.strip()
    if key not in KEYS:
        raise OverrideError(f"{key}: unknown setting; one of {', '.join(KEYS)}")
    if key.endswith(".enabled"):
        try:
            return _SWITCH.validate_python(text)
        except ValidationError:
            raise OverrideError(f"{key}: use on or off") from None
    base = _file_rules(settings, community)
    value = _typed(key, text)
    current = {k: v for k, v in community.overrides if k in RULE_KEYS}
    try:
        checked = _with_rules(base, current | {key: value})
    except ValidationError as error:
        raise OverrideError(describe_error(error, "points")) from None
    model, name = _field(key)
    found = checked.curve if model is CurveSettings else checked
    stored = getattr(found, name)
    return list(stored) if isinstance(stored, tuple) else stored


def check_reset(settings: Settings, community: CommunityInfo, key: str) -> None:
    """Check that the community's other XP values still fit without its value for `key`.

    Raises:
        OverrideError: they would not (e.g. message_xp_min above the file's message_xp_max).
    """
    rest = {k: v for k, v in community.overrides if k in RULE_KEYS and k != key}
    try:
        _with_rules(_file_rules(settings, community), rest)
    except ValidationError as error:
        raise OverrideError(describe_error(error, "points")) from None


def shown_value(value: Any) -> str:
    """A setting's value as `/config` and the dashboard show it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value != "" else "—"


def effective(settings: Settings, community: CommunityInfo, key: str) -> Any:
    """The value `key` has in `community` now."""
    if key.endswith(".enabled"):
        return is_on(settings, community, key.removesuffix(".enabled"))
    rules = points_rules(settings, community)
    model, name = _field(key)
    return getattr(rules.curve if model is CurveSettings else rules, name)


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting as a community has it: its key, value (as shown) and where it comes from:
    ``file``, ``here`` (`/config`) or ``file-off`` (a switch the config file turned off)."""

    key: str
    value: str
    source: Literal["file", "here", "file-off"]


_SOURCES = {
    "file": N_("config file"),
    "here": N_("set here"),
    "file-off": N_("off in the config file"),
}


def settings_of(
    settings: Settings, community: CommunityInfo, only: str | None = None
) -> list[Setting]:
    """Every setting of `community` (or `only` that one), in `KEYS` order."""
    found = []
    for key in KEYS if only is None else (only,):
        value = shown_value(effective(settings, community, key))
        feature = key.removesuffix(".enabled")
        if key.endswith(".enabled") and not configured(settings, community, feature):
            found.append(Setting(key, value, "file-off"))
        else:
            found.append(
                Setting(key, value, "here" if community.override(key) is not None else "file")
            )
    return found


def setting_lines(
    settings: Settings, community: CommunityInfo, tr: Translator, *, only: str | None = None
) -> list[str]:
    """``key = value (where it comes from)`` for every setting, or `only` one."""
    return [
        f"{s.key} = {s.value} ({tr(_SOURCES[s.source])})"
        for s in settings_of(settings, community, only)
    ]
