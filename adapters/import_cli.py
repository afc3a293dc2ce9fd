"""`hearth import telegram|discord`: chat history from export files into the activity log.

Progress goes to stderr (a bar on a terminal, a line every few seconds otherwise); the
summary goes to stdout. Nothing is sent to any platform.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.bootstrap import build_services
from bot.config import Settings
from bot.errors import HearthError
from bot.importer import (
    DiscordExport,
    ExportError,
    Importer,
    Progress,
    TelegramExport,
    merged,
)
from bot.importer.stream import Timed

__all__ = ["add_import_parser", "run_import"]


def add_import_parser(commands: Any) -> None:
    """Add `import telegram FILE` and `import discord FILE...` to the `hearth` parser."""
    parser = commands.add_parser("import", help="import chat history from export files")
    sources = parser.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    telegram = sources.add_parser(
        "telegram", help="a Telegram Desktop JSON export of one group (result.json)"
    )
    telegram.add_argument("files", nargs=1, type=Path, metavar="FILE", help="result.json")
    telegram.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="USER_ID",
        help="a Telegram user id that is a bot (repeatable): exports have no bot flag, and "
        "bots are otherwise recognised by inline buttons, their name, or Hearth having seen "
        "them live",
    )
    discord = sources.add_parser(
        "discord", help="DiscordChatExporter JSON exports (one file per channel)"
    )
    discord.add_argument("files", nargs="+", type=Path, metavar="FILE", help="channel exports")
    for sub in (telegram, discord):
        sub.add_argument(
            "--community",
            help="community name or platform:group-id to import into (default: the exported "
            "group's own community, created if Hearth has not seen the group)",
        )
        sub.add_argument(
            "--award-points",
            action="store_true",
            help="award points under the live rules: message XP, thanks and reactions received "
            "(ledger source import:…)",
        )
        sub.add_argument("--config", type=Path, help="TOML settings file")


def _open(source: str, files: list[Path], bots: list[str]) -> tuple[list[Any], Iterator[Timed]]:
    for path in files:
        if not path.is_file():
            raise HearthError(f"{path}: no such file")
    if source == "telegram":
        export = TelegramExport(files[0], bots=[bot.removeprefix("user") for bot in bots])
        return [export], export.items()
    exports = [DiscordExport(path) for path in files]
    return exports, merged(exports)


async def run_import(settings: Settings, options: argparse.Namespace) -> int:
    """Run one import; print the summary (also when the file turns out to be broken).

    Raises:
        HearthError: unreadable export (after keeping what was read), unknown community.
    """
    exports, items = _open(options.import_source, options.files, getattr(options, "bot", []))
    services = build_services(settings)
    database = services.database
    try:
        await database.upgrade()
        community = None
        if options.community:
            community = await services.directory.find_community(options.community)
        importer = Importer(services, community=community, award_points=options.award_points)
        for export in exports:
            group = await importer.open_group(export.header)
            print(
                f"{export.header.path} → community {group.community.name!r} "
                f"({export.header.platform}:{export.header.group_id})"
            )
        progress = Progress(
            sys.stderr,
            total_bytes=sum(export.reader.size for export in exports),
            position=lambda: sum(export.reader.offset for export in exports),
            tty=sys.stderr.isatty(),
        )
        try:
            await importer.run(items, progress)
        except ExportError:
            print("\n".join(["stopped early; imported so far:", *importer.summary.lines()]))
            raise
    finally:
        await database.close()
    print("\n".join(importer.summary.lines()))
    return 0
