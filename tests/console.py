"""Play a console script against an engine, as `hearth run` would with input piped in."""

from __future__ import annotations

import io
from typing import Any

from adapters.console import PREFIX, ConsoleAdapter
from adapters.runner import serve
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from tests.conftest import make_settings


async def play(
    url: str,
    clock: ManualClock,
    script: str,
    *,
    admin: bool = True,
    user: str = "you",
    community: str = "console",
    **sections: dict[str, Any],
) -> list[str]:
    """Run one console session on `url` fed `script`; the lines Hearth wrote, unprefixed."""
    engine = build_engine(make_settings(url, **sections), clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(
        community=community,
        user=user,
        admin=admin,
        clock=clock,
        stdin=io.StringIO(script),
        stdout=out,
        interactive=False,
    )
    assert await serve(engine, [console]) == 0
    return [line.removeprefix(PREFIX) for line in out.getvalue().splitlines()]
