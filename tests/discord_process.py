"""`hearth run` in a subprocess, its discord.py pointed at a fake Discord.

``python -m tests.discord_process [hearth run options]`` runs `adapters.cli.main` unchanged
after pointing discord.py's REST base and gateway at the addresses in ``FAKE_DISCORD_API``
and ``FAKE_DISCORD_GATEWAY`` (Discord's addresses are not settings), with the two waits a
test cannot afford: the 5 s between IDENTIFYs (Discord's rate limit, which the fake does not
have) and the 2 s discord.py waits for more guilds after READY.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import discord
import yarl

from adapters import cli
from adapters.discord_adapter import DiscordAdapter


async def _identify_at_once(self: discord.Client, shard_id: int | None, *, initial: bool) -> None:
    """No wait before an IDENTIFY."""


def _point_at_fake() -> None:
    discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
    gateway = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
    discord.Client.before_identify_hook = _identify_at_once  # type: ignore[method-assign]
    discord.AutoShardedClient.before_identify_hook = _identify_at_once  # type: ignore[method-assign]
    build = DiscordAdapter.__init__

    def quick_ready(self: DiscordAdapter, *args: Any, **kwargs: Any) -> None:
        kwargs["client_options"] = {"guild_ready_timeout": 0.05, **kwargs.get("client_options", {})}
        build(self, *args, **kwargs)

    DiscordAdapter.__init__ = quick_ready  # type: ignore[method-assign]


if __name__ == "__main__":
    _point_at_fake()
    sys.exit(cli.main(["run", *sys.argv[1:]]))
