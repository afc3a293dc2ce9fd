"""Settings: a TOML file (default ``./hearth.toml``) over built-in defaults, plus environment
overrides for secrets and the database address.

Every key is validated at start; an invalid value raises `ConfigError` naming the key and what
is allowed, e.g. ``defaults.timezone: unknown time zone 'Mars/Base'; use an IANA name such as
'Europe/Berlin' or 'Asia/Shanghai'``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config_platforms import DiscordSettings, TelegramSettings, WebSettings
from bot.config_platforms import Section as _Section
from bot.errors import ConfigError
from bot.i18n import LANGUAGES, normalize_language

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_OVERRIDES",
    "DiscordSettings",
    "Settings",
    "TelegramSettings",
    "WebSettings",
    "describe_error",
    "load_settings",
]

DEFAULT_CONFIG_PATH = Path("hearth.toml")
#: Environment variable -> dotted config key it overrides.
ENV_OVERRIDES: Mapping[str, str] = {
    "HEARTH_DISCORD_TOKEN": "discord.token",
    "HEARTH_TELEGRAM_TOKEN": "telegram.token",
    "HEARTH_DATABASE_URL": "database.url",
}


def _more_than(field: str, other: str) -> Any:
    """A validator for a section: `field` must be more than `other` (declared before it), so
    the error names the field, as every other one does."""

    def check(value: int, info: ValidationInfo) -> int:
        below = info.data.get(other)
        if below is not None and value <= below:
            raise ValueError(f"must be more than {other} ({below})")
        return value

    return field_validator(field)(check)


class DatabaseSettings(_Section):
    """Where and how activity is stored."""

    url: str = "sqlite+aiosqlite:///hearth.db"
    batch_size: int = Field(default=500, ge=1, le=100_000)
    flush_interval: float = Field(default=1.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with 'sqlite+aiosqlite://' or 'postgresql+asyncpg://', "
                f"got {value.split('://')[0]!r}"
            )
        return value


class CommunityDefaults(_Section):
    """What a newly seen community starts with."""

    language: str = "en"
    timezone: str = "UTC"

    @field_validator("language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        resolved = normalize_language(value)
        if resolved is None:
            raise ValueError(f"unknown language {value!r}; allowed: {', '.join(LANGUAGES)}")
        return resolved

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        return validate_timezone(value)


class ActivitySettings(_Section):
    """What the activity log keeps."""

    store_message_text: bool = True
    text_retention_days: int = Field(default=30, ge=1, le=3650)


class ConsoleSettings(_Section):
    """The terminal adapter (the embedded default)."""

    user: str = Field(default="you", min_length=1, max_length=64)
    community: str = Field(default="console", min_length=1, max_length=64)
    admin: bool = False


class CurveSettings(_Section):
    """XP needed to go from level L to L+1.

    ``polynomial``: a·L² + b·L + c (MEE6: 5, 50, 100). ``exponential``: c·growth^L.
    """

    name: Literal["polynomial", "exponential"] = "polynomial"
    a: float = Field(default=5, ge=0)
    b: float = Field(default=50, ge=0)
    c: float = Field(default=100, gt=0)
    growth: float = Field(default=1.2, ge=1, le=10)


class PointsRules(_Section):
    """How members earn XP and reputation (per community, see `points.communities`)."""

    enabled: bool = True
    message_xp_min: int = Field(default=15, ge=0, le=10_000)
    message_xp_max: int = Field(default=25, ge=0, le=10_000)
    message_cooldown_seconds: int = Field(default=60, ge=0, le=86_400)
    min_message_length: int = Field(default=5, ge=0, le=1000)
    #: Media (a photo, sticker, voice note, poll, ... with or without a caption) earns message
    #: XP like a long enough message, under the same cooldown and daily cap; false: none.
    media_xp: bool = True
    repeat_window_minutes: int = Field(default=10, ge=0, le=1440)
    daily_cap: int = Field(default=1000, ge=0)
    no_xp_channels: tuple[str, ...] = ()
    thanks_xp: int = Field(default=20, ge=0, le=10_000)
    thanks_reputation: int = Field(default=1, ge=0, le=100)
    reaction_xp: int = Field(default=2, ge=0, le=1000)
    reaction_daily_cap: int = Field(default=20, ge=0)
    checkin_xp: int = Field(default=10, ge=0, le=10_000)
    checkin_streak_bonus: int = Field(default=2, ge=0, le=1000)
    checkin_streak_bonus_cap: int = Field(default=20, ge=0, le=10_000)
    curve: CurveSettings = CurveSettings()
    #: "here" (where it happened), "channel" (level_up_channel) or "off".
    level_up_message: Literal["here", "channel", "off"] = "here"
    level_up_channel: str = ""
    #: Empty: the built-in, translated message. Placeholders: {member}, {level}.
    level_up_template: str = ""
    remove_previous_level_role: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PointsRules:
        if self.message_xp_min > self.message_xp_max:
            raise ValueError("message_xp_min must not exceed message_xp_max")
        if self.level_up_message == "channel" and not self.level_up_channel:
            raise ValueError('level_up_message = "channel" needs level_up_channel')
        if self.level_up_template:
            try:
                self.level_up_template.format(member="m", level=1)
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(
                    f"level_up_template: only {{member}} and {{level}} may be used ({error})"
                ) from None
        return self


class PointsSettings(PointsRules):
    """Points defaults, with per-community overrides keyed by community name."""

    communities: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_valid(self) -> PointsSettings:
        for name in self.communities:
            try:
                self.for_community(name)
            except ValidationError as error:
                raise ValueError(f"communities.{name}: {describe_error(error)}") from None
        return self

    def for_community(self, name: str) -> PointsRules:
        """The rules of one community: the defaults with its overrides applied."""
        override = self.communities.get(name)
        base = self.model_dump(exclude={"communities"})
        if not override:
            return PointsRules.model_validate(base)
        return PointsRules.model_validate({**base, **override})


class FaqSettings(_Section):
    """When Hearth answers a question from the FAQ on its own."""

    enabled: bool = True
    #: Confidence (0-1) the best entry needs, and its lead over the second best.
    threshold: float = Field(default=0.19, ge=0, le=1)
    margin: float = Field(default=0.01, ge=0, le=1)
    #: Answer only messages that read as questions (?, how/what…, 吗/怎么/如何…).
    only_questions: bool = True
    #: The same entry is not answered again in a channel within this many minutes.
    answer_cooldown_minutes: int = Field(default=10, ge=0, le=1440)
    #: Add the sentence-embedding stage (``pip install hearth-bot[semantic]``): paraphrases
    #: with no words in common match too. It has its own threshold and margin.
    semantic: bool = False
    semantic_weight: float = Field(default=0.8, ge=0, le=1)
    semantic_threshold: float = Field(default=0.40, ge=0, le=1)
    semantic_margin: float = Field(default=0.02, ge=0, le=1)
    #: With only_questions, the semantic stage still answers other messages (requests such
    #: as "set an alarm", 帮我订机票) when its confidence reaches this; 1 turns it off.
    semantic_non_question_threshold: float = Field(default=0.55, ge=0, le=1)
    #: Stay silent when a message is closer to built-in everyday chat (greetings, thanks,
    #: "how was your day?", in English and Chinese) than to its best entry.
    semantic_small_talk: bool = True


class LoggingSettings(_Section):
    """Log output."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"


