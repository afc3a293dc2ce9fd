"""FAQ: entries with phrasings, tags, hits and feedback; add, change and delete them; try a
question; turn an unanswered question into an entry or a phrasing."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.events import Role
from bot.features.faq.feature import FaqFeature
from bot.features.faq.files import (
    FaqFileError,
    export_faq,
    import_faq,
    read_entries,
    render_entries,
)
from bot.i18n import N_, translator
from storage.faq import list_entries, recent_unanswered
from web.auth import require
from web.commands import ENGINE, run_command
from web.render import ACCESS, community, page

__all__ = ["ROUTES"]

ROUTES = web.RouteTableDef()
GAPS_SINCE = timedelta(days=30)


async def _show(
    request: web.Request, *, flash: str = "", ok: bool = True, **extra: Any
) -> web.Response:
    info = await community(request)
    access = request.app[ACCESS]
    async with access.database.session() as session:
        entries = await list_entries(session, community_id=info.id)
        gaps = await recent_unanswered(
            session, community_id=info.id, since=access.clock.now() - GAPS_SINCE
        )
    counted: dict[str, int] = {}
    for gap in gaps:
        if gap.text:  # None once text retention forgot it
            counted[gap.text] = counted.get(gap.text, 0) + 1
    top = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:20]
    return page(
        request,
        "faq.html",
        info=info,
        entries=entries,
        gaps=top,
        flash=flash,
        flash_kind="ok" if ok else "error",
        **extra,
    )


@ROUTES.get("/c/{community}/faq")
@require(Role.MODERATOR)
async def faq(request: web.Request) -> web.StreamResponse:
    """The entries, the test box and the unanswered questions."""
    return await _show(request)


def _field(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


@ROUTES.post("/c/{community}/faq")
@require(Role.MODERATOR)
async def change(request: web.Request) -> web.StreamResponse:
    """One change, as the matching /faq command (its checks, its answer)."""
    form = await request.post()
    action = _field(form, "action")
    entry = _field(form, "entry")
    question, answer = _field(form, "question"), _field(form, "answer")
    if action == "add":
        if "|" in question:
            info = await community(request)
            refusal = translator(info.language)(N_("A question cannot contain the character |."))
            return await _show(request, flash=refusal, ok=False, question=question, answer=answer)
        line = f"faq add {question} | {answer}"
    elif action == "alias":
        line = f"faq alias {entry} {question}"
    elif action == "edit":
        line = f"faq edit {entry} {answer}"
    elif action == "tag":
        line = f"faq tag {entry} {_field(form, 'tags')}"
    elif action in ("enable", "disable", "remove"):
        line = f"faq {action} {entry}"
    elif action == "ask":
        ok, said = await run_command(request, f"faq ask {question}")
        return await _show(request, asked=question, verdict=said, flash="" if ok else said, ok=ok)
    else:
        raise web.HTTPBadRequest()
    ok, said = await run_command(request, line)
    return await _show(request, flash=said, ok=ok)


@ROUTES.get("/c/{community}/faq/export.{format:yaml|csv}")
@require(Role.MODERATOR)
async def export(request: web.Request) -> web.StreamResponse:
    """The entries as a file `hearth faq import` (and the form below) reads."""
    info = await community(request)
    entries = await export_faq(request.app[ACCESS].database, info.id)
    as_csv = request.match_info["format"] == "csv"
    body = render_entries(entries, csv_format=as_csv)
    name = f"faq-{info.id}.{'csv' if as_csv else 'yaml'}"
    return web.Response(
        text=body,
        content_type="text/csv" if as_csv else "application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@ROUTES.post("/c/{community}/faq/import")
@require(Role.ADMIN)
async def import_file(request: web.Request) -> web.StreamResponse:
    """Add or update entries from an uploaded YAML or CSV file, checked as the command-line
    import checks it (one question in two entries is refused, naming both)."""
    info = await community(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest()
    tr = translator(info.language)
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        refusal = tr(N_("Upload a .yaml, .yml or .csv file (as `hearth faq export` writes)."))
        return await _show(request, flash=refusal, ok=False)
    with tempfile.TemporaryDirectory(prefix="hearth-faq-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(upload.file.read())
        try:
            entries = read_entries(path)
            access = request.app[ACCESS]
            report = await import_faq(access.database, info.id, entries, access.clock.now())
        except FaqFileError as error:  # named after the admin's file, not the copy
            name = upload.filename or path.name
            said = str(error).replace(str(path), name)
            said = said if name in said else f"{name}: {said}"
            return await _show(request, flash=said, ok=False)
    feature = request.app[ENGINE].feature(FaqFeature)
    if feature is not None:
        feature.library.changed(info.id)
    said = tr(N_("Imported: {added} added, {updated} updated, {unchanged} unchanged.")).format(
        added=report.added, updated=report.updated, unchanged=report.unchanged
    )
    return await _show(request, flash=said)
