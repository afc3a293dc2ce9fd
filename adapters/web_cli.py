"""`hearth web` (serve the dashboard on its own) and `hearth web link` (a sign-in link for
the operator)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from bot.bootstrap import build_engine, build_services
from bot.config import Settings
from bot.events import Role
from bot.features.dashboard import issue_link
from storage.web import Holder

__all__ = ["add_web_parser", "run_web"]


def add_web_parser(commands: Any) -> None:
    """Add `web` (serve) and `web link --community NAME` to the `hearth` parser."""
    parser = commands.add_parser("web", help="serve the web dashboard from the database")
    parser.add_argument("--config", type=Path, help="TOML settings file")
    actions = parser.add_subparsers(dest="web_command", metavar="ACTION")
    link = actions.add_parser("link", help="print a one-time sign-in link with admin rights")
    link.add_argument(
        "--community", help="community name or platform:group-id (optional when only one)"
    )
    link.add_argument("--config", type=Path, help="TOML settings file")


async def run_web(settings: Settings, options: Any) -> int:
    """`hearth web [link]`: serve until SIGINT/SIGTERM, or print a link."""
    if options.web_command == "link":
        return await _link(settings, options.community)
    # This process only answers pages: the bot's processes post schedules and digests.
    schedule = settings.schedule.model_copy(update={"worker": False})
    settings = settings.model_copy(update={"schedule": schedule})
    from web.server import serving

    engine = build_engine(settings)
    await engine.start()
    try:
        async with serving(engine, settings):
            print(
                f"hearth: dashboard on http://{settings.web.listen} (links point to "
                f"{settings.web.base_url}); Ctrl-C stops it",
                file=sys.stderr,
            )
            await _until_stopped()
    finally:
        await engine.stop()
    return 0


async def _link(settings: Settings, name: str | None) -> int:
    services = build_services(settings)
    try:
        await services.database.upgrade()
        community = await services.directory.find_community(name)
        holder = Holder(community.id, None, int(Role.ADMIN))
        link = await issue_link(services.database, services.clock, settings.web, holder)
    finally:
        await services.database.close()
    print(link)
    print(
        f"hearth: signs in once to {community.name!r} with admin rights, within 10 minutes",
        file=sys.stderr,
    )
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
