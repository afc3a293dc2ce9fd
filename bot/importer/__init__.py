"""Importing chat history from Telegram Desktop and DiscordChatExporter JSON exports."""

from __future__ import annotations

from bot.importer.discord_export import DiscordExport, merged
from bot.importer.ingest import Importer, ImportSummary
from bot.importer.points import SOURCE_PREFIX
from bot.importer.progress import Progress
from bot.importer.stream import ExportError, ExportHeader, Skipped
from bot.importer.telegram_export import TelegramExport

__all__ = [
    "SOURCE_PREFIX",
    "DiscordExport",
    "ExportError",
    "ExportHeader",
    "ImportSummary",
    "Importer",
    "Progress",
    "Skipped",
    "TelegramExport",
    "merged",
]
