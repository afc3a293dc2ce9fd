"""The dashboard's members, moderation and settings pages (issue 19), over HTTP against a
started engine on SQLite and PostgreSQL, signed in through real one-time links: what each
page shows (names, segments, numbers, local times), that each action does what its chat
command does (undo revokes, a phrase is blocked, the language turns the pages Chinese, the
export is /mydata's JSON, forgetting is /forgetme's), and who may do what.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.events import (
    Action,
    Author,
    CommandInvoked,
    DeleteMessage,
    MemberJoined,
    Message,
    Place,
    Role,
)
from bot.features.privacy import PrivacyFeature
from storage.identity import FORGOTTEN_NAME
from storage.moderation import count_warnings
from storage.web import Holder
from tests.web_site import START, Site, Visitor, open_site, site
from web.pages import members as members_page

__all__ = ["site"]  # the fixture

GROUP = Place("telegram", "-100", "-100", group_name="group -100")


async def _say(
    site: Site, user: str, words: str, message_id: str, days_ago: float = 0
) -> list[Action]:
    at = START - timedelta(days=days_ago)
    return list(await site.engine.handle(Message(GROUP, message_id, Author(user, user), words, at)))


async def _people(site: Site) -> dict[str, int]:
    """Community "one": ann active (posts today and the two days before), bob at risk, cat
    dormant, dan never active, eve new, mod active; 100 XP given to ann by an admin."""
    await _say(site, "ann", "good morning everyone", "a1", days_ago=1)
    await _say(site, "ann", "another message from ann", "a2", days_ago=1)
    await _say(site, "ann", "ann again two days ago", "a3", days_ago=2)
    await _say(site, "bob", "bob was here ten days ago", "b1", days_ago=10)
    await _say(site, "cat", "cat posted long ago", "c1", days_ago=40)
    await _say(site, "mod", "the moderator says hi", "m1", days_ago=3)
    for user, days in (("dan", 20), ("eve", 1)):
        at = START - timedelta(days=days)
        await site.engine.handle(MemberJoined("telegram", "-100", Author(user, user), at))
    await site.engine.handle(
        CommandInvoked(
            GROUP,
            Author("ann", "ann"),
            "points",
            "give ann 100 helpful answers",
            START,
            Role.ADMIN,
            message_id="g1",
        )
    )
    await site.engine.commit()
    site.clock.advance(timedelta(minutes=5))
    async with site.engine.services.database.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT a.external_id, m.member_id FROM member_accounts m "
                    "JOIN accounts a ON a.id = m.account_id"
                )
            )
        ).all()
    return {str(user): int(member) for user, member in rows}


async def _as(site: Site, ids: dict[str, int], user: str, role: Role) -> Visitor:
    holder = Holder(site.communities["one"], ids[user], int(role), "telegram", user)
    return await site.signed_in(holder)


async def _csrf(visitor: Visitor, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await visitor.get(path)).text())
    assert found is not None
    return found.group(1)


def _text(html: str) -> str:
    """What a reader sees: the tags gone, cells apart by one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/c/\d+/members/\d+">([^<]*)</a>', html)


