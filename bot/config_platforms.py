"""Settings of where Hearth connects: Discord, Telegram and the web dashboard (part of
`bot.config`, which re-exports them)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DiscordSettings", "Section", "TelegramSettings", "WebSettings"]


class Section(BaseModel):
    """A settings section: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Section = Section
_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.-]+")
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


class DiscordSettings(_Section):
    """Discord bot credentials, permissions mapping and sharding."""

    token: str = ""
    #: Members with any of these role names (or ids) count as admins / moderators, besides
    #: Manage Server (admin) and Manage Messages (moderator).
    admin_roles: tuple[str, ...] = ()
    moderator_roles: tuple[str, ...] = ()
    #: Answer personal commands (like /rank) with ephemeral messages only the caller sees.
    ephemeral_replies: bool = True
    #: Sync slash commands to every guild at start (fast); global sync is `hearth discord sync`.
    sync_commands_at_start: bool = True
    #: Sharding for several processes on one bot: total shards and the ids this process runs.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: tuple[int, ...] = ()
    #: After every start and reconnect, read each channel's history after its last logged
    #: message (Discord never redelivers): at most this many hours back and this many
    #: messages per channel; 0 in either turns the backfill off.
    backfill_hours: float = Field(default=24, ge=0)
    backfill_messages: int = Field(default=5000, ge=0)

    @model_validator(mode="after")
    def _shards_in_range(self) -> DiscordSettings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("shard_ids needs shard_count")
        if self.shard_count is not None and any(
            not 0 <= shard < self.shard_count for shard in self.shard_ids
        ):
            raise ValueError(f"shard_ids must each be between 0 and {self.shard_count - 1}")
        return self


class TelegramSettings(_Section):
    """Telegram bot credentials, Bot API address and update delivery."""

    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    #: Receive updates by webhook at this public https URL instead of long polling.
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    #: Telegram sends it with every webhook request; requests without it are rejected.
    webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")
    #: How long a member's admin/moderator status from getChatMember is trusted.
    admin_cache_seconds: int = Field(default=300, ge=0, le=86400)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        if self.webhook_url and not self.webhook_url.startswith("https://"):
            raise ValueError("webhook_url must start with https:// (Telegram requires TLS)")
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_url needs webhook_secret (letters, digits, _ and -)")
        return self


class WebSettings(_Section):
    """The web dashboard (`hearth web`, or inside `hearth run` when enabled)."""

    #: Serve the dashboard from `hearth run` too (`hearth web` serves it on its own).
    enabled: bool = False
    #: host:port to listen on; put a reverse proxy with https in front for the internet.
    listen: str = "127.0.0.1:8080"
    #: The address members' browsers reach (sign-in links point there); empty: http://listen.
    public_url: str = ""
    #: Publish each community's leaderboard (names and levels only) without signing in.
    public_leaderboard: bool = False
    #: A sign-in session lasts this long (the holder's role is re-checked every hour).
    session_hours: int = Field(default=12, ge=1, le=720)

    @property
    def host(self) -> str:
        """The address part of `listen`."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """The port part of `listen`."""
        return int(self.listen.rpartition(":")[2])

    @property
    def base_url(self) -> str:
        """Where sign-in links point: `public_url`, else http:// and `listen`."""
        return (self.public_url or f"http://{self.listen}").rstrip("/")

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not _HOST.fullmatch(host) or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"{value!r} is not host:port; use e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        return value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not _URL.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an http(s) address; use e.g. https://hearth.example.org"
            )
        return value
