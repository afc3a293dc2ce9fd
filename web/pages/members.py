"""Members: search by name and filter by lifecycle segment (the digest's segments), a page at
a time; a member's page with their messages per day, XP, level and rank, point history and
warnings; and, for admins, the /mydata export and the /forgetme erasure of that member, each
confirmed first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.config import DigestSettings
from bot.events import Role
from bot.features.points.commands import REASONS
from bot.features.points.feature import PointsFeature
from bot.features.privacy import PrivacyFeature
from bot.i18n import N_, translator
from bot.localtime import local_time
from storage.identity import CommunityInfo, member_account
from storage.lifecycle import SEGMENTS
from storage.members import (
    MemberInfo,
    Windows,
    get_member,
    list_members,
    member_daily_messages,
    member_segment,
)
from storage.moderation import list_warnings
from storage.points import get_totals, ledger_history, rank_of
from storage.privacy import forget_member, member_export
from web.auth import require
from web.charts import bar_chart
from web.commands import ENGINE
from web.render import ACCESS, community, page

__all__ = ["PAGE_SIZE", "ROUTES", "SEGMENT_LABELS"]

ROUTES = web.RouteTableDef()
PAGE_SIZE = 50
ACTIVITY_DAYS = 30
#: How each lifecycle segment reads (the digest's own words).
SEGMENT_LABELS = {
    "new": N_("new"),
    "active": N_("active"),
    "at_risk": N_("at risk"),
    "dormant": N_("dormant"),
    "never": N_("never active"),
}


def _windows(settings: DigestSettings, now: datetime) -> Windows:
    """The digest's lifecycle windows, ending now."""
    return Windows(
        end=now,
        new_since=now - timedelta(days=settings.new_days),
        active_since=now - timedelta(days=settings.active_days),
        at_risk_since=now - timedelta(days=settings.at_risk_days),
    )


def _number(raw: str, default: int = 1) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else default


@ROUTES.get("/c/{community}/members")
@require(Role.MODERATOR)
async def members(request: web.Request) -> web.StreamResponse:
    """The community's current members, by name, searched and filtered."""
    info = await community(request)
    search = request.query.get("q", "").strip()[:100]
    segment = request.query.get("segment", "") or None
    if segment is not None and segment not in SEGMENTS:
        raise web.HTTPNotFound()
    number = _number(request.query.get("page", "1"))
    access, engine = request.app[ACCESS], request.app[ENGINE]
    windows = _windows(engine.services.settings.digest, access.clock.now())
    async with access.database.session() as session:
        total, rows = await list_members(
            session,
            community_id=info.id,
            windows=windows,
            search=search,
            segment=segment,
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "members.html",
        info=info,
        rows=rows,
        total=total,
        search=search,
        segment=segment or "",
        segments=SEGMENT_LABELS,
        number=number,
        pages=pages,
    )


async def _member_of(request: web.Request, info: CommunityInfo) -> MemberInfo:
    """The member of the address, who must belong to the address's community."""
    raw = request.match_info.get("member", "")
    if not raw.isdigit():
        raise web.HTTPNotFound()
    async with request.app[ACCESS].database.session() as session:
        found = await get_member(session, community_id=info.id, member_id=int(raw))
    if found is None:
        raise web.HTTPNotFound()
    return found


