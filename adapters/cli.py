"""The `hearth` command line: run, db upgrade, faq, digest, discord sync, check-config,
--version.

Every error is one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import select
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from adapters.base import Adapter
from adapters.console import ConsoleAdapter
from adapters.import_cli import add_import_parser, run_import
from adapters.runner import serve
from adapters.web_cli import add_web_parser, run_web
from bot import __version__
from bot.bootstrap import build_engine, build_services
from bot.clock import ShiftedClock
from bot.config import Settings, load_settings
from bot.errors import ConfigError, HearthError
from bot.features.digest.periods import KINDS, period_before, period_containing
from bot.features.digest.render import FORMATS, render
from bot.features.faq.files import export_faq, import_faq, read_entries, write_entries
from bot.features.privacy import forget_account
from bot.i18n import translator
from bot.logs import configure_logging, url_secrets
from storage.database import Database, DatabaseError

__all__ = ["main"]

logger = logging.getLogger("hearth")
EXIT_CONFIG = 2
EXIT_FAILURE = 1
#: A shell's status for a program killed by SIGPIPE (its reader went away).
EXIT_PIPE = 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Hearth: a community assistant for Discord servers and Telegram groups.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="start Hearth (the console when no token is set)")
    run.add_argument("--config", type=Path, help="TOML settings file (default ./hearth.toml)")
    run.add_argument("--console", action="store_true", help="use the console even with tokens")
    run.add_argument("--user", help="the console member's name (default: console.user)")
    run.add_argument("--admin", action="store_true", help="give the console member admin rights")
    run.add_argument("--community", help="the console's community (default: console.community)")
    run.add_argument(
        "--clock",
        type=_moment,
        metavar="TIME",
        help="start the console's clock at TIME (ISO 8601, UTC unless it has an offset); "
        "`~ +1d` lines move it on",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.add_argument("--config", type=Path, help="TOML settings file")

    discord = commands.add_parser("discord", help="Discord maintenance")
    discord_commands = discord.add_subparsers(
        dest="discord_command", metavar="ACTION", required=True
    )
    sync = discord_commands.add_parser(
        "sync", help="register slash commands globally (instead of per server at start)"
    )
    sync.add_argument("--config", type=Path, help="TOML settings file")

    faq = commands.add_parser("faq", help="keep the FAQ in a file")
    faq_commands = faq.add_subparsers(dest="faq_command", metavar="ACTION", required=True)
    for action, text in (
        ("import", "add or update entries from a YAML or CSV file (idempotent)"),
        ("export", "write the entries to a YAML file (CSV for a .csv name)"),
    ):
        sub = faq_commands.add_parser(action, help=text)
        sub.add_argument("file", type=Path, help="the YAML (.yaml/.yml) or CSV (.csv) file")
        sub.add_argument(
            "--community",
            help="community name, or platform:group-id such as telegram:-1001234567890 "
            "(optional when there is only one)",
        )
        sub.add_argument("--config", type=Path, help="TOML settings file")

    digest = commands.add_parser("digest", help="print a community's digest from the database")
    digest.add_argument(
        "--community", help="community name or platform:group-id (optional when only one)"
    )
    digest.add_argument("--period", choices=KINDS, default="day", help="day, week or month")
    digest.add_argument(
        "--date",
        type=date.fromisoformat,
        help="a local day in the period (YYYY-MM-DD; default: the last complete period)",
    )
    digest.add_argument("--format", choices=FORMATS, default="text", help="markup of the report")
    digest.add_argument("--charts", type=Path, metavar="DIR", help="also write PNG charts here")
    digest.add_argument("--config", type=Path, help="TOML settings file")

    forget = commands.add_parser("forget", help="delete a user's texts and names everywhere")
    forget.add_argument("--platform", required=True, choices=("discord", "telegram", "console"))
    forget.add_argument("--user", required=True, help="the platform's user id")
    forget.add_argument("--config", type=Path, help="TOML settings file")

    add_import_parser(commands)
    add_web_parser(commands)

    check = commands.add_parser("check-config", help="validate a settings file and exit")
    check.add_argument("path", nargs="?", type=Path, help="file to check (default ./hearth.toml)")
    return parser


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _configure_logging(settings: Settings) -> None:
    secrets = [settings.discord.token, settings.telegram.token, settings.telegram.webhook_secret]
    secrets += url_secrets(settings.database.url)
    configure_logging(settings.logging.level, secrets)


def _adapters(
    settings: Settings, options: argparse.Namespace, clock: ShiftedClock
) -> list[Adapter]:
    """The platform adapters whose tokens are set, or the console (always with --console)."""
    adapters: list[Adapter] = []
    if not options.console:
        if settings.telegram.token:
            from adapters.telegram_adapter import TelegramAdapter

            adapters.append(TelegramAdapter(settings, clock))
        if settings.discord.token:
            from adapters.discord_adapter import DiscordAdapter

            adapters.append(DiscordAdapter(settings, clock))
    if adapters:
        return adapters
    return [
        ConsoleAdapter(
            community=options.community or settings.console.community,
            user=options.user or settings.console.user,
            admin=options.admin or settings.console.admin,
            clock=clock,
        )
    ]


async def _run(settings: Settings, options: argparse.Namespace) -> int:
    # One clock for the engine and the console, which may move it (`~ +1d`, --clock).
    clock = ShiftedClock()
    if options.clock is not None:
        clock.set(options.clock)
    engine = build_engine(settings, clock=clock)
    adapters = _adapters(settings, options, clock)
    if not settings.web.enabled:
        return await serve(engine, adapters)
    from web.server import serving

    async with serving(engine, settings):
        return await serve(engine, adapters)


async def _sync_discord(settings: Settings) -> None:
    from adapters.discord_adapter import sync_global_commands

    engine = build_engine(settings)
    try:
        count = await sync_global_commands(settings, engine)
    finally:
        await engine.services.database.close()
    print(f"registered {count} slash commands globally (Discord may take a while to show them)")


async def _faq(settings: Settings, options: argparse.Namespace) -> None:
    entries = read_entries(options.file) if options.faq_command == "import" else []
    services = build_services(settings)
    database = services.database
    try:
        await database.upgrade()
        community = await services.directory.find_community(options.community)
        if options.faq_command == "import":
            report = await import_faq(database, community.id, entries, services.clock.now())
            print(
                f"{options.file} → {community.name!r}: {report.added} added, "
                f"{report.updated} updated, {report.unchanged} unchanged"
            )
            return
        current = await export_faq(database, community.id)
    finally:
        await database.close()
    write_entries(options.file, current)
    print(f"{community.name!r} → {options.file}: {len(current)} entries")


async def _digest(settings: Settings, options: argparse.Namespace) -> None:
    from bot.features.digest.charts import activity_chart, heatmap_chart
    from bot.features.digest.feature import DigestFeature
    from bot.features.digest.metrics import daily_series

    services = build_services(settings)
    database = services.database
    try:
        await database.upgrade()
        community = await services.directory.find_community(options.community)
        zone = community.timezone
        if options.date is None:
            period = period_before(options.period, services.clock.now(), zone)
        else:
            period = period_containing(options.period, options.date, zone)
        report = await DigestFeature(services).report(community, period)
        series = []
        if options.charts is not None:
            series = await daily_series(database, community_id=community.id, period=period)
    finally:
        await database.close()
    tr = translator(community.language)
    print(render(report, settings.digest, tr, options.format))
    if options.charts is not None:
        options.charts.mkdir(parents=True, exist_ok=True)
        for path in (
            activity_chart(series, options.charts / "activity.png", tr),
            heatmap_chart(report.matrix, options.charts / "heatmap.png", tr),
        ):
            print(f"chart: {path}", file=sys.stderr)


async def _forget(settings: Settings, platform: str, user: str) -> None:
    services = build_services(settings)
    try:
        await services.database.upgrade()
        count = await forget_account(services, platform, user)
    finally:
        await services.database.close()
    print(f"forgot {platform} user {user} in {count} communities")


async def _upgrade(settings: Settings) -> None:
    database = Database(settings.database.url)
    try:
        await database.upgrade()
        revision = await database.current_revision()
    finally:
        await database.close()
    print(f"database {database.safe_url} is at revision {revision}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hearth` console script; returns the exit status."""
    status = _command(argv)
    try:
        sys.stdout.flush()  # now, not at exit, so that a reader gone away is handled here
    except BrokenPipeError:
        return _stdout_gone()
    return status


