"""The dashboard's aiohttp application: sign-in, security headers, pages, static files."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aiohttp import web

from bot.i18n import N_
from storage.web import SessionInfo
from web.auth import Access, end, sign_in
from web.render import _PAGES, _TEMPLATES, ACCESS, environment, page

__all__ = ["STATIC", "build_app", "serve"]

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

#: No script, style or image from anywhere but this site; no framing; nothing cached.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A sign-in link in the address must not travel on to another site.
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the request's session (or None) and the security headers to every answer."""
    if not request.path.startswith("/static/"):
        request["session"] = await request.app[ACCESS].session_of(request)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        default = error.text in (error.reason, f"{error.status}: {error.reason}")
        response = _error(request, error.status, None if default else error.text)
    except Exception:
        logger.exception("dashboard page %s %s failed", request.method, request.path)
        response = _error(request, 500)
    response.headers.update(_HEADERS)
    if request.get("session") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


_ERRORS = {
    401: N_("Sign in first: send /dashboard in your group for a link."),
    403: N_("You may not do this: the dashboard is for moderators and admins of a community."),
    404: N_("There is nothing here."),
    405: N_("This page cannot be used that way."),
}


def _error(request: web.Request, status: int, said: str | None = None) -> web.Response:
    """The error page: what a visitor may do about it (or what the handler said)."""
    message = said or _ERRORS.get(status, N_("Something went wrong; try again."))
    return page(request, "error.html", status=status, message=message)


async def _home(request: web.Request) -> web.StreamResponse:
    """Signed in: the community's overview; else the sign-in help."""
    current: SessionInfo | None = request.get("session")
    if current is None:
        raise web.HTTPSeeOther("/login")
    raise web.HTTPSeeOther(f"/c/{current.holder.community_id}/")


async def _login(request: web.Request) -> web.StreamResponse:
    """How to sign in (there are no passwords)."""
    return page(request, "login.html")


async def _link(request: web.Request) -> web.StreamResponse:
    """A sign-in link opened: a button that uses it (previews of the link do not)."""
    return page(request, "signin.html", token=request.match_info["token"])


async def _redeem(request: web.Request) -> web.StreamResponse:
    """Use the link: start a session, or say the link is used, expired or unknown."""
    access = request.app[ACCESS]
    started = await access.redeem(request.match_info["token"])
    if started is None:
        return page(request, "expired.html", status=403)
    cookie, holder = started
    response = web.HTTPSeeOther(f"/c/{holder.community_id}/")
    sign_in(response, access, cookie)
    return response


async def _logout(request: web.Request) -> web.StreamResponse:
    """Sign out (a form with the session's CSRF token)."""
    from web.auth import check_csrf

    current: SessionInfo | None = request.get("session")
    if current is not None:
        await check_csrf(request, current)
    response = web.HTTPSeeOther("/login")
    await end(request, request.app[ACCESS], response)
    return response


def build_app(
    access: Access, pages: Iterable[Iterable[web.RouteDef]] | None = None
) -> web.Application:
    """The dashboard for `access`'s database: sign-in, `pages` (all of `web.pages` by
    default) and the static files."""
    from web.pages import all_routes

    app = web.Application(middlewares=[_session], client_max_size=2 * 1024 * 1024)
    app[ACCESS] = access
    app[_TEMPLATES] = environment()
    app.router.add_get("/", _home)
    app.router.add_get("/login", _login)
    app.router.add_get("/auth/{token}", _link)
    app.router.add_post("/auth/{token}", _redeem)
    app.router.add_post("/logout", _logout)
    for routes in pages if pages is not None else all_routes():
        app.router.add_routes(routes)
    app.router.add_static("/static", STATIC, append_version=True)
    prefix = "/c/{community}/"
    app[_PAGES] = frozenset(
        info["formatter"].removeprefix(prefix)
        for resource in app.router.resources()
        if (info := resource.get_info()).get("formatter", "").startswith(prefix)
    )
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving `app` on host:port; `await runner.cleanup()` stops it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("dashboard at http://%s:%d", host, port)
    return runner
