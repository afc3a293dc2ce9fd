"""Schedules: each with its next five times in the community's zone and its last runs;
create (with a live preview of the times as the admin types), pause, resume, delete."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.events import Role
from bot.features.schedule.content import local_time
from bot.features.schedule.runner import when_of
from storage.activity import recent_channels
from storage.schedule import ScheduleInfo, list_runs, list_schedules
from web.auth import require
from web.commands import run_command
from web.render import ACCESS, community, page

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
CHANNELS_SINCE = timedelta(days=90)
KINDS = ("add", "poll", "rotate")


def _upcoming(schedule: ScheduleInfo, language: str, now: datetime) -> list[str]:
    """The next five times of a stored schedule ([] when paused or it never fires again)."""
    if schedule.paused:
        return []
    when = when_of(schedule)
    return [local_time(t, when.timezone, language) for t in when.upcoming(now, 5)]


async def _show(request: web.Request, **extra: Any) -> web.Response:
    info = await community(request)
    access = request.app[ACCESS]
    now = access.clock.now()
    async with access.database.session() as session:
        schedules = await list_schedules(session, community_id=info.id)
        runs = {s.id: await list_runs(session, schedule_id=s.id) for s in schedules}
        channels = await recent_channels(session, community_id=info.id, since=now - CHANNELS_SINCE)
    rows = [
        {
            "schedule": s,
            "next": _upcoming(s, info.language, now),
            "runs": [
                (local_time(r.planned_at, info.timezone, info.language), r.outcome)
                for r in runs[s.id]
            ],
        }
        for s in schedules
    ]
    return page(request, "schedules.html", info=info, rows=rows, channels=channels, **extra)


@ROUTES.get("/c/{community}/schedules")
@require(Role.MODERATOR)
async def schedules(request: web.Request) -> web.StreamResponse:
    """Every schedule of the community and the form for a new one."""
    return await _show(request)


@ROUTES.get("/c/{community}/schedules/preview")
@require(Role.MODERATOR)
async def preview(request: web.Request) -> web.StreamResponse:
    """The next five times of a `when` expression, as `/schedule preview` gives them."""
    when = request.query.get("when", "").strip()
    if not when:
        return web.json_response({"times": []})
    ok, said = await run_command(request, f"schedule preview {when}")
    if not ok:
        return web.json_response({"error": said})
    times = [line.removeprefix("• ") for line in said.splitlines() if line.startswith("• ")]
    return web.json_response({"times": times})


def _field(form: Any, name: str) -> str:
    return " ".join(str(form.get(name) or "").split())


@ROUTES.post("/c/{community}/schedules")
@require(Role.ADMIN)
async def change(request: web.Request) -> web.StreamResponse:
    """Create, edit, pause, resume or delete, as the /schedule commands do."""
    form = await request.post()
    action = _field(form, "action")
    channel: str | None = None
    if action in KINDS:
        when, text = _field(form, "when"), str(form.get("text") or "").strip()
        channel = _field(form, "channel") or None
        if action == "add":
            line = f"schedule add {when} | {text}"
        else:  # one option or item a line
            items = " | ".join(part.strip() for part in text.splitlines() if part.strip())
            line = f"schedule {action} {when} | {items}"
    elif action == "edit":
        text = str(form.get("text") or "").strip()
        line = f"schedule edit {_field(form, 'schedule')} | {_field(form, 'when')}"
        line += f" | {text}" if text else ""
    elif action in ("pause", "resume", "remove"):
        line = f"schedule {action} {_field(form, 'schedule')}"
    else:
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, line, channel=channel)
    return await _show(request, flash=said, flash_kind="ok" if ok else "error")