async def test_members_are_searched_filtered_and_paged(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _people(site)
    visitor = await _as(site, ids, "mod", Role.MODERATOR)
    base = f"/c/{site.communities['one']}/members"
    try:
        html = await (await visitor.get(base)).text()
        assert _names(html) == ["ann", "bob", "cat", "dan", "eve", "mod"]
        assert "zed" not in html  # community two's member
        assert "6 members found." in html
        segments = {
            "new": ["eve"],
            "active": ["ann", "mod"],
            "at_risk": ["bob"],
            "dormant": ["cat"],
            "never": ["dan"],
        }
        for segment, names in segments.items():
            page = await (await visitor.get(base, params={"segment": segment})).text()
            assert _names(page) == names, segment
        assert _names(await (await visitor.get(base, params={"q": "AN"})).text()) == ["ann", "dan"]
        assert (await visitor.get(base, params={"segment": "nonsense"})).status == 404
        row = re.search(rf'<tr id="member-{ids["ann"]}">(.*?)</tr>', html, re.S)
        assert row is not None
        assert ">active<" in row.group(1)
        monkeypatch.setattr(members_page, "PAGE_SIZE", 4)
        first = await (await visitor.get(base)).text()
        assert _names(first) == ["ann", "bob", "cat", "dan"]
        assert "Page 1 of 2" in first
        second = await (await visitor.get(base, params={"page": "2"})).text()
        assert _names(second) == ["eve", "mod"]
        assert "Page 2 of 2" in second
    finally:
        await visitor.close()


async def test_a_members_page_shows_activity_points_and_warnings(site: Site) -> None:
    ids = await _people(site)
    one = site.communities["one"]
    visitor = await _as(site, ids, "mod", Role.MODERATOR)
    try:
        csrf = await _csrf(visitor, f"/c/{one}/moderation")
        warned = await visitor.post(
            f"/c/{one}/moderation",
            data={"csrf": csrf, "action": "warn", "member": "ann", "reason": "too loud"},
        )
        assert "ann is warned (#1): too loud" in await warned.text()
        html = await (await visitor.get(f"/c/{one}/members/{ids['ann']}")).text()
        assert '<h1 id="member-name">ann</h1>' in html
        # Messages per day, in the community's time zone (UTC here): one today, two
        # yesterday, one the day before; commands are not messages.
        assert "<title>03-01: 2</title>" in html
        assert "<title>02-28: 1</title>" in html
        assert "<title>03-02: 1</title>" in html
        cards = re.search(r'id="points">(.*?)</div>\s*<h2', html, re.S)
        assert cards is not None
        assert 'Messages (30 days)</div><div class="value">4<' in cards.group(1)
        async with site.engine.services.database.session() as session:
            xp, level = (
                await session.execute(
                    text("SELECT xp, level FROM points_totals WHERE member_id = :m"),
                    {"m": ids["ann"]},
                )
            ).one()
        assert f'<div class="value">{xp:,}</div>' in cards.group(1)
        assert f'<div class="value">{level}</div>' in cards.group(1)
        assert '<div class="value">#1</div>' in cards.group(1)  # the most XP
        assert "2026-03-02 10:00 (UTC) +100 XP given by an admin — helpful answers" in _text(html)
        assert "too loud" in html
        assert "#1" in html
        assert "mod" in html  # who warned
        # A moderator sees no privacy actions.
        assert 'id="forget"' not in html
        assert 'id="export"' not in html
    finally:
        await visitor.close()


async def test_export_and_forget_are_confirmed_and_do_what_the_commands_do(site: Site) -> None:
    ids = await _people(site)
    one = site.communities["one"]
    visitor = await _as(site, ids, "ann", Role.ADMIN)
    bob = f"/c/{one}/members/{ids['bob']}"
    try:
        csrf = await _csrf(visitor, bob)
        asked = await (await visitor.post(f"{bob}/export", data={"csrf": csrf})).text()
        assert "Yes, download it" in asked
        assert "data-confirm=" in asked
        download = await visitor.post(f"{bob}/export", data={"csrf": csrf, "confirm": "yes"})
        assert download.headers["Content-Disposition"].endswith(f'-{ids["bob"]}.json"')
        exported = json.loads(await download.text())
        privacy = site.engine.feature(PrivacyFeature)
        assert privacy is not None
        mydata = {"community": exported["community"], **await privacy.export(one, ids["bob"])}
        assert exported == mydata  # the same JSON /mydata sends (same clock, same moment)
        assert exported["member"]["display_name"] == "bob"
        assert [m["text"] for m in exported["messages"]] == ["bob was here ten days ago"]

        asked = await (await visitor.post(f"{bob}/forget", data={"csrf": csrf})).text()
        assert "This cannot be undone." in asked
        assert "data-confirm=" in asked
        assert "bob" in _names(await (await visitor.get(f"/c/{one}/members")).text())
        done = await visitor.post(f"{bob}/forget", data={"csrf": csrf, "confirm": "yes"})
        assert "texts, name and point details here are deleted" in await done.text()
        listed = await (await visitor.get(f"/c/{one}/members")).text()
        assert "bob" not in _names(listed)
        assert FORGOTTEN_NAME not in listed
        async with site.engine.services.database.session() as session:
            texts = (
                await session.execute(
                    text("SELECT text FROM messages WHERE member_id = :m"), {"m": ids["bob"]}
                )
            ).all()
        assert texts == [(None,)]  # the message is still counted, its text gone
    finally:
        await visitor.close()


async def test_the_audit_log_undoes_and_phrases_are_blocked(site: Site) -> None:
    ids = await _people(site)
    one = site.communities["one"]
    admin = await _as(site, ids, "ann", Role.ADMIN)
    moderator = await _as(site, ids, "mod", Role.MODERATOR)
    here = f"/c/{one}/moderation"
    try:
        csrf = await _csrf(admin, f"/c/{one}/settings")
        await admin.post(
            f"/c/{one}/settings",
            data={"csrf": csrf, "action": "timezone", "timezone": "Asia/Shanghai"},
        )
        blocked = await admin.post(
            f"{here}/words", data={"csrf": csrf, "action": "add", "phrase": "buy followers"}
        )
        assert "“buy followers” is blocked." in await blocked.text()
        actions = await _say(site, "bob", "cheap! buy followers here", "b2")
        assert any(isinstance(a, DeleteMessage) for a in actions)  # the bot acts on it at once
        await site.engine.commit()

        mod_csrf = await _csrf(moderator, here)
        warned = await moderator.post(
            here, data={"csrf": mod_csrf, "action": "warn", "member": "cat", "reason": "rude"}
        )
        assert "cat is warned" in await warned.text()
        html = await (await moderator.get(here)).text()
        assert "buy followers" in html  # listed; only admins may change the list
        assert 'id="block-phrase"' not in html
        rows = re.findall(r'<tr id="action-(\d+)"[^>]*>(.*?)</tr>', html, re.S)
        assert len(rows) >= 2
        newest_id, newest = rows[0]
        assert "warned" in newest
        assert "cat" in newest
        assert "rude" in newest
        assert "2026-03-02 18:05 (Asia/Shanghai)" in newest  # local time, labelled
        assert any("deleted" in row and "bob" in row for _, row in rows[1:])

        undone = await moderator.post(
            here, data={"csrf": mod_csrf, "action": "undo", "entry": newest_id}
        )
        page = await undone.text()
        assert f"Undone: #{newest_id} (cat)." in page
        row = re.search(rf'<tr id="action-{newest_id}"[^>]*>(.*?)</tr>', page, re.S)
        assert row is not None
        assert "(undone)" in row.group(1)
        assert "(revoked)" in page  # the warning it gave
        async with site.engine.services.database.session() as session:
            active = await count_warnings(
                session, community_id=one, member_id=ids["cat"], since=START - timedelta(days=1)
            )
        assert active == 0
        again = await moderator.post(
            here, data={"csrf": mod_csrf, "action": "undo", "entry": newest_id}
        )
        assert f"Action #{newest_id} was already undone." in await again.text()

        allowed = await admin.post(
            f"{here}/words", data={"csrf": csrf, "action": "remove", "phrase": "buy followers"}
        )
        assert "“buy followers” is allowed again." in await allowed.text()
        assert not any(
            isinstance(a, DeleteMessage) for a in await _say(site, "bob", "buy followers", "b3")
        )
    finally:
        await admin.close()
        await moderator.close()


def _setting(html: str, key: str) -> tuple[str, str]:
    """A setting's value and source as its row on the Settings page shows them."""
    row = re.search(rf'<tr id="setting-{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert row is not None, key
    cells = row.group(1)
    chosen = re.search(r'<option value="(\w+)" selected>', cells) or re.search(
        r'<input type="text" name="value" value="([^"]*)"', cells
    )
    value = chosen.group(1) if chosen else "off"
    (source,) = re.findall(r'<td class="muted">(.*?)</td>', cells)
    return value, source


async def test_settings_change_language_and_zone_with_the_commands_checks(site: Site) -> None:
    ids = await _people(site)
    one = site.communities["one"]
    visitor = await _as(site, ids, "ann", Role.ADMIN)
    here = f"/c/{one}/settings"
    try:
        html = await (await visitor.get(here)).text()
        assert "starts with the value in Hearth&#39;s config file" in html
        assert _setting(html, "points.message_xp_min") == ("15", "config file")
        assert _setting(html, "points.enabled") == ("on", "config file")
        assert _setting(html, "moderation.enabled") == ("on", "config file")
        csrf = await _csrf(visitor, here)
        # XP rules and switches go through /config: its checks, its wording.
        refused = await (
            await visitor.post(
                here,
                data={"csrf": csrf, "action": "config", "key": "points.daily_cap", "value": "-1"},
            )
        ).text()
        assert "Not changed: points.daily_cap: Input should be greater than or equal to 0" in (
            refused
        )
        assert _setting(refused, "points.daily_cap") == ("1000", "config file")
        for key, value in (("points.daily_cap", "300"), ("moderation.enabled", "off")):
            form = {"csrf": csrf, "action": "config", "key": key, "value": value}
            changed = await (await visitor.post(here, data=form)).text()
            assert f"Changed: {key} = {value} (set here)" in changed
            assert _setting(changed, key) == (value, "set here")
        form = {"csrf": csrf, "action": "config", "key": "points.daily_cap", "value": ""}
        back = await (await visitor.post(here, data=form)).text()
        assert "Back to the config file&#39;s value: points.daily_cap = 1000" in back
        unknown = {"csrf": csrf, "action": "config", "key": "web.listen", "value": "x"}
        assert (await visitor.post(here, data=unknown)).status == 400
        wrong = await (
            await visitor.post(
                here, data={"csrf": csrf, "action": "timezone", "timezone": "Mars/Base"}
            )
        ).text()
        assert "timezone: unknown time zone &#39;Mars/Base&#39;; use an IANA name" in wrong
        assert 'value="UTC"' in wrong  # unchanged
        right = await (
            await visitor.post(
                here, data={"csrf": csrf, "action": "timezone", "timezone": "Asia/Shanghai"}
            )
        ).text()
        assert "Time zone set to Asia/Shanghai." in right
        assert 'value="Asia/Shanghai"' in right
        chinese = await (
            await visitor.post(here, data={"csrf": csrf, "action": "language", "language": "zh"})
        ).text()
        assert "语言已设置为简体中文。" in chinese
        assert '<html lang="zh_Hans">' in chinese
        assert "<h1>设置</h1>" in chinese
        members = await (await visitor.get(f"/c/{one}/members")).text()
        assert "<h1>成员</h1>" in members
        assert "找到 6 位成员。" in members
        member = await (await visitor.get(f"/c/{one}/members/{ids['ann']}")).text()
        assert "+100 XP 管理员奖励 — helpful answers" in _text(member)
        assert "2026-03-02 18:00 (Asia/Shanghai)" in member
    finally:
        await visitor.close()


async def test_who_may_do_what(site: Site) -> None:
    ids = await _people(site)
    one, two = site.communities["one"], site.communities["two"]
    moderator = await _as(site, ids, "mod", Role.MODERATOR)
    admin = await _as(site, ids, "ann", Role.ADMIN)
    try:
        csrf = await _csrf(moderator, f"/c/{one}/members")
        # Settings and the admin-only actions: 403 for a moderator, nothing done.
        assert (await moderator.get(f"/c/{one}/settings")).status == 403
        for path, form in (
            (f"/c/{one}/settings", {"action": "language", "language": "zh_Hans"}),
            (f"/c/{one}/moderation/words", {"action": "add", "phrase": "spam"}),
            (f"/c/{one}/members/{ids['bob']}/forget", {"confirm": "yes"}),
            (f"/c/{one}/members/{ids['bob']}/export", {"confirm": "yes"}),
        ):
            assert (await moderator.post(path, data={"csrf": csrf, **form})).status == 403, path
        # Forms without the session's CSRF token: 403, whatever the role.
        admin_csrf = await _csrf(admin, f"/c/{one}/settings")
        for path, form in (
            (f"/c/{one}/settings", {"action": "language", "language": "zh_Hans"}),
            (f"/c/{one}/moderation", {"action": "warn", "member": "bob", "reason": "x"}),
            (f"/c/{one}/moderation/words", {"action": "add", "phrase": "spam"}),
            (f"/c/{one}/members/{ids['bob']}/forget", {"confirm": "yes"}),
        ):
            assert (await admin.post(path, data=form)).status == 403, path
            wrong = {**form, "csrf": "forged"}
            assert (await admin.post(path, data=wrong)).status == 403, path
        # Another community's member, through this community's address: not found.
        zed = ids["zed"]
        assert (await admin.get(f"/c/{one}/members/{zed}")).status == 404
        gone = await admin.post(
            f"/c/{one}/members/{zed}/forget", data={"csrf": admin_csrf, "confirm": "yes"}
        )
        assert gone.status == 404
        assert (await admin.get(f"/c/{one}/members/nobody")).status == 404
        # Another community's pages: not found.
        for path in ("members", f"members/{zed}", "moderation", "settings"):
            assert (await admin.get(f"/c/{two}/{path}")).status == 404, path
        # Nothing above changed anything.
        async with site.engine.services.database.session() as session:
            state = (
                await session.execute(
                    text(
                        "SELECT (SELECT language FROM communities WHERE id = :one), "
                        "(SELECT count(*) FROM blocked_phrases), "
                        "(SELECT count(*) FROM warnings), "
                        "(SELECT display_name FROM members WHERE id = :zed), "
                        "(SELECT display_name FROM members WHERE id = :bob)"
                    ),
                    {"one": one, "zed": zed, "bob": ids["bob"]},
                )
            ).one()
        assert tuple(state) == ("en", 0, 0, "zed", "bob")
        # Anonymous visitors: forms are unauthorised, pages go to sign-in.
        anonymous = site.client()
        try:
            assert (await anonymous.post(f"/c/{one}/moderation", data={})).status == 401
            page = await anonymous.get(f"/c/{one}/members", allow_redirects=False)
            assert page.status == 303
        finally:
            await anonymous.close()
    finally:
        await moderator.close()
        await admin.close()


async def test_settings_show_the_communitys_own_xp_rules(db_url: str) -> None:
    overrides = {"communities": {"group -100": {"message_xp_min": 1, "checkin_xp": 33}}}
    async for opened in open_site(db_url, points=overrides, faq={"enabled": False}):
        holder = Holder(opened.communities["one"], None, int(Role.ADMIN))
        visitor = await opened.signed_in(holder)
        try:
            html = await (await visitor.get(f"/c/{opened.communities['one']}/settings")).text()
            assert _setting(html, "points.message_xp_min") == ("1", "config file")
            assert _setting(html, "points.checkin_xp") == ("33", "config file")
            assert "its own XP rules in the file, under points.communities" in html
            assert _setting(html, "faq.enabled") == ("off", "off in the config file")
            other = Holder(opened.communities["two"], None, int(Role.ADMIN))
            second = await opened.signed_in(other)
            try:
                page = await second.get(f"/c/{opened.communities['two']}/settings")
                html = await page.text()
                assert _setting(html, "points.message_xp_min") == ("15", "config file")
                assert "its own XP rules" not in html
            finally:
                await second.close()
        finally:
            await visitor.close()