def _bounds(now: datetime, timezone: str) -> tuple[list[str], list[datetime]]:
    """The last `ACTIVITY_DAYS` local days (today included): labels and UTC midnights."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(ACTIVITY_DAYS - 1, -2, -1)]
    midnights = [datetime.combine(day, time(), zone).astimezone(UTC) for day in days]
    return [day.isoformat()[5:] for day in days[:-1]], midnights


async def _show(
    request: web.Request, info: CommunityInfo, member: MemberInfo, **extra: Any
) -> web.Response:
    engine = request.app[ENGINE]
    access = request.app[ACCESS]
    now = access.clock.now()
    await engine.services.writer.flush()  # what this process holds belongs on the page
    labels, bounds = _bounds(now, info.timezone)
    tr = translator(info.language)
    points = engine.feature(PointsFeature)
    async with access.database.session() as session:
        daily = await member_daily_messages(
            session, community_id=info.id, member_id=member.member_id, bounds=bounds
        )
        segment = await member_segment(
            session,
            community_id=info.id,
            member_id=member.member_id,
            windows=_windows(engine.services.settings.digest, now),
        )
        totals = await get_totals(session, community_id=info.id, member_id=member.member_id)
        rank, _, ranked = await rank_of(session, community_id=info.id, member_id=member.member_id)
        ledger = await ledger_history(session, member_id=member.member_id, limit=50)
        warnings = await list_warnings(
            session, community_id=info.id, member_id=member.member_id, limit=50
        )
        holder = request["session"].holder
        account = None
        if holder.platform is not None:
            account = await member_account(
                session, member_id=member.member_id, platform=holder.platform
            )
    level, into, needed = totals.level, 0, 0
    if points is not None:
        level, into, needed = points.curve_for(info).progress(totals.xp)
    history = [
        {
            "at": local_time(entry.at, info.timezone),
            "amount": entry.amount,
            "unit": "XP" if entry.currency == "xp" else tr(N_("rep")),
            "reason": tr(REASONS[entry.reason]) if entry.reason in REASONS else entry.reason,
            "note": entry.note or "",
        }
        for entry in ledger
    ]
    return page(
        request,
        "member.html",
        info=info,
        member=member,
        first_seen=local_time(member.first_seen, info.timezone),
        segment=SEGMENT_LABELS.get(segment or "", ""),
        chart=bar_chart(tr(N_("Messages per day (30 days)")), labels, daily, empty="—"),
        messages=sum(daily),
        totals=totals,
        level=level,
        into=into,
        needed=needed,
        rank=rank if totals.xp > 0 else None,
        ranked=ranked,
        history=history,
        warnings=[(w, local_time(w.at, info.timezone)) for w in warnings],
        account=None if account is None or member.forgotten else account[0],
        **extra,
    )


@ROUTES.get("/c/{community}/members/{member}")
@require(Role.MODERATOR)
async def member(request: web.Request) -> web.StreamResponse:
    """One member: activity, points and warnings."""
    info = await community(request)
    return await _show(request, info, await _member_of(request, info))


async def _confirmed(request: web.Request) -> bool:
    form = await request.post()
    return str(form.get("confirm") or "") == "yes"


@ROUTES.post("/c/{community}/members/{member}/export")
@require(Role.ADMIN)
async def export(request: web.Request) -> web.StreamResponse:
    """After a confirmation: the member's data, the same JSON as /mydata sends them."""
    info = await community(request)
    found = await _member_of(request, info)
    if not await _confirmed(request):
        return await _show(request, info, found, confirm="export")
    engine = request.app[ENGINE]
    privacy = engine.feature(PrivacyFeature)
    if privacy is not None:
        data = await privacy.export(info.id, found.member_id)
    else:
        await engine.services.writer.flush()
        async with request.app[ACCESS].database.session() as session:
            exported = await member_export(session, community_id=info.id, member_id=found.member_id)
        data = {"exported_at": request.app[ACCESS].clock.now().isoformat(), **exported}
    body = json.dumps({"community": info.name, **data}, ensure_ascii=False, indent=2)
    name = f"hearth-data-{info.id}-{found.member_id}.json"
    return web.Response(
        text=body,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@ROUTES.post("/c/{community}/members/{member}/forget")
@require(Role.ADMIN)
async def forget(request: web.Request) -> web.StreamResponse:
    """After a confirmation: forget the member's texts, name and point details here, as
    /forgetme does."""
    info = await community(request)
    found = await _member_of(request, info)
    if not await _confirmed(request):
        return await _show(request, info, found, confirm="forget")
    await request.app[ENGINE].services.writer.flush()  # texts still queued go too
    async with request.app[ACCESS].database.session() as session, session.begin():
        await forget_member(session, community_id=info.id, member_id=found.member_id)
    said = translator(info.language)(
        N_("Done: this member's texts, name and point details here are deleted.")
    )
    return await _show(request, info, await _member_of(request, info), flash=said)
