"""Play a console script against an engine, as `hearth run` would with input piped in."""

from __future__ import annotations

import io
from typing import Any, TextIO

from adapters.console import PREFIX, ConsoleAdapter
from adapters.runner import serve
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.config import Settings
from tests.conftest import make_settings


async def play(
    url: str,
    clock: ManualClock,
    script: str | TextIO,
    *,
    admin: bool = True,
    user: str = "you",
    community: str = "console",
    raw: bool = False,
    interactive: bool | None = False,
    settings: Settings | None = None,
    **sections: dict[str, Any],
) -> list[str]:
    """Run one console session on `url` fed `script`; the lines Hearth wrote, unprefixed.

    Args:
        url: The database; the settings are `make_settings(url, **sections)`.
        clock: The engine's and the console's clock (``~`` lines move it).
        script: The console input, one line per message, command or move; or a stream to
            read it from (e.g. one with bytes that are not UTF-8).
        admin: Whether the console member (`user`) is an admin.
        user: The console member's name.
        community: The console group's name.
        raw: Keep the ``hearth> `` prefix on each line.
        interactive: As `ConsoleAdapter` takes it (None: ask the stream whether it is a tty).
        settings: Settings built elsewhere, used instead of `make_settings(url, **sections)`.
        **sections: Settings sections for `make_settings`.
    """
    if settings is not None and sections:
        raise TypeError("play takes settings or sections, not both")
    engine = build_engine(
        settings if settings is not None else make_settings(url, **sections), clock=clock
    )
    out = io.StringIO()
    console = ConsoleAdapter(
        community=community,
        user=user,
        admin=admin,
        clock=clock,
        stdin=io.StringIO(script) if isinstance(script, str) else script,
        stdout=out,
        interactive=interactive,
    )
    assert await serve(engine, [console]) == 0
    lines = out.getvalue().splitlines()
    return lines if raw else [line.removeprefix(PREFIX) for line in lines]
