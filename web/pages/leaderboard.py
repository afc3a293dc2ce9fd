"""Leaderboards: this week, this month and all time, a page at a time, for moderators; and
the public page of each community (`web.public_leaderboard`), with names and levels only."""

from __future__ import annotations

from typing import cast

from aiohttp import web

from bot.events import Role
from storage.dashboard import Board, BoardPeriod
from storage.dashboard import leaderboard as read_board
from storage.identity import CommunityInfo, get_community
from web.auth import community_of, require
from web.render import ACCESS, community, page

__all__ = ["PERIODS", "ROUTES"]

ROUTES = web.RouteTableDef()
PERIODS = ("week", "month", "all")
PER_PAGE = 50


async def _board(request: web.Request, info: CommunityInfo) -> tuple[Board, int]:
    """The page of the period the address asks for (404 for any other)."""
    period = request.query.get("period", "week")
    number = request.query.get("page", "1")
    if period not in PERIODS or not number.isdigit() or int(number) < 1:
        raise web.HTTPNotFound()
    access = request.app[ACCESS]
    async with access.database.session() as session:
        board = await read_board(
            session,
            community_id=info.id,
            period=cast(BoardPeriod, period),
            now=access.clock.now(),
            timezone=info.timezone,
            limit=PER_PAGE,
            offset=(int(number) - 1) * PER_PAGE,
        )
    return board, int(number)


def _show(
    request: web.Request, info: CommunityInfo, board: Board, number: int, public: bool
) -> web.Response:
    pages = max(1, -(-board.ranked // PER_PAGE))
    return page(
        request,
        "leaderboard.html",
        info=info,
        board=board,
        number=number,
        pages=pages,
        public=public,
    )


@ROUTES.get("/c/{community}/leaderboard")
@require(Role.MODERATOR)
async def leaderboard(request: web.Request) -> web.StreamResponse:
    """The top members of the chosen period, with levels and XP."""
    info = await community(request)
    board, number = await _board(request, info)
    return _show(request, info, board, number, public=False)


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
    board, number = await _board(request, info)
    return _show(request, info, board, number, public=True)