def _stdout_gone() -> int:
    """The reader of standard output went away (`hearth digest | head`): stop without a
    message and with a SIGPIPE death's status, as Unix tools do."""
    try:
        # The interpreter flushes stdout once more at exit: let that go nowhere, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing is flushed at exit
    return EXIT_PIPE


def _nobody_reads_stdout() -> bool:
    """Whether the reader of standard output went away (rather than a network peer)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        fd = -1
    if fd >= 0 and hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _fd, event in poller.poll(0))
    try:  # not a file descriptor: a stream that failed once keeps failing
        sys.stdout.flush()
    except OSError:
        return True
    return False


def _os_error(error: OSError) -> int:
    """The exit status and message of an operating-system error that ended a command."""
    if isinstance(error, BrokenPipeError) and _nobody_reads_stdout():
        return _stdout_gone()
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror):
        print(f"hearth: network error: {error or type(error).__name__}", file=sys.stderr)
    else:
        print(f"hearth: error: {error}", file=sys.stderr)
    return EXIT_FAILURE


def _command(argv: Sequence[str] | None) -> int:
    options = _parser().parse_args(argv)
    try:
        if options.command == "check-config":
            settings = load_settings(options.path)
            print(f"{options.path or 'hearth.toml (or built-in defaults)'}: OK")
            return 0
        settings = load_settings(options.config)
        _configure_logging(settings)
        if options.command == "db":
            asyncio.run(_upgrade(settings))
            return 0
        if options.command == "forget":
            asyncio.run(_forget(settings, options.platform, options.user))
            return 0
        if options.command == "faq":
            asyncio.run(_faq(settings, options))
            return 0
        if options.command == "digest":
            asyncio.run(_digest(settings, options))
            return 0
        if options.command == "import":
            return asyncio.run(run_import(settings, options))
        if options.command == "web":
            return asyncio.run(run_web(settings, options))
        if options.command == "discord":
            asyncio.run(_sync_discord(settings))
            return 0
        return asyncio.run(_run(settings, options))
    except ConfigError as error:
        print(f"hearth: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseError as error:
        print(f"hearth: database error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except HearthError as error:
        print(f"hearth: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:  # TimeoutError too
        return _os_error(error)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
