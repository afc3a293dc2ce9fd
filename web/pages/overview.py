"""Overview: the community's period at a glance, as charts — messages, active members, joins
and leaves per day, DAU/WAU/MAU, lifecycle segments, weekly cohort retention, the hour ×
weekday heatmap, the health targets and the FAQ's hit rate (`storage.dashboard.overview`,
which reads only the period asked for)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.events import Role
from bot.features.digest.periods import Period, period_containing
from bot.i18n import N_, translator
from storage.dashboard import overview as read_overview
from web.auth import require
from web.charts import bar_chart, heatmap, line_chart
from web.commands import ENGINE
from web.render import ACCESS, community, page

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
KINDS = ("day", "week", "month")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
#: Days of history the daily charts show, ending with the period.
CHART_DAYS = 30


def _period(request: web.Request, timezone: str) -> Period:
    kind = request.query.get("period", "week")
    if kind not in KINDS:
        raise web.HTTPNotFound()
    try:
        day = date.fromisoformat(request.query["date"]) if "date" in request.query else None
    except ValueError:
        raise web.HTTPNotFound() from None
    if day is None:
        day = request.app[ACCESS].clock.now().astimezone(ZoneInfo(timezone)).date()
    return period_containing(kind, day, timezone)  # type: ignore[arg-type]


@ROUTES.get("/c/{community}/")
@require(Role.MODERATOR)
async def overview(request: web.Request) -> web.StreamResponse:
    """The chosen day, week (default: this one so far) or month, charted over 30 days."""
    info = await community(request)
    period = _period(request, info.timezone)
    engine = request.app[ENGINE]
    digest = engine.services.settings.digest
    await engine.services.writer.flush()  # what this process holds counts too
    first = min(period.first, period.last - timedelta(days=CHART_DAYS - 1))
    seen = await read_overview(
        request.app[ACCESS].database,
        community_id=info.id,
        start=first,
        end=period.last + timedelta(days=1),
        timezone=info.timezone,
        new_days=digest.new_days,
        active_days=digest.active_days,
        at_risk_days=digest.at_risk_days,
    )
    tr = translator(info.language)
    days = seen.days
    labels = [day.day.isoformat()[5:] for day in days]
    in_period = [day for day in days if period.first <= day.day <= period.last]
    cohort_rows = [cohort.week.isoformat() for cohort in seen.cohorts]
    weeks_after = max((len(c.shares) for c in seen.cohorts), default=0)
    charts = {
        "messages": bar_chart(
            tr(N_("Messages per day")), labels, [d.messages for d in days], empty="—"
        ),
        "active": line_chart(
            tr(N_("Active members per day")), labels, [d.active for d in days], empty="—"
        ),
        "flow": bar_chart(
            tr(N_("Joins minus leaves per day")),
            labels,
            [d.joins - d.leaves for d in days],
            empty="—",
        ),
        "cohorts": heatmap(
            tr(N_("Weekly retention of new members")),
            cohort_rows,
            [tr(N_("week {n}")).format(n=n) for n in range(1, weeks_after + 1)],
            [list(cohort.shares) for cohort in seen.cohorts],
            percent=True,
            empty=tr(N_("No whole week in this view yet.")),
        ),
        "hours": heatmap(
            tr(N_("Messages by weekday and hour (local time)")),
            [tr(day) for day in WEEKDAYS],
            [f"{hour:02d}" for hour in range(24)],
            [list(row) for row in seen.hours],
        ),
    }
    members = seen.segments.total
    return page(
        request,
        "overview.html",
        info=info,
        period=period,
        seen=seen,
        charts=charts,
        messages=sum(d.messages for d in in_period),
        joined=sum(d.joins for d in in_period),
        left=sum(d.leaves for d in in_period),
        dau=sum(d.active for d in in_period) / len(in_period) if in_period else 0,
        weekly_share=seen.wau / members if members else None,
        targets=digest,
        segments=("new", "active", "at_risk", "dormant", "never"),
    )