class ScheduleSettings(_Section):
    """Scheduled posts: catching up after downtime, promotion cap, retries."""

    enabled: bool = True
    #: Post due runs from this process. Several processes on one database may all do it (each
    #: run is claimed in the database); set false on a process that should only answer.
    worker: bool = True
    #: A run missed while Hearth was down still posts (once) if it is at most this late.
    grace_minutes: int = Field(default=10, ge=0, le=1440)
    #: Most posts of schedules tagged promo in any 7 days, per community; by community name.
    weekly_promo_cap: int = Field(default=3, ge=0, le=1000)
    promo_caps: dict[str, int] = Field(default_factory=dict)
    #: Delivery attempts of one run before its schedule is paused and moderators are told.
    max_attempts: int = Field(default=3, ge=1, le=20)
    #: Minutes to wait before each retry (the last value repeats).
    retry_backoff_minutes: tuple[int, ...] = Field(default=(1, 5, 15), min_length=1)
    #: Longest pause between two checks for due runs (schedules changed by another process).
    tick_seconds: float = Field(default=30.0, ge=1, le=300)
    #: The only folder `/schedule image` may post local files from (None: links only). A
    #: file must resolve inside it (no `..`, no symlink out) and be a PNG, JPEG, GIF or WebP.
    media_dir: Path | None = None
    #: Largest image posted: a linked image is fetched by Hearth and refused beyond this.
    max_image_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    #: Let image links point at this machine or a private network (loopback, 10.x, …).
    allow_private_urls: bool = False

    @field_validator("promo_caps")
    @classmethod
    def _caps_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, cap in value.items():
            if not 0 <= cap <= 1000:
                raise ValueError(f"{name}: must be between 0 and 1000, got {cap}")
        return value

    @field_validator("retry_backoff_minutes")
    @classmethod
    def _positive_waits(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= minutes <= 1440 for minutes in value):
            raise ValueError("each wait must be between 1 and 1440 minutes")
        return value

    @field_validator("media_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # An empty path would be "." — the working directory, database and all.
        return None if isinstance(value, str) and not value.strip() else value

    def promo_cap_for(self, community: str) -> int:
        """The weekly promotion cap of one community."""
        return self.promo_caps.get(community, self.weekly_promo_cap)


_RECIPIENT = re.compile(r"^[a-z]+:[^\s:]+$")
_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


class DigestSettings(_Section):
    """Digests: what they measure against, and when and to whom they are sent."""

    #: The /digest command and scheduled digests.
    enabled: bool = True
    #: Send a daily digest (of yesterday) at `daily_time`, local to the community.
    daily: bool = True
    daily_time: str = Field(default="09:00", pattern=_CLOCK)
    #: Send a weekly digest (of last week, Monday to Sunday) on `weekly_day` at `weekly_time`.
    weekly: bool = True
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_time: str = Field(default="09:00", pattern=_CLOCK)
    #: A digest missed while Hearth was down is still sent (once) if at most this late.
    grace_hours: int = Field(default=6, ge=0, le=23)
    #: By community name: "platform:user-id" of who gets each digest by direct message.
    #: Without recipients a digest goes to the moderators' channel (/modchannel).
    daily_recipients: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    weekly_recipients: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: Lifecycle windows in days: new (joined within), active (active within), at risk
    #: (active within at_risk_days but not within active_days); dormant beyond.
    new_days: int = Field(default=7, ge=1, le=365)
    active_days: int = Field(default=7, ge=1, le=365)
    at_risk_days: int = Field(default=30, ge=2, le=365)
    #: Health-check targets; a missed one is flagged in the digest.
    target_weekly_active: float = Field(default=0.60, ge=0, le=1)
    target_retention_7d: float = Field(default=0.35, ge=0, le=1)
    target_first_reply_minutes: int = Field(default=30, ge=1, le=10_080)
    #: Attach a PNG chart (30 days of activity, hour × weekday heatmap) to digests.
    charts: bool = True

    @field_validator("daily_recipients", "weekly_recipients")
    @classmethod
    def _recipients(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, recipients in value.items():
            for recipient in recipients:
                if not _RECIPIENT.match(recipient):
                    raise ValueError(
                        f"{name}: {recipient!r} is not platform:user-id, e.g. telegram:12345"
                    )
        return value

    _at_risk_after_active = _more_than("at_risk_days", "active_days")


class ModerationSettings(_Section):
    """Automatic moderation and the warning ladder. Moderators and admins are never
    auto-moderated; every action is in the audit log and can be undone (`/mod undo`)."""

    enabled: bool = True
    #: Flood: more than `flood_messages` messages in `flood_seconds` from one member.
    flood_messages: int = Field(default=6, ge=2, le=1000)
    flood_seconds: int = Field(default=10, ge=1, le=3600)
    #: A second flood within this many minutes of the first mutes for `flood_mute_minutes`.
    flood_repeat_minutes: int = Field(default=10, ge=1, le=1440)
    flood_mute_minutes: int = Field(default=10, ge=1, le=40_320)
    #: Repeated text: the same message `repeat_count` times in `repeat_seconds` (any channel);
    #: messages shorter than `repeat_min_length` characters ("ok", "lol") are not checked.
    repeat_count: int = Field(default=3, ge=2, le=100)
    repeat_seconds: int = Field(default=120, ge=1, le=86_400)
    repeat_min_length: int = Field(default=8, ge=1, le=1000)
    #: Platforms where the flood and repeat rules do not apply: the console is one person
    #: typing, or a script piped in whose lines all arrive at once.
    rate_exempt_platforms: tuple[str, ...] = ("console",)
    #: Members who joined less than this many hours ago cannot post links or invites: such
    #: messages are held (deleted and shown to moderators). 0 turns it off.
    new_member_hours: int = Field(default=24, ge=0, le=8760)
    hold_links: bool = True
    hold_invites: bool = True
    #: Warnings count for `warning_days`; `mute_after` warnings mute for `mute_minutes`;
    #: `ban_after` bans if `auto_ban`, else moderators are asked to decide.
    warning_days: int = Field(default=30, ge=1, le=3650)
    mute_after: int = Field(default=3, ge=1, le=100)
    mute_minutes: int = Field(default=60, ge=1, le=40_320)
    ban_after: int = Field(default=5, ge=1, le=100)
    auto_ban: bool = False
    #: Tell the moderators' channel at once about every automatic action.
    alerts: bool = True

    _ban_after_mute = _more_than("ban_after", "mute_after")


class Settings(_Section):
    """All of Hearth's settings."""

    database: DatabaseSettings = DatabaseSettings()
    defaults: CommunityDefaults = CommunityDefaults()
    activity: ActivitySettings = ActivitySettings()
    console: ConsoleSettings = ConsoleSettings()
    discord: DiscordSettings = DiscordSettings()
    telegram: TelegramSettings = TelegramSettings()
    points: PointsSettings = PointsSettings()
    faq: FaqSettings = FaqSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestSettings = DigestSettings()
    moderation: ModerationSettings = ModerationSettings()
    logging: LoggingSettings = LoggingSettings()
    web: WebSettings = WebSettings()


def validate_timezone(value: str) -> str:
    """Return `value` if it is an IANA time zone name, else raise `ValueError` with an example."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin' or "
            "'Asia/Shanghai'"
        ) from None
    return value


def _set_dotted(data: dict[str, Any], dotted: str, value: str) -> None:
    section, key = dotted.split(".", 1)
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"{section}: must be a table, got {type(target).__name__}")
    target[key] = value


def describe_error(error: ValidationError, prefix: str = "") -> str:
    """A validation error as the config file reports it: each problem after its dotted key
    (under `prefix`, e.g. ``points``), ``; `` between them."""
    lines = []
    for problem in error.errors():
        parts = [prefix] if prefix else []
        parts += [str(part) for part in problem["loc"]]
        key = ".".join(parts) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key (see config.example.toml for the keys Hearth reads)"
        lines.append(f"{key}: {message}")
    return "; ".join(lines)


def parse_settings(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Validate a settings mapping (as read from TOML), applying environment overrides."""
    merged: dict[str, Any] = {
        name: dict(value) if isinstance(value, Mapping) else value for name, value in data.items()
    }
    env = os.environ if environ is None else environ
    for variable, dotted in ENV_OVERRIDES.items():
        if env.get(variable):
            _set_dotted(merged, dotted, env[variable])
    try:
        return Settings.model_validate(merged)
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from `path` (or ``./hearth.toml`` if it exists, else defaults).

    Raises:
        ConfigError: the file is missing (when named explicitly), not valid TOML, or a value
            is invalid. The message names the file and the key.
    """
    explicit = path is not None
    source = path if path is not None else DEFAULT_CONFIG_PATH
    data: dict[str, Any] = {}
    if source.exists():
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{source}: not valid TOML: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{source}: cannot read: {error}") from None
    elif explicit:
        raise ConfigError(f"{source}: no such file")
    try:
        return parse_settings(data, environ)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
