"""The engine's command registry as Telegram command menus (`setMyCommands`)."""

from __future__ import annotations

import re

from telegram import BotCommand

from bot.commands import Command, CommandRegistry
from bot.events import Role
from bot.i18n import LANGUAGES, translator

__all__ = ["PRIVATE_COMMANDS", "command_menus"]

_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
#: Commands that also work in a private chat with the bot (the adapter answers them there).
PRIVATE_COMMANDS = ("mydata", "subscribe", "unsubscribe")
DESCRIPTION_LIMIT = 256


def _entries(commands: list[Command], language: str) -> list[BotCommand]:
    """One menu entry per top-level command or command group."""
    tr = translator(language)
    grouped: dict[str, list[Command]] = {}
    for command in commands:
        grouped.setdefault(command.group or command.name, []).append(command)
    entries = []
    for name, members in sorted(grouped.items()):
        if not _NAME.match(name):
            continue
        if len(members) == 1 and members[0].group is None:
            description = tr(members[0].help)
        else:
            description = " · ".join(sorted(command.name for command in members))
        entries.append(BotCommand(name, description[:DESCRIPTION_LIMIT] or name))
    return entries


def command_menus(
    registry: CommandRegistry,
) -> list[tuple[str, list[BotCommand], list[BotCommand], list[BotCommand]]]:
    """For each shipped language: (language, what members see, what chat admins see, what
    a private chat with the bot offers)."""
    members = registry.visible_to(Role.MEMBER)
    admins = registry.visible_to(Role.ADMIN)
    private = [c for c in admins if c.group is None and c.name in PRIVATE_COMMANDS]
    return [
        (
            language,
            _entries(members, language),
            _entries(admins, language),
            _entries(private, language),
        )
        for language in LANGUAGES
    ]
