"""The dashboard's pages, one module each; every handler declares the role it needs."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

__all__ = ["all_routes"]


def all_routes() -> list[Iterable[web.RouteDef]]:
    """The route tables of every page module."""
    from web.pages import (
        faq,
        leaderboard,
        members,
        moderation,
        overview,
        schedules,
        settings,
    )

    modules = (overview, members, faq, leaderboard, schedules, moderation, settings)
    return [module.ROUTES for module in modules]
