"""Settings (admins): the community's language, time zone, feature switches and XP rules,
changed by the chat's own `/language`, `/timezone` and `/config` (their checks, their
wording): one source of truth with the chat and the config file."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.events import Role
from bot.features.points.curve import Curve
from bot.i18n import LANGUAGES
from bot.overrides import KEYS, RULE_KEYS, SWITCHES, points_rules, settings_of
from web.auth import require
from web.commands import ENGINE, run_command
from web.render import changed_community, community, page

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
LEVELS_SHOWN = 10


async def _show(request: web.Request, **extra: Any) -> web.Response:
    info = await community(request)
    settings = request.app[ENGINE].services.settings
    found = {setting.key: setting for setting in settings_of(settings, info)}
    switches = [(label, found[f"{feature}.enabled"]) for feature, label in SWITCHES.items()]
    curve = Curve(points_rules(settings, info).curve)
    levels = [(level, curve.threshold(level)) for level in range(1, LEVELS_SHOWN + 1)]
    return page(
        request,
        "settings.html",
        info=info,
        languages=LANGUAGES,
        switches=switches,
        rules=[found[key] for key in RULE_KEYS],
        levels=levels,
        overridden=info.name in settings.points.communities,
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
    """Set the language, the time zone or one `/config` setting with the chat's command."""
    form = await request.post()
    action = str(form.get("action") or "")
    value = " ".join(str(form.get("value" if action == "config" else action) or "").split())
    if action == "config":
        key = str(form.get("key") or "")
        if key not in KEYS:
            raise web.HTTPBadRequest()
        line = f"config {key} {value or 'default'}"
    elif action in ("language", "timezone") and value:
        line = f"{action} {value}"
    else:
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, line)
    changed_community(request)  # the page shows the community as it is now
    return await _show(request, flash=said, flash_kind="ok" if ok else "error")
