"""Pages from Jinja2 templates, autoescaped, in the community's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2
from aiohttp import web

from bot.events import Role
from bot.i18n import N_, translator
from storage.identity import CommunityInfo, get_community
from storage.web import SessionInfo
from web.auth import Access, community_of

__all__ = ["ACCESS", "NAV", "NavItem", "changed_community", "community", "environment", "page"]

ACCESS: web.AppKey[Access] = web.AppKey("access", Access)
_TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
#: The `NAV` paths this app serves (a page module may be left out).
_PAGES: web.AppKey[frozenset[str]] = web.AppKey("pages", frozenset)


@dataclass(frozen=True, slots=True)
class NavItem:
    """A page in the dashboard's navigation and the role it needs."""

    path: str
    label: str
    role: Role


#: The dashboard's pages, in navigation order (paths below `/c/{community}/`).
NAV = (
    NavItem("", N_("Overview"), Role.MODERATOR),
    NavItem("members", N_("Members"), Role.MODERATOR),
    NavItem("leaderboard", N_("Leaderboard"), Role.MODERATOR),
    NavItem("faq", N_("FAQ"), Role.MODERATOR),
    NavItem("schedules", N_("Schedules"), Role.MODERATOR),
    NavItem("moderation", N_("Moderation"), Role.MODERATOR),
    NavItem("settings", N_("Settings"), Role.ADMIN),
)


def environment() -> jinja2.Environment:
    """The templates of `web/templates`, HTML-escaped unless marked safe."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = lambda name: f"/static/{name}"
    return env


async def community(request: web.Request) -> CommunityInfo:
    """The community of the address (the guard has checked the session may see it)."""
    cached: CommunityInfo | None = request.get("community")
    if cached is not None:
        return cached
    access = request.app[ACCESS]
    async with access.database.session() as session:
        info = await get_community(session, community_id=community_of(request))
    if info is None:
        raise web.HTTPNotFound()
    request["community"] = info
    return info


def changed_community(request: web.Request) -> None:
    """The community's settings changed during this request: `community()` reads them again."""
    request.pop("community", None)


def page(
    request: web.Request,
    template: str,
    *,
    info: CommunityInfo | None = None,
    language: str = "en",
    status: int = 200,
    **context: Any,
) -> web.Response:
    """Render `template` with the translator `_`, the session, its CSRF token and the
    navigation the session may use."""
    current: SessionInfo | None = request.get("session")
    tr = translator(info.language if info is not None else language)
    role = Role(current.holder.role) if current is not None else None
    served = request.app[_PAGES]
    nav = [item for item in NAV if role is not None and role >= item.role and item.path in served]
    html = (
        request.app[_TEMPLATES]
        .get_template(template)
        .render(
            _=tr,
            session=current,
            csrf=current.csrf if current is not None else "",
            community=info,
            nav=nav,
            here=request.path,
            **context,
        )
    )
    return web.Response(text=html, content_type="text/html", status=status)
