"""Moderation: the audit log (newest first, in the community's time zone) with an undo per
action, the blocked phrases, and warnings (recent ones, warn and revoke). Every change runs
the chat's command (`/mod undo`, `/mod words`, `/warn`, `/unwarn`) with its checks and words."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.events import Role
from bot.features.moderation.commands import _KINDS
from bot.i18n import translator
from bot.localtime import local_time
from storage.members import audit_page, recent_warnings
from storage.moderation import list_phrases
from web.auth import require
from web.commands import run_command
from web.render import ACCESS, community, page

__all__ = ["PAGE_SIZE", "ROUTES"]

ROUTES = web.RouteTableDef()
PAGE_SIZE = 25
WARNINGS_SHOWN = 20


def _number(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


async def _show(request: web.Request, *, number: int = 1, **extra: Any) -> web.Response:
    info = await community(request)
    tr = translator(info.language)
    async with request.app[ACCESS].database.session() as session:
        total, entries = await audit_page(
            session, community_id=info.id, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        phrases = await list_phrases(session, community_id=info.id)
        warnings = await recent_warnings(session, community_id=info.id, limit=WARNINGS_SHOWN)
    zone = info.timezone
    log = [
        {
            "entry": e,
            "at": local_time(e.at, zone),
            "kind": tr(_KINDS.get(e.kind, e.kind)),
            "until": "" if e.until is None else local_time(e.until, zone),
        }
        for e in entries
    ]
    return page(
        request,
        "moderation.html",
        info=info,
        log=log,
        number=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        phrases=phrases,
        warnings=[(w, local_time(w.at, zone)) for w in warnings],
        **extra,
    )


@ROUTES.get("/c/{community}/moderation")
@require(Role.MODERATOR)
async def moderation(request: web.Request) -> web.StreamResponse:
    """The audit log (a page of it), blocked phrases and recent warnings."""
    return await _show(request, number=_number(request.query.get("page", "1")))


def _field(form: Any, name: str) -> str:
    return " ".join(str(form.get(name) or "").split())


def _ident(form: Any, name: str) -> str:
    value = _field(form, name)
    if not value.isdigit():
        raise web.HTTPBadRequest()
    return value


@ROUTES.post("/c/{community}/moderation")
@require(Role.MODERATOR)
async def change(request: web.Request) -> web.StreamResponse:
    """Undo an action, warn a member or revoke a warning, as the chat's commands do."""
    form = await request.post()
    action = _field(form, "action")
    if action == "undo":
        line = f"mod undo {_ident(form, 'entry')}"
    elif action == "unwarn":
        line = f"unwarn {_ident(form, 'warning')}"
    elif action == "warn":
        line = f"warn {_field(form, 'member')} {_field(form, 'reason')}".strip()
    else:
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, line)
    return await _show(request, flash=said, flash_kind="ok" if ok else "error")


@ROUTES.post("/c/{community}/moderation/words")
@require(Role.ADMIN)
async def words(request: web.Request) -> web.StreamResponse:
    """Block a phrase or allow it again (`/mod words add|remove`)."""
    form = await request.post()
    action = _field(form, "action")
    if action not in ("add", "remove"):
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, f"mod words {action} {_field(form, 'phrase')}")
    return await _show(request, flash=said, flash_kind="ok" if ok else "error")
