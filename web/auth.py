"""Who is asking: the session behind a request's cookie, its rights, and the CSRF check.

Signing in takes a one-time link (`/dashboard` in a group, or `hearth web link`): opening it
shows a button, and pressing it (a POST, so link previews never use the link up) starts a
session. The session's role is confirmed with the platform at least hourly; where no platform
can be asked (`hearth web` on its own), a session older than that ends and the holder signs in
again. Every page declares the role it needs; a request for another community is not found.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.config import WebSettings
from bot.events import Role
from storage.database import Database
from storage.web import (
    Holder,
    SessionInfo,
    create_session,
    end_session,
    find_session,
    take_link,
    touch_session,
)

__all__ = [
    "COOKIE",
    "RECHECK_EVERY",
    "Access",
    "RoleCheck",
    "check_csrf",
    "community_of",
    "end",
    "require",
    "sign_in",
]

COOKIE = "hearth_session"
RECHECK_EVERY = timedelta(hours=1)

#: The role the platform gives an account in a community now (None: cannot tell).
RoleCheck = Callable[[Holder], Awaitable[Role | None]]


@dataclass(frozen=True, slots=True)
class Access:
    """What the web app needs to decide who a request is: the store, the time, the settings,
    and (inside `hearth run`) a way to ask the platform for a role."""

    database: Database
    clock: Clock
    settings: WebSettings
    roles: RoleCheck | None = None

    async def session_of(self, request: web.Request) -> SessionInfo | None:
        """The live session of the request's cookie, its role confirmed within the hour
        (asked again, or the session ended when nobody can be asked)."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        now = self.clock.now()
        async with self.database.session() as session, session.begin():
            found = await find_session(session, token=token, now=now)
            if found is None or now - found.checked_at < RECHECK_EVERY:
                return found
            holder = found.holder
            role: Role | None = Role.ADMIN if holder.member_id is None else None
            if role is None and self.roles is not None:
                role = await self.roles(holder)
            if role is None or role < Role.MODERATOR:
                await end_session(session, session_id=found.id, now=now)
                return None
            await touch_session(session, session_id=found.id, role=int(role), checked_at=now)
        renewed = Holder(holder.community_id, holder.member_id, int(role), *_account(holder))
        return SessionInfo(found.id, renewed, found.csrf, now, found.expires_at)

    async def redeem(self, token: str) -> tuple[str, Holder] | None:
        """Use a one-time link: a new session's cookie token and its holder, or None."""
        now = self.clock.now()
        async with self.database.session() as session, session.begin():
            holder = await take_link(session, token=token, now=now)
            if holder is None:
                return None
            cookie = secrets.token_urlsafe(32)
            await create_session(
                session,
                token=cookie,
                csrf=secrets.token_urlsafe(32),
                holder=holder,
                now=now,
                expires_at=now + timedelta(hours=self.settings.session_hours),
            )
        return cookie, holder


def _account(holder: Holder) -> tuple[str | None, str | None]:
    return holder.platform, holder.user_id


def sign_in(response: web.StreamResponse, access: Access, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure behind https."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=access.settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=access.settings.base_url.startswith("https://"),
    )


async def end(request: web.Request, access: Access, response: web.StreamResponse) -> None:
    """Sign out: end the session and clear its cookie."""
    current: SessionInfo | None = request.get("session")
    if current is not None:
        async with access.database.session() as session, session.begin():
            await end_session(session, session_id=current.id, now=access.clock.now())
    response.del_cookie(COOKIE, path="/")


def community_of(request: web.Request) -> int:
    """The community id in the address (`/c/{community}/…`); not found when malformed."""
    raw = request.match_info.get("community", "")
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require(role: Role) -> Callable[[Handler], Handler]:
    """A page for sessions of at least `role` in the community of its address: anonymous
    requests go to sign-in (pages) or get 401 (forms), too low a role gets 403, another
    community's address 404 (whether it exists is not told)."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            current: SessionInfo | None = request.get("session")
            if current is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther("/login")
                raise web.HTTPUnauthorized()
            if community_of(request) != current.holder.community_id:
                raise web.HTTPNotFound()
            if current.holder.role < role:
                raise web.HTTPForbidden()
            if request.method == "POST":
                await check_csrf(request, current)
            return await handler(request)

        guarded.__doc__ = handler.__doc__
        setattr(guarded, "required_role", role)  # noqa: B010 - read by the route table test
        return guarded

    return wrap


async def check_csrf(request: web.Request, current: SessionInfo) -> None:
    """Every form carries the session's CSRF token (field `csrf` or header `X-CSRF-Token`)."""
    form: Any = await request.post()
    sent = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
    if not hmac.compare_digest(sent.encode(), current.csrf.encode()):
        raise web.HTTPForbidden(text="The form is stale or was not sent by this dashboard.")
