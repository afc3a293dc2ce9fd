"""Settings (admins): the community's language and time zone, changed by the chat's own
`/language` and `/timezone` (their checks, their wording); and, read-only, the feature
switches and XP rules in effect here, which come from the config file."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.events import Role
from bot.features.points.curve import Curve
from bot.i18n import LANGUAGES, N_
from web.auth import require
from web.commands import ENGINE, run_command
from web.render import changed_community, community, page

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
LEVELS_SHOWN = 10


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value != "" else "—"


async def _show(request: web.Request, **extra: Any) -> web.Response:
    info = await community(request)
    settings = request.app[ENGINE].services.settings
    rules = settings.points.for_community(info.name)
    switches = [
        (N_("Points and levels"), "points.enabled", rules.enabled),
        (N_("FAQ answers"), "faq.enabled", settings.faq.enabled),
        (N_("Scheduled posts"), "schedule.enabled", settings.schedule.enabled),
        (N_("Digests"), "digest.enabled", settings.digest.enabled),
        (N_("Moderation"), "moderation.enabled", settings.moderation.enabled),
    ]
    shown = rules.model_dump(exclude={"enabled", "curve"})
    curve = Curve(rules.curve)
    levels = [(level, curve.threshold(level)) for level in range(1, LEVELS_SHOWN + 1)]
    overridden = info.name in settings.points.communities
    return page(
        request,
        "settings.html",
        info=info,
        languages=LANGUAGES,
        switches=switches,
        rules=[(key, _value(value)) for key, value in shown.items()],
        curve=[(key, _value(value)) for key, value in rules.curve.model_dump().items()],
        levels=levels,
        overridden=overridden,
        **extra,
    )


@ROUTES.get("/c/{community}/settings")
@require(Role.ADMIN)
async def settings_page(request: web.Request) -> web.StreamResponse:
    """The language and time zone forms, and the config file's switches and rules."""
    return await _show(request)


@ROUTES.post("/c/{community}/settings")
@require(Role.ADMIN)
async def change(request: web.Request) -> web.StreamResponse:
    """Set the language or the time zone with the chat's command."""
    form = await request.post()
    action = str(form.get("action") or "")
    value = " ".join(str(form.get(action) or "").split()) if action else ""
    if action not in ("language", "timezone") or not value:
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, f"{action} {value}")
    changed_community(request)  # the page shows the community as it is now
    return await _show(request, flash=said, flash_kind="ok" if ok else "error")
