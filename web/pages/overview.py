"""Overview: the community's period at a glance, as charts — messages and active members per
day, DAU/WAU/MAU, joins and leaves, lifecycle segments, new-member retention, the hour ×
weekday heatmap, the health targets and the FAQ's hit rate. The figures are the digest's
(`DigestFeature.report`), so the page and the digest always agree."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.events import Role
from bot.features.digest.feature import DigestFeature
from bot.features.digest.metrics import daily_series
from bot.features.digest.periods import Period, period_containing
from bot.i18n import N_, translator
from web.auth import require
from web.commands import ENGINE
from web.render import ACCESS, community, page
from web.svg import bars, heatmap

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
KINDS = ("day", "week", "month")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def _period(request: web.Request, timezone: str) -> Period:
    kind = request.query.get("period", "week")
    if kind not in KINDS:
        raise web.HTTPNotFound()
    now = request.app[ACCESS].clock.now()
    try:
        day = date.fromisoformat(request.query["date"]) if "date" in request.query else None
    except ValueError:
        raise web.HTTPNotFound() from None
    if day is None:
        from zoneinfo import ZoneInfo

        day = now.astimezone(ZoneInfo(timezone)).date()
    return period_containing(kind, day, timezone)  # type: ignore[arg-type]


@ROUTES.get("/c/{community}/")
@require(Role.MODERATOR)
async def overview(request: web.Request) -> web.StreamResponse:
    """The chosen day, week (default: this one so far) or month."""
    info = await community(request)
    period = _period(request, info.timezone)
    engine = request.app[ENGINE]
    settings = engine.services.settings
    digest = engine.feature(DigestFeature)
    if digest is None:
        raise web.HTTPNotFound()
    report = await digest.report(info, period)  # what this process holds is written first
    database = request.app[ACCESS].database
    series = await daily_series(database, community_id=info.id, period=period)
    tr = translator(info.language)
    days = [day[5:] for day, _, _ in series]
    questions = report.questions
    charts = {
        "messages": bars(tr(N_("Messages per day")), days, [m for _, m, _ in series]),
        "active": bars(tr(N_("Active members per day")), days, [a for _, _, a in series]),
        "hours": heatmap(
            tr(N_("Messages by weekday and hour (local time)")),
            [tr(day) for day in WEEKDAYS],
            [f"{hour:02d}" for hour in range(24)],
            report.matrix,
        ),
    }
    hit_rate = questions.by_faq / questions.asked if questions.asked else None
    return page(
        request,
        "overview.html",
        info=info,
        report=report,
        period=period,
        kinds=KINDS,
        charts=charts,
        hit_rate=hit_rate,
        targets=settings.digest,
        segments=("new", "active", "at_risk", "dormant", "never"),
    )
