"""Forms that change something run the same commands a chat does, through the engine.

So a form is validated by the same code as `/faq add` or `/schedule add` (the same error
wording), the engine enforces the role every command needs, and the bot's own state (the FAQ
index, the schedule loop) follows at once when the dashboard runs inside `hearth run`.
"""

from __future__ import annotations

from aiohttp import web

from bot.engine import Engine
from bot.events import Author, CommandInvoked, Place, Role
from storage.identity import community_groups
from storage.web import SessionInfo
from web.render import ACCESS

__all__ = ["ENGINE", "OPERATOR", "run_command"]

ENGINE: web.AppKey[Engine] = web.AppKey("engine", Engine)
#: Who `hearth web link` signs in: a stand-in account, a bot so it is never counted.
OPERATOR = Author(user_id="hearth-operator", name="Hearth operator", is_bot=True)


async def run_command(
    request: web.Request, line: str, *, channel: str | None = None
) -> tuple[bool, str]:
    """Run `line` (``faq add question | answer``) as the session's holder in their group
    (in `channel` of it, for commands that act where they are run). Returns whether it
    did what was asked and what Hearth answered."""
    current: SessionInfo = request["session"]
    holder = current.holder
    access = request.app[ACCESS]
    async with access.database.session() as session:
        groups = await community_groups(session, community_id=holder.community_id)
    mine = [g for g in groups if g[0] == holder.platform] or groups
    if not mine:
        raise web.HTTPNotFound()
    platform, group_id = mine[0]
    invoker = OPERATOR
    if holder.member_id is not None and holder.user_id is not None:
        invoker = Author(user_id=holder.user_id, name=holder.user_id)
    name, _, args = line.strip().partition(" ")
    event = CommandInvoked(
        place=Place(platform, group_id, channel or group_id),
        invoker=invoker,
        name=name,
        args=args.strip(),
        sent_at=access.clock.now(),
        invoker_role=Role(holder.role),
    )
    return await request.app[ENGINE].command(event)
