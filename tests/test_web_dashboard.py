"""What the dashboard's pages show and do (issue 19), over HTTP against a started engine: an
FAQ entry made in a form is answered in the group at once, files go in and out in the
command line's formats, an unanswered question becomes an entry in one action, a schedule is
previewed and made with the chat's own checks, the overview shows the digest's figures, and
leaderboards (the public one only when switched on) render hostile names inert.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import FormData

from bot.events import Author, Message, Place, Reply, Role
from storage.web import Holder
from tests.web_site import START, Site, Visitor, open_site, post_message, site

__all__ = ["site"]  # the fixture

HOSTILE = "<img src=x onerror=alert(1)>"


async def _admin(site: Site) -> Visitor:
    return await site.signed_in(Holder(site.communities["one"], None, int(Role.ADMIN)))


async def _csrf(visitor: Visitor, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await visitor.get(path)).text())
    assert found is not None
    return found.group(1)


async def _ask(site: Site, text: str, message_id: str) -> list[str]:
    place = Place("telegram", "-100", "-100")
    site.clock.advance(timedelta(minutes=11))  # past the answer cooldown
    actions = await site.engine.handle(
        Message(place, message_id, Author("bob", "bob"), text, site.clock.now())
    )
    return [a.text for a in actions if isinstance(a, Reply)]


async def test_an_entry_added_in_the_form_is_answered_in_the_group(site: Site) -> None:
    visitor = await _admin(site)
    faq = f"/c/{site.communities['one']}/faq"
    try:
        csrf = await _csrf(visitor, faq)
        form = {"csrf": csrf, "action": "add", "question": "where is the party?"}
        page = await visitor.post(faq, data={**form, "answer": "In the <b>hall</b>."})
        html = await page.text()
        assert "Added FAQ entry #1" in html
        assert "In the &lt;b&gt;hall&lt;/b&gt;." in html  # escaped, never markup
        assert await _ask(site, "where's the party?", "q1") == ["In the <b>hall</b>."]
        # The same question again is refused with the chat's own words.
        again = await visitor.post(faq, data={**form, "answer": "elsewhere"})
        assert "Entry #1 already has that question" in await again.text()
        # The test box ranks as /faq ask does.
        asked = await visitor.post(
            faq, data={"csrf": csrf, "action": "ask", "question": "where is the party"}
        )
        assert "#1" in await asked.text()
        # A phrasing, then a new answer, then stopping it.
        await visitor.post(
            faq, data={"csrf": csrf, "action": "alias", "entry": "1", "question": "party place?"}
        )
        await visitor.post(
            faq, data={"csrf": csrf, "action": "edit", "entry": "1", "answer": "In the garden."}
        )
        assert await _ask(site, "party place?", "q2") == ["In the garden."]
        await visitor.post(faq, data={"csrf": csrf, "action": "disable", "entry": "1"})
        assert await _ask(site, "where is the party?", "q3") == []
    finally:
        await visitor.close()


async def test_an_unanswered_question_becomes_an_entry_in_one_action(site: Site) -> None:
    assert await _ask(site, "how do I get a refund?", "gap1") == []
    await site.engine.commit()
    visitor = await _admin(site)
    faq = f"/c/{site.communities['one']}/faq"
    try:
        html = await (await visitor.get(faq)).text()
        assert "how do I get a refund?" in html  # listed as unanswered
        csrf = await _csrf(visitor, faq)
        page = await visitor.post(
            faq,
            data={
                "csrf": csrf,
                "action": "add",
                "question": "how do I get a refund?",
                "answer": "Write to #support.",
            },
        )
        assert "Added FAQ entry" in await page.text()
        assert await _ask(site, "how can I get a refund?", "gap2") == ["Write to #support."]
    finally:
        await visitor.close()


async def test_faq_files_round_trip_and_duplicates_are_refused(site: Site) -> None:
    visitor = await _admin(site)
    one = site.communities["one"]
    faq = f"/c/{one}/faq"
    try:
        csrf = await _csrf(visitor, faq)
        upload = FormData()
        upload.add_field("csrf", csrf)
        yaml_text = (
            "- id: hours\n  questions:\n    - when are you open?\n    - opening hours?\n"
            "  answer: From 9 to 5.\n  tags: [info]\n"
            "- id: wifi\n  questions:\n    - what is the wifi password?\n  answer: hearth2026\n"
        )
        upload.add_field("file", yaml_text.encode(), filename="faq.yaml")
        page = await visitor.post(f"{faq}/import", data=upload)
        assert "2 added, 0 updated, 0 unchanged" in await page.text()
        assert await _ask(site, "when are you open?", "f1") == ["From 9 to 5."]
        exported = await visitor.get(f"{faq}/export.yaml")
        assert exported.headers["Content-Disposition"].endswith('.yaml"')
        assert "opening hours?" in await exported.text()
        as_csv = await (await visitor.get(f"{faq}/export.csv")).text()
        assert as_csv.startswith("id,questions,answer,tags,enabled")
        clash = FormData()
        clash.add_field("csrf", csrf)
        clash.add_field(
            "file",
            b"id,questions,answer\nother,Opening hours?,Never.\n",
            filename="more.csv",
        )
        refused = await (await visitor.post(f"{faq}/import", data=clash)).text()
        assert "both have the question" in refused
        assert "more.csv" in refused  # named after the admin's file
        wrong = FormData()
        wrong.add_field("csrf", csrf)
        wrong.add_field("file", b"hello", filename="faq.txt")
        assert "Upload a .yaml" in await (await visitor.post(f"{faq}/import", data=wrong)).text()
    finally:
        await visitor.close()


async def test_a_schedule_is_previewed_made_paused_and_deleted(site: Site) -> None:
    visitor = await _admin(site)
    schedules = f"/c/{site.communities['one']}/schedules"
    try:
        preview = await visitor.get(f"{schedules}/preview", params={"when": "weekly mon 09:00"})
        times = (await preview.json())["times"]
        assert times[:2] == ["2026-03-09 09:00 Mon", "2026-03-16 09:00 Mon"]
        assert len(times) == 5
        bad = await visitor.get(f"{schedules}/preview", params={"when": "daily 29:00"})
        assert "is not a time of day" in (await bad.json())["error"]
        csrf = await _csrf(visitor, schedules)
        made = await visitor.post(
            schedules,
            data={
                "csrf": csrf,
                "action": "add",
                "when": "daily 09:00",
                "channel": "-100",
                "text": "Good morning, <everyone>!",
            },
        )
        html = await made.text()
        assert "Scheduled post #1" in html
        assert "2026-03-03 09:00" in html  # its next times, in the community's zone
        refused = await visitor.post(
            schedules,
            data={"csrf": csrf, "action": "add", "when": "daily 29:00", "text": "x"},
        )
        assert "is not a time of day" in await refused.text()
        edited = await visitor.post(
            schedules,
            data={
                "csrf": csrf,
                "action": "edit",
                "schedule": "1",
                "when": "weekly fri 18:00",
                "text": "Weekend!",
            },
        )
        html = await edited.text()
        assert "Changed scheduled post #1: weekly fri 18:00" in html
        assert "2026-03-06 18:00 Fri" in html
        assert "Weekend!" in html
        paused = await visitor.post(
            schedules, data={"csrf": csrf, "action": "pause", "schedule": "1"}
        )
        assert "paused" in (await paused.text()).lower()
        gone = await visitor.post(
            schedules, data={"csrf": csrf, "action": "remove", "schedule": "1"}
        )
        assert "Nothing is scheduled." in await gone.text()
    finally:
        await visitor.close()


async def test_a_moderator_sees_schedules_but_cannot_change_them(site: Site) -> None:
    one = site.communities["one"]
    visitor = await site.signed_in(Holder(one, None, int(Role.MODERATOR)))
    try:
        page = await (await visitor.get(f"/c/{one}/schedules")).text()
        assert 'id="new-schedule"' not in page
        csrf = await _csrf(visitor, f"/c/{one}/faq")
        refused = await visitor.post(
            f"/c/{one}/schedules",
            data={"csrf": csrf, "action": "add", "when": "daily 09:00", "text": "x"},
        )
        assert refused.status == 403
    finally:
        await visitor.close()


async def test_the_overview_shows_the_digests_figures_as_charts(site: Site) -> None:
    for n in range(5):
        await post_message(site.engine, "-100", f"m{n}", f"good morning number {n}", f"o{n}")
    visitor = await _admin(site)
    one = site.communities["one"]
    try:
        html = await (await visitor.get(f"/c/{one}/?period=day&date=2026-03-02")).text()
        assert "2026-03-02 – 2026-03-02" in html
        headline = html[html.index('id="headline"') :]
        assert re.search(r"Messages</div><div class=\"value\">6<", headline)  # ann's + 5
        assert html.count("<svg") == 5  # messages, active, joins, cohorts, hours
        assert "Messages by weekday and hour" in html
        week = await visitor.get(f"/c/{one}/?period=week")
        assert "2026-03-02 – 2026-03-08" in await week.text()
        assert (await visitor.get(f"/c/{one}/?period=year")).status == 404
    finally:
        await visitor.close()


async def test_a_chinese_community_gets_chinese_pages(site: Site) -> None:
    one = site.communities["one"]
    visitor = await _admin(site)
    try:
        place = Place("telegram", "-100", "-100")
        from bot.events import CommandInvoked

        await site.engine.handle(
            CommandInvoked(
                place, Author("ann", "ann"), "language", "zh_Hans", START, invoker_role=Role.ADMIN
            )
        )
        html = await (await visitor.get(f"/c/{one}/faq")).text()
        assert "Hearth 会怎么回答？" in html
        assert '<html lang="zh_Hans">' in html
    finally:
        await visitor.close()


@pytest.fixture
async def public_site(db_url: str) -> AsyncIterator[Site]:
    async for opened in open_site(db_url, web={"public_leaderboard": True}):
        yield opened


async def test_the_public_leaderboard_is_off_by_default(site: Site) -> None:
    visitor = site.client()
    try:
        response = await visitor.get(f"/p/{site.communities['one']}/leaderboard")
        assert response.status == 404
    finally:
        await visitor.close()


async def test_the_public_leaderboard_shows_names_and_levels_inert(public_site: Site) -> None:
    site = public_site
    site.clock.advance(timedelta(minutes=2))
    await post_message(site.engine, "-100", "evil", "a long enough message to earn", "h1")
    async with site.engine.services.database.session() as session, session.begin():
        from sqlalchemy import text

        await session.execute(
            text("UPDATE members SET display_name = :name WHERE display_name = 'evil'"),
            {"name": HOSTILE},
        )
    await site.engine.commit()
    visitor = site.client()
    try:
        for period in ("week", "month", "all"):
            page = await visitor.get(
                f"/p/{site.communities['one']}/leaderboard", params={"period": period}
            )
            assert page.status == 200
            html = await page.text()
            assert HOSTILE not in html
            assert "&lt;img src=x onerror=alert(1)&gt;" in html
            assert "member_id" not in html
        # Another community's board is its own; the dashboard itself still needs a session.
        other = await visitor.get(f"/p/{site.communities['two']}/leaderboard")
        assert HOSTILE not in await other.text()
        signed_out = await visitor.get(
            f"/c/{site.communities['one']}/leaderboard", allow_redirects=False
        )
        assert signed_out.status == 303
    finally:
        await visitor.close()


async def test_what_a_dashboard_command_does_on_the_platform_happens(site: Site) -> None:
    """A third warning from the dashboard mutes on the platform, and undoing the mute there
    lifts it (the actions go out as from the chat, not only the database rows)."""
    from adapters.memory import MemoryAdapter
    from bot.events import Restrict

    chat = MemoryAdapter(site.engine, site.clock, platform="telegram", group="-100")
    await chat.say("bob", "hello there, I am bob")
    visitor = await _admin(site)
    moderation = f"/c/{site.communities['one']}/moderation"
    try:
        csrf = await _csrf(visitor, moderation)
        for n in range(3):
            page = await visitor.post(
                moderation,
                data={"csrf": csrf, "action": "warn", "member": "bob", "reason": f"rude {n}"},
            )
            assert "is warned" in await page.text()
        mutes = [a for a in chat.performed if isinstance(a, Restrict)]
        assert len(mutes) == 1
        assert mutes[0].user_id == "bob"
        html = await (await visitor.get(moderation)).text()
        entry = re.findall(r'name="entry" value="(\d+)"', html)[0]  # newest first: the mute
        undone = await visitor.post(
            moderation, data={"csrf": csrf, "action": "undo", "entry": entry}
        )
        assert "Recorded, but not all" not in await undone.text()
        lifted = [a for a in chat.performed if isinstance(a, Restrict)]
        assert len(lifted) == 2
    finally:
        await visitor.close()
