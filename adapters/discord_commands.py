"""Slash commands: the engine's command registry as Discord application commands, and back.

Each command is declared once, in its feature. `command_payloads` renders the registry as the
JSON of Discord's bulk-overwrite endpoint (synced per guild at start, or globally with
`sync_global_commands`); `invocation` turns an interaction's options back into the raw
argument string the engine parses; `Interactions` answers within Discord's time limit.

Rendering rules:

- ``/faq add`` (a command with ``group``) is a subcommand of the top-level ``/faq``;
  other commands are top-level.
- Option types follow `ParamKind`: member → user, integer → integer with min/max,
  channel → channel, role → role, word/text → string (with choices when the parameter
  has them); a variadic parameter is one string option holding every value.
- Descriptions are the registry's English help, with a ``zh-CN`` localization from the
  zh_Hans catalog.
- ``default_member_permissions`` hides admin commands (Manage Server) and moderator commands
  (Manage Messages) from members in Discord's UI. Discord sets it per top-level command, so
  a group takes the lowest role among its subcommands. It is only a UI hint: the engine checks
  the invoker's role on every call.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import discord

from adapters.chunks import split_message
from bot.commands import Command, CommandRegistry, Param, ParamKind
from bot.config import DiscordSettings
from bot.errors import ConfigError, HearthError
from bot.events import Author, CommandInvoked, Place, Reply, Role
from bot.i18n import translator

__all__ = [
    "ADMINISTRATOR",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MESSAGE_LIMIT",
    "PLATFORM",
    "Interactions",
    "author_of",
    "command_event",
    "command_payloads",
    "invocation",
    "invoker_role",
    "place_of",
    "raw_arguments",
    "sync_global_commands",
    "sync_guild_commands",
]

logger = logging.getLogger(__name__)

PLATFORM = "discord"

JSON = dict[str, Any]
# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
_REQUIRED_PERMISSION = {Role.MODERATOR: MANAGE_MESSAGES, Role.ADMIN: MANAGE_GUILD}
# Application command option types.
SUB_COMMAND, STRING, INTEGER, USER, CHANNEL, ROLE = 1, 3, 4, 6, 7, 8
_OPTION_TYPE = {
    ParamKind.WORD: STRING,
    ParamKind.TEXT: STRING,
    ParamKind.INTEGER: INTEGER,
    ParamKind.MEMBER: USER,
    ParamKind.CHANNEL: CHANNEL,
    ParamKind.ROLE: ROLE,
}
_MENTION = {USER: "<@{}>", CHANNEL: "<#{}>", ROLE: "<@&{}>"}
DESCRIPTION_LIMIT = 100
MESSAGE_LIMIT = 2000
_NO_PINGS = discord.AllowedMentions.none()
CHOICE_LIMIT = 25
#: Subcommand names for a command named like its group, first free one wins.
_BARE_NAMES = ("show", "view", "info")
#: Discord locale -> Hearth catalog, for description localizations.
LOCALIZED = {"zh-CN": "zh_Hans"}
_INVALID_NAME_CHARS = re.compile(r"[^\w-]")
_QUOTES = ('"', "'", "“", "「", "‘")
_CLOSING = {'"': '"', "'": "'", "“": "”", "「": "」", "‘": "’"}


def option_name(name: str) -> str:
    """A registry name as a Discord option or command name (lowercase, 1-32 characters)."""
    cleaned = _INVALID_NAME_CHARS.sub("_", name.strip().lower())
    return cleaned[:32] or "_"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _describe(help_text: str, fallback: str) -> JSON:
    """English description plus localizations that differ from it."""
    english = _clip(translator("en")(help_text) if help_text else fallback)
    localized = {
        locale: _clip(translator(catalog)(help_text))
        for locale, catalog in LOCALIZED.items()
        if help_text
    }
    fields: JSON = {"description": english}
    localized = {locale: text for locale, text in localized.items() if text != english}
    if localized:
        fields["description_localizations"] = localized
    return fields


def _option(param: Param, command: Command) -> JSON:
    kind = STRING if param.variadic else _OPTION_TYPE[param.kind]
    option: JSON = {
        "type": kind,
        "name": option_name(param.name),
        "required": param.required,
        **_describe(param.help, command.usage()),
    }
    if kind == INTEGER:
        if param.minimum is not None:
            option["min_value"] = param.minimum
        if param.maximum is not None:
            option["max_value"] = param.maximum
    if kind == STRING and param.choices and len(param.choices) <= CHOICE_LIMIT:
        option["choices"] = [{"name": choice, "value": choice} for choice in param.choices]
    return option


def _options(command: Command) -> list[JSON]:
    # Discord wants required options first; values are put back in the registry's order.
    options = [_option(param, command) for param in command.params]
    return sorted(options, key=lambda option: not option["required"])


def _permissions(role: Role) -> str | None:
    bits = _REQUIRED_PERMISSION.get(role)
    return None if bits is None else str(bits)


def _grouped(registry: CommandRegistry) -> dict[str, list[Command]]:
    """Commands by top-level Discord name: a command, or a group with its subcommands."""
    grouped: dict[str, list[Command]] = {}
    commands: list[Command] = list(registry)
    for command in commands:
        grouped.setdefault(option_name(command.group or command.name), []).append(command)
    return grouped


def _subcommands(members: Sequence[Command]) -> dict[str, Command]:
    """A group's subcommands by Discord name. A command named like its group (`/levels`
    beside `/levels role`) becomes `/levels show`: Discord cannot run a command that has
    subcommands."""
    subs = {option_name(command.name): command for command in members if command.group}
    for bare in (command for command in members if command.group is None):
        names = (*_BARE_NAMES, f"{option_name(bare.name)}_")
        subs[next(name for name in names if name not in subs)] = bare
    return subs


def _top_level(name: str, members: Sequence[Command], global_scope: bool) -> JSON:
    if len(members) == 1 and members[0].group is None:
        command = members[0]
        payload: JSON = {
            "type": 1,
            "name": name,
            **_describe(command.help, command.usage()),
            "options": _options(command),
        }
    else:
        subs = sorted(_subcommands(members).items())
        payload = {
            "type": 1,
            "name": name,
            "description": _clip(" · ".join(sub for sub, _ in subs)),
            "options": [
                {
                    "type": SUB_COMMAND,
                    "name": sub,
                    **_describe(command.help, command.usage()),
                    "options": _options(command),
                }
                for sub, command in subs
            ],
        }
    payload["default_member_permissions"] = _permissions(min(c.role for c in members))
    if global_scope:
        payload["contexts"] = [0]  # guilds only: Hearth has nothing to do in DMs
    return payload


def command_payloads(registry: CommandRegistry, *, global_scope: bool = False) -> list[JSON]:
    """Every registry command as Discord's bulk-overwrite JSON, sorted by name.

    Args:
        registry: the engine's commands.
        global_scope: for global commands (adds ``contexts``: guilds only); guild commands
            leave it out.
    """
    grouped = sorted(_grouped(registry).items())
    return [_top_level(name, members, global_scope) for name, members in grouped]


def invocation(registry: CommandRegistry, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The engine's ``(name, args)`` for an application command's interaction ``data``.

    Returns None for a command the registry does not have (a stale registration).
    """
    members = _grouped(registry).get(str(data.get("name", "")), [])
    options: list[Mapping[str, Any]] = list(data.get("options") or [])
    if options and options[0].get("type") == SUB_COMMAND:
        command = _subcommands(members).get(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    else:
        command = next((member for member in members if member.group is None), None)
    if command is None:
        return None
    values = {str(option["name"]): _as_text(option) for option in options}
    args = raw_arguments(command, values)
    if command.group is not None:
        return command.group, f"{command.name} {args}".strip()
    return command.name, args


def _as_text(option: Mapping[str, Any]) -> str:
    value = option.get("value", "")
    template = _MENTION.get(int(option.get("type", STRING)))
    return template.format(value) if template else str(value)


def _quoted(value: str) -> str:
    """A single token the engine's tokenizer reads back as `value`."""
    needs_quotes = not value or any(c.isspace() for c in value) or value.startswith(_QUOTES)
    if not needs_quotes:
        return value
    for opening in _QUOTES:
        if _CLOSING[opening] not in value:
            return f"{opening}{value}{_CLOSING[opening]}"
    return value  # contains every closing quote: cannot be one token, pass it as typed


def raw_arguments(command: Command, values: Mapping[str, str]) -> str:
    """Join option values (by option name) into the text the engine parses, in param order.

    With a separator the values are joined by it; otherwise each value is one token (quoted
    when it has spaces), the last TEXT or variadic one is passed as typed, and a skipped
    optional parameter before a given one becomes ``""`` so later values keep their place.
    """
    given = [values.get(option_name(param.name)) for param in command.params]
    while given and given[-1] is None:
        given.pop()
    if command.separator:
        return f" {command.separator} ".join(value or "" for value in given).strip()
    parts = []
    for index, value in enumerate(given):
        param = command.params[index]
        last = index == len(command.params) - 1
        if value is not None and last and (param.variadic or param.kind is ParamKind.TEXT):
            parts.append(value)
        else:
            parts.append(_quoted(value or ""))
    return " ".join(parts)


def invoker_role(
    permissions: int, roles: Iterable[tuple[str, str]], settings: DiscordSettings
) -> Role:
    """The invoker's Hearth role from their guild permissions and roles.

    Administrator or Manage Server makes an admin, Manage Messages a moderator; so does a role
    listed in ``discord.admin_roles`` / ``discord.moderator_roles`` by name (any case) or id.

    Args:
        permissions: the member's permission bits in the channel.
        roles: the member's roles as ``(id, name)`` pairs.
        settings: the Discord settings with the configured role lists.
    """
    owned = {key for role_id, name in roles for key in (role_id, name.casefold())}

    def listed(configured: Iterable[str]) -> bool:
        return any(entry.strip().casefold() in owned for entry in configured)

    if permissions & (ADMINISTRATOR | MANAGE_GUILD) or listed(settings.admin_roles):
        return Role.ADMIN
    if permissions & MANAGE_MESSAGES or listed(settings.moderator_roles):
        return Role.MODERATOR
    return Role.MEMBER


@dataclass
class _Pending:
    """A slash command being answered: its interaction and how far the answer got."""

    interaction: discord.Interaction
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    deferred: bool = False
    answered: bool = False


class Interactions:
    """Answers slash commands with interaction responses, deferring when the engine is slow.

    Discord wants a response within 3 s. The engine's answer is sent directly when it comes
    within `defer_after` seconds (ephemeral for ``Reply(private=True)`` when
    ``ephemeral_replies``); otherwise the command is deferred ("thinking…") and the answer
    replaces that. Discord fixes a deferred answer's visibility when deferring, so a slow
    answer is ephemeral whenever ``ephemeral_replies`` is on: a private answer is never shown
    to everyone.
    """

    def __init__(self, *, ephemeral_replies: bool, defer_after: float) -> None:
        self.ephemeral_replies = ephemeral_replies
        self.defer_after = defer_after
        self._pending: dict[str, _Pending] = {}

    async def handle(self, interaction: discord.Interaction, processing: Awaitable[None]) -> None:
        """Await `processing` (the engine handling the command) while the interaction is
        open for `answer`; defer it if processing is slow."""
        key = str(interaction.id)
        pending = self._pending[key] = _Pending(interaction)
        try:
            work = asyncio.ensure_future(processing)
            done, _ = await asyncio.wait({work}, timeout=self.defer_after)
            if not done:
                await self._defer(pending)
            await work
            if not pending.answered:
                # Nothing to say here (the command posted elsewhere, e.g. /digest's embed):
                # Discord still wants a response, so acknowledge it and take it away again.
                await self._defer(pending)
                await interaction.delete_original_response()
        except discord.HTTPException as error:
            logger.warning("discord: answering interaction %s failed: %s", key, error)
        finally:
            del self._pending[key]

    async def _defer(self, pending: _Pending) -> None:
        async with pending.lock:
            response = pending.interaction.response
            if not response.is_done():
                await response.defer(thinking=True, ephemeral=self.ephemeral_replies)
                pending.deferred = True

    async def answer(self, reply: Reply) -> bool:
        """Send `reply` as the response to its interaction; False if it answers none.

        Raises:
            discord.HTTPException: Discord refused (e.g. the interaction expired).
        """
        pending = self._pending.get(reply.message_id or "")
        if pending is None:
            return False
        interaction = pending.interaction
        ephemeral = reply.private and self.ephemeral_replies
        async with pending.lock:
            for piece in split_message(reply.text, MESSAGE_LIMIT):
                if not interaction.response.is_done():
                    await interaction.response.send_message(
                        piece, ephemeral=ephemeral, allowed_mentions=_NO_PINGS
                    )
                elif pending.deferred and not pending.answered:
                    await interaction.edit_original_response(
                        content=piece, allowed_mentions=_NO_PINGS
                    )
                else:
                    await interaction.followup.send(
                        piece, ephemeral=ephemeral, allowed_mentions=_NO_PINGS
                    )
                pending.answered = True
        return True


def place_of(
    guild_id: int, channel: object, channel_id: int, guild_name: str | None = None
) -> Place:
    """Where a message or command is: in a thread, the parent channel and the thread."""
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return Place(PLATFORM, str(guild_id), str(channel.parent_id), str(channel.id), guild_name)
    return Place(PLATFORM, str(guild_id), str(channel_id), group_name=guild_name)


def author_of(user: discord.abc.User, *, webhook: bool = False) -> Author:
    """A Discord user as an `Author` (bots and webhooks are marked ``is_bot``)."""
    return Author(str(user.id), user.display_name, is_bot=user.bot or webhook)


def command_event(
    interaction: discord.Interaction, registry: CommandRegistry, settings: DiscordSettings
) -> CommandInvoked | None:
    """The engine event for a slash command; None for anything else or outside a guild.

    A command the registry does not know (a stale registration) still reaches the engine,
    which answers it with a pointer to /help.
    """
    data = interaction.data
    if interaction.type is not discord.InteractionType.application_command:
        return None
    if data is None or interaction.guild_id is None or data.get("type", 1) != 1:
        return None  # a DM or a context-menu command: Hearth has neither
    name, args = invocation(registry, data) or (str(data.get("name", "")), "")
    user = interaction.user
    roles = [(str(role.id), role.name) for role in getattr(user, "roles", ())]
    return CommandInvoked(
        place=place_of(
            interaction.guild_id,
            interaction.channel,
            interaction.channel_id or 0,
            interaction.guild.name if interaction.guild is not None else None,
        ),
        invoker=author_of(user),
        name=name,
        args=args,
        sent_at=interaction.created_at,
        invoker_role=invoker_role(interaction.permissions.value, roles, settings),
        message_id=str(interaction.id),
    )


async def sync_guild_commands(
    client: discord.Client, guild_id: int, registry: CommandRegistry
) -> int | None:
    """Register the registry's commands in one guild (shown at once); returns how many, or
    None when Discord refused (logged: the bot lacks the applications.commands scope)."""
    if client.application_id is None:
        return None
    payload = command_payloads(registry)
    try:
        synced = await client.http.bulk_upsert_guild_commands(
            client.application_id, guild_id, cast(Any, payload)
        )
    except discord.HTTPException as error:
        logger.warning(
            "discord: cannot register slash commands in guild %s (%s); re-invite the bot "
            "with the applications.commands scope",
            guild_id,
            error,
        )
        return None
    logger.info("discord: registered %d commands in guild %s", len(synced), guild_id)
    return len(synced)


def quiet_voice_warnings() -> None:
    """Hearth has no voice features: skip discord.py's warnings about voice libraries."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False


async def sync_global_commands(token: str, registry: CommandRegistry) -> int:
    """Log in with `token` and register the registry's commands globally; returns how many.

    Raises:
        ConfigError: Discord rejected the token.
        HearthError: Discord refused the command list.
    """
    payload = command_payloads(registry, global_scope=True)
    quiet_voice_warnings()
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        async with client:
            await client.login(token)
            if client.application_id is None:  # pragma: no cover - login always sets it
                raise HearthError("Discord did not say which application the bot is")
            synced = await client.http.bulk_upsert_global_commands(
                client.application_id, cast(Any, payload)
            )
    except discord.LoginFailure:
        raise ConfigError("discord.token: Discord rejected the token") from None
    except discord.HTTPException as error:
        raise HearthError(f"Discord refused the command list: {error}") from error
    logger.info("discord: registered %d global commands", len(synced))
    return len(synced)
