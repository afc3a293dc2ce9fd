"""The dashboard's authorisation, whatever a page shows (issue 19): every route × {anonymous,
member, moderator, admin, admin of another community}, and sign-in links that are used,
expired or forged.

The app is the one `hearth web` serves (`web.server.dashboard` on a started engine), driven
over HTTP by aiohttp's test client; sessions start through real links (POST /auth/{token}),
except a member's, which /dashboard never gives (written to the store as a demoted holder's
would be).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from bot.events import Author, CommandInvoked, Place, Role
from bot.features.dashboard import issue_link
from storage.web import Holder, create_session
from tests.web_site import START, Site, Visitor, site
from web.auth import COOKIE, RECHECK_EVERY

__all__ = ["site"]  # the fixture

ROLES = ("anonymous", "member", "moderator", "admin", "other admin")


def _paths(site: Site) -> list[tuple[str, str, Role]]:
    """(method, path in community one, role the handler requires) of every guarded route."""
    found = []
    for route in site.app.router.routes():
        needed = getattr(route.handler, "required_role", None)
        if needed is None or route.method == "HEAD":  # HEAD is GET without the body
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("formatter") or info.get("path") or ""
        path = template.replace("{community}", str(site.communities["one"]))
        path = re.sub(r"\{member\}", str(site.members["ann"]), path)
        path = path.replace("{format}", "yaml")
        path = re.sub(r"\{[a-z_]+\}", "1", path)
        found.append((route.method, path, needed))
    return found


async def _client_for(site: Site, who: str) -> Visitor:
    one, two = site.communities["one"], site.communities["two"]
    if who == "anonymous":
        client = site.client()
        await client.start_server()
        return client
    if who == "member":  # a holder demoted since: the store says member
        token = secrets.token_urlsafe(32)
        async with site.engine.services.database.session() as session, session.begin():
            await create_session(
                session,
                token=token,
                csrf="x" * 43,
                holder=Holder(one, site.members["ann"], int(Role.MEMBER), "telegram", "ann"),
                now=START,
                expires_at=START + timedelta(hours=1),
            )
        client = site.client()
        await client.start_server()
        client.session.cookie_jar.update_cookies({COOKIE: token})
        return client
    role = Role.MODERATOR if who == "moderator" else Role.ADMIN
    community = two if who == "other admin" else one
    return await site.signed_in(Holder(community, None, int(role)))


async def _csrf(client: Visitor, path: str) -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    return found.group(1) if found else ""


async def test_every_route_answers_each_kind_of_visitor_as_it_should(site: Site) -> None:
    paths = _paths(site)
    assert len(paths) >= 5  # the pages exist and are all guarded
    overview = f"/c/{site.communities['one']}/"
    seen: dict[tuple[str, str, str], int] = {}
    for who in ROLES:
        client = await _client_for(site, who)
        try:
            csrf = await _csrf(client, overview) if who in ("moderator", "admin") else ""
            for method, path, needed in paths:
                if method == "GET":
                    response = await client.get(path, allow_redirects=False)
                else:
                    response = await client.post(
                        path, data={"csrf": csrf, "action": "nothing"}, allow_redirects=False
                    )
                seen[(who, method, path)] = response.status
                if who == "anonymous":
                    expected = {303} if method == "GET" else {401}
                elif who == "other admin":
                    expected = {404}
                elif who == "member" or needed > (
                    Role.MODERATOR if who == "moderator" else Role.ADMIN
                ):
                    expected = {403}
                else:
                    expected = {200} if method == "GET" else {200, 303, 400}
                assert response.status in expected, (who, method, path, response.status)
                if response.status == 303:
                    assert response.headers["Location"] == "/login"
        finally:
            await client.close()
    assert len(seen) == len(ROLES) * len(paths)


async def test_forms_without_the_sessions_csrf_token_are_refused(site: Site) -> None:
    client = await _client_for(site, "admin")
    try:
        path = f"/c/{site.communities['one']}/faq"
        form = {"action": "add", "question": "where?", "answer": "here"}
        for token in ("", "forged", "x" * 43):
            response = await client.post(path, data={**form, "csrf": token})
            assert response.status == 403
        assert "where?" not in await (await client.get(path)).text()
        response = await client.post(path, data={**form, "csrf": await _csrf(client, path)})
        assert response.status == 200
        assert "where?" in await response.text()
    finally:
        await client.close()


async def test_a_link_signs_in_once_within_ten_minutes_and_forged_ones_never(site: Site) -> None:
    services = site.engine.services
    holder = Holder(site.communities["one"], None, int(Role.ADMIN))
    base = services.settings.web.base_url
    client = site.client()
    await client.start_server()
    try:
        link = await issue_link(services.database, site.clock, services.settings.web, holder)
        path = link.removeprefix(base)
        assert len(path.rsplit("/", 1)[1]) >= 43  # 256 random bits, URL-safe
        opened = await client.get(path)
        assert opened.status == 200
        assert COOKIE not in {c.key for c in client.session.cookie_jar}
        assert (await client.post(path)).status == 200  # signed in: the overview
        client.session.cookie_jar.clear()
        assert (await client.post(path, allow_redirects=False)).status == 403  # used
        late = await issue_link(services.database, site.clock, services.settings.web, holder)
        site.clock.advance(timedelta(minutes=10, seconds=1))
        assert (await client.post(late.removeprefix(base), allow_redirects=False)).status == 403
        forged = "/auth/" + secrets.token_urlsafe(32)
        assert (await client.post(forged, allow_redirects=False)).status == 403
        assert COOKIE not in {c.key for c in client.session.cookie_jar}
    finally:
        await client.close()


async def test_sessions_end_on_sign_out_and_when_the_role_cannot_be_confirmed(
    site: Site,
) -> None:
    one = site.communities["one"]
    # A moderator through /dashboard in the group (the console-free engine path).
    place = Place("telegram", "-100", "-100")
    event = CommandInvoked(
        place, Author("ann", "ann"), "dashboard", "", START, invoker_role=Role.MODERATOR
    )
    sent = await site.engine.handle(event)
    assert any("dashboard" in getattr(action, "text", "") for action in sent)
    client = await site.signed_in(Holder(one, site.members["ann"], 1, "telegram", "ann"))
    try:
        assert (await client.get(f"/c/{one}/faq")).status == 200
        # An hour on, nobody can confirm ann is still a moderator (no Telegram here): ended.
        site.clock.advance(RECHECK_EVERY + timedelta(seconds=1))
        response = await client.get(f"/c/{one}/faq", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/login"
    finally:
        await client.close()
    client = await site.signed_in(Holder(one, None, int(Role.ADMIN)))
    try:
        csrf = await _csrf(client, f"/c/{one}/faq")
        assert (
            await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
        ).status == 303
        response = await client.get(f"/c/{one}/faq", allow_redirects=False)
        assert response.status == 303
    finally:
        await client.close()


async def test_cookies_and_headers_protect_the_session(site: Site) -> None:
    services = site.engine.services
    holder = Holder(site.communities["one"], None, int(Role.ADMIN))
    link = await issue_link(services.database, site.clock, services.settings.web, holder)
    client = site.client()
    await client.start_server()
    try:
        response = await client.post(
            link.removeprefix(services.settings.web.base_url), allow_redirects=False
        )
        cookie = response.headers["Set-Cookie"]
        for attribute in ("HttpOnly", "SameSite=Lax", "Path=/"):
            assert attribute in cookie
        assert "Secure" not in cookie  # http://127.0.0.1: a Secure cookie would not come back
        page = await client.get(f"/c/{site.communities['one']}/faq")
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
    finally:
        await client.close()
