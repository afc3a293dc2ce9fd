"""Leaderboards: this week, this month and all time, for moderators; and the public page of
each community (`web.public_leaderboard`), with names and levels only."""

from __future__ import annotations

from aiohttp import web

from bot.events import Role
from bot.features.points.rules import period_keys
from storage.identity import get_community
from storage.points import Standing, top_members
from web.auth import community_of, require
from web.render import ACCESS, community, page

__all__ = ["PERIODS", "ROUTES"]

ROUTES = web.RouteTableDef()
PERIODS = ("week", "month", "all")
SHOWN = 100


async def _standings(
    request: web.Request, community_id: int, timezone: str
) -> tuple[str, list[Standing]]:
    period = request.query.get("period", "week")
    if period not in PERIODS:
        raise web.HTTPNotFound()
    access = request.app[ACCESS]
    keys = dict(period_keys(access.clock.now(), timezone))
    key = None if period == "all" else (period, keys[period])
    async with access.database.session() as session:
        top = await top_members(session, community_id=community_id, period=key, limit=SHOWN)
    return period, top


@ROUTES.get("/c/{community}/leaderboard")
@require(Role.MODERATOR)
async def leaderboard(request: web.Request) -> web.StreamResponse:
    """The top members of the chosen period, with levels and XP."""
    info = await community(request)
    period, top = await _standings(request, info.id, info.timezone)
    return page(request, "leaderboard.html", info=info, period=period, top=top, public=False)


@ROUTES.get("/p/{community}/leaderboard")
async def public(request: web.Request) -> web.StreamResponse:
    """The public leaderboard (no sign-in): only when `web.public_leaderboard` is on."""
    access = request.app[ACCESS]
    if not access.settings.public_leaderboard:
        raise web.HTTPNotFound()
    async with access.database.session() as session:
        info = await get_community(session, community_id=community_of(request))
    if info is None:
        raise web.HTTPNotFound()
    period, top = await _standings(request, info.id, info.timezone)
    return page(request, "leaderboard.html", info=info, period=period, top=top, public=True)
