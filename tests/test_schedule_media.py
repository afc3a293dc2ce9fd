"""`/schedule image` posts only http(s) links or image files inside `schedule.media_dir`.

Issue 24 item 1: `/schedule image daily 10:00 | /etc/passwd | leak?` used to be accepted and
post the host's file. Every refusal is proven through the console as an admin types it; a
schedule stored earlier with a bad path is proven never uploaded through the real discord.py
and python-telegram-bot clients against the fakes; linked images are fetched from a local
aiohttp server, size-capped and type-checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from aiohttp import web
from sqlalchemy import select

from adapters.discord_adapter import DiscordAdapter
from adapters.images import ImageFetcher, ImageFetchError
from adapters.telegram_adapter import TelegramAdapter
from bot.bootstrap import build_engine
from bot.clock import ManualClock
from bot.engine import Engine
from bot.errors import DeliveryFailed
from bot.events import Place, Post
from bot.features.schedule.feature import ScheduleFeature
from bot.features.schedule.runner import RunReport
from storage.identity import ChannelRef, ensure_group, update_community
from storage.models import ScheduleRun
from storage.schedule import NewSchedule, add_schedule
from tests import console
from tests.conftest import make_settings
from tests.fakes.discord_server import GENERAL_ID, GUILD_ID, MODS_ID, FakeDiscord
from tests.fakes.telegram_server import FakeTelegram

PNG = b"\x89PNG\r\n\x1a\n" + bytes(56)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
TEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
NO_LOCAL = (
    "is not an http(s) link, and this Hearth posts no local files (schedule.media_dir is not "
    "set): link to an image, e.g. https://example.com/cat.png"
)
OUTSIDE = (
    "is not in the media folder: name an image file inside it, e.g. banner.png or "
    "events/banner.png (.. and links out of the folder are refused)."
)
NOT_IMAGE = "is not an image: use a PNG, JPEG, GIF or WebP file (.png, .jpg, .jpeg, .gif, .webp)."
LINKS_ONLY = (
    "cannot be posted: an image is an http:// or https:// link, or an image file in the media "
    "folder."
)


async def play(tmp_path: Path, script: str, **schedule: Any) -> list[str]:
    """Run `script` through the console as its admin; the lines Hearth wrote."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return await console.play(
        url, ManualClock(START), script, community="c", raw=True, schedule=schedule
    )


def posted(lines: list[str]) -> list[str]:
    """The lines of posts in #general (scheduled posts), with the image line under each."""
    return [line for line in lines if line.startswith(("hearth> [#general]", "hearth> [image:"))]


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A host with secrets beside the media folder: the database and a config in the working
    directory, an image outside the folder, and in it a good image, a link out, a text file
    named like an image, a text file, and a folder named like an image."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hearth.db").write_bytes(b"SQLite format 3\x00 secrets")
    (tmp_path / "hearth.toml").write_text('[discord]\ntoken = "secret-token"\n')
    (tmp_path / "secret.png").write_bytes(PNG)
    media = tmp_path / "media"
    (media / "events").mkdir(parents=True)
    (media / "good.png").write_bytes(PNG)
    (media / "events" / "party.png").write_bytes(PNG)
    (media / "link.png").symlink_to(tmp_path / "secret.png")
    (media / "token.png").symlink_to(tmp_path / "hearth.toml")
    (media / "notes.png").write_text("not an image at all")
    (media / "notes.txt").write_bytes(PNG)
    (media / "folder.png").mkdir()
    return media


# ---------------------------------------------------------------------- the console


async def test_without_a_media_folder_no_local_file_is_accepted(tmp_path: Path, host: Path) -> None:
    lines = await play(
        tmp_path,
        "/schedule image daily 10:00 | /etc/passwd | leak?\n"
        "/schedule image daily 10:00 | hearth.db | leak?\n"
        "/schedule image daily 10:00 | hearth.toml\n"
        "/schedule image daily 10:00 | /proc/self/environ\n"
        f"/schedule image daily 10:00 | {tmp_path / 'secret.png'}\n"
        "/schedule image daily 10:00 | file:///etc/passwd | leak?\n"
        "/schedule list\n"
        "~ +1d\n",
    )
    for path in ("/etc/passwd", "hearth.db", "hearth.toml", "/proc/self/environ"):
        assert f"hearth> '{path}' {NO_LOCAL}" in lines
    assert f"hearth> '{tmp_path / 'secret.png'}' {NO_LOCAL}" in lines
    assert f"hearth> 'file:///etc/passwd' {LINKS_ONLY}" in lines
    assert "hearth> Nothing is scheduled. Add a post with /schedule add <when> | <text>." in lines
    assert posted(lines) == []


async def test_only_image_files_inside_the_media_folder_are_accepted(
    tmp_path: Path, host: Path
) -> None:
    refused = [
        "/etc/passwd",
        "/proc/self/environ",
        str(tmp_path / "secret.png"),
        "../secret.png",
        "events/../../secret.png",
        f"{host}/../secret.png",
        "link.png",
        "token.png",
    ]
    script = "".join(f"/schedule image daily 10:00 | {path} | leak?\n" for path in refused)
    lines = await play(
        tmp_path,
        script + "/schedule image daily 10:00 | hearth.db | leak?\n"
        "/schedule image daily 10:00 | file:///etc/passwd\n"
        "/schedule image daily 10:00 | notes.png\n"
        "/schedule image daily 10:00 | notes.txt\n"
        "/schedule image daily 10:00 | folder.png\n"
        "/schedule image daily 10:00 | good.png | Good morning!\n"
        f"/schedule image daily 10:00 | {host / 'events' / 'party.png'} | Party!\n"
        "/schedule show 2\n"
        "~ +1d\n",
        media_dir=str(host),
    )
    for path in refused:
        assert f"hearth> '{path}' {OUTSIDE}" in lines, path
    # A relative name is looked up in the media folder, never in the working directory.
    assert "hearth> there is no file 'hearth.db' in the media folder" in lines
    assert f"hearth> 'file:///etc/passwd' {LINKS_ONLY}" in lines
    assert f"hearth> 'notes.png' {NOT_IMAGE}" in lines
    assert f"hearth> 'notes.txt' {NOT_IMAGE}" in lines
    assert "hearth> 'folder.png' is not a regular file" in lines
    assert "hearth> Scheduled post #1: daily 10:00 (UTC), in this channel." in lines
    assert "hearth> Image: events/party.png" in lines  # stored by its name in the folder
    assert posted(lines) == [
        "hearth> [#general] Good morning!",
        f"hearth> [image: {host / 'good.png'}]",
        "hearth> [#general] Party!",
        f"hearth> [image: {host / 'events' / 'party.png'}]",
    ]


async def test_links_must_be_http_to_a_public_host_and_images_within_the_cap(
    tmp_path: Path, host: Path
) -> None:
    (host / "big.png").write_bytes(PNG + bytes(4096))
    lines = await play(
        tmp_path,
        "/schedule image daily 10:00 | ftp://example.com/cat.png\n"
        "/schedule image daily 10:00 | javascript:alert(1)\n"
        "/schedule image daily 10:00 | https:///cat.png\n"
        "/schedule image daily 10:00 | https://example.com/dump.sql\n"
        "/schedule image daily 10:00 | http://127.0.0.1:8080/cat.png\n"
        "/schedule image daily 10:00 | http://localhost/cat.png\n"
        "/schedule image daily 10:00 | http://169.254.169.254/latest/meta-data\n"
        "/schedule image daily 10:00 | http://[::1]/cat.png\n"
        "/schedule image daily 10:00 | big.png\n"
        "/schedule image daily 10:00 | https://example.com/cat.png?size=2 | Cat\n",
        media_dir=str(host),
        max_image_bytes=2048,
    )
    for link in ("ftp://example.com/cat.png", "javascript:alert(1)"):
        assert f"hearth> '{link}' {LINKS_ONLY}" in lines
    assert (
        "hearth> 'https:///cat.png' is not a complete link; e.g. https://example.com/cat.png"
        in lines
    )
    assert (
        "hearth> 'https://example.com/dump.sql' does not link to an image: a link may end in "
        ".png, .jpg, .jpeg, .gif, .webp, or in none." in lines
    )
    private = (
        "points at this machine or a private network; Hearth posts images from public links only."
    )
    for link in (
        "http://127.0.0.1:8080/cat.png",
        "http://localhost/cat.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/cat.png",
    ):
        assert f"hearth> '{link}' {private}" in lines, link
    assert "hearth> 'big.png' is too large (4 KB); an image may have at most 2 KB" in lines
    assert "hearth> Scheduled post #1: daily 10:00 (UTC), in this channel." in lines


# ---------------------------------------------------------------------- linked images


@pytest.fixture
async def images() -> AsyncIterator[str]:
    """A local web server with a good image, a big one, a web page, a text file claiming to be
    a PNG, a missing file and redirects (one to a good image, one to this machine's name)."""

    async def cat(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=PNG + bytes(8192), content_type="image/png")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    async def liar(request: web.Request) -> web.Response:
        return web.Response(text="root:x:0:0:root:/root:/bin/bash", content_type="image/png")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/cat.png")

    async def inward(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{request.url.port}/cat.png")

    app = web.Application()
    for path, handler in (
        ("/cat.png", cat),
        ("/big.png", big),
        ("/page.png", page),
        ("/liar.png", liar),
        ("/moved", moved),
        ("/inward", inward),
    ):
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_fetching_caps_the_size_and_checks_the_type_and_bytes(images: str) -> None:
    fetcher = ImageFetcher(max_bytes=4096, allow_private=True)
    fetched = await fetcher.fetch(f"{images}/cat.png")
    assert (fetched.data, fetched.filename) == (PNG, "cat.png")
    assert (await fetcher.fetch(f"{images}/moved")).filename == "cat.png"
    problems = {
        "big.png": "over 4096",
        "page.png": "served text/html, not a PNG, JPEG, GIF or WebP image",
        "liar.png": "the content is not the png image it claims",
        "gone.png": "HTTP 404",
    }
    for name, problem in problems.items():
        with pytest.raises(ImageFetchError) as refused:
            await fetcher.fetch(f"{images}/{name}")
        assert problem in str(refused.value), name


async def test_fetching_refuses_this_machine_unless_allowed(images: str) -> None:
    public_only = ImageFetcher()
    port = yarl.URL(images).port
    for url, problem in (
        (f"{images}/cat.png", "127.0.0.1 is not a public address"),
        (f"http://localhost:{port}/cat.png", "localhost resolves to a non-public address"),
        (f"http://[::1]:{port}/cat.png", "::1 is not a public address"),
        ("file:///etc/passwd", "not an http(s) link"),
    ):
        with pytest.raises(ImageFetchError) as refused:
            await public_only.fetch(url)
        assert problem in str(refused.value), url
    # A public link redirecting to this machine is refused at the redirect.
    with pytest.raises(ImageFetchError) as inward:
        await _TrustedFirstHop(images).fetch(f"{images}/inward")
    assert "localhost resolves to a non-public address" in str(inward.value)
    assert (await ImageFetcher(allow_private=True).fetch(f"{images}/inward")).data == PNG


class _TrustedFirstHop(ImageFetcher):
    """Public-only, but trusts the first hop (as if the local server were a public one)."""

    def __init__(self, trusted: str) -> None:
        super().__init__()
        self.trusted = trusted

    def _check_url(self, url: str) -> None:
        if not url.startswith(self.trusted):
            super()._check_url(url)


# ---------------------------------------------------------------------- Discord and Telegram


@dataclass
class Hearth:
    engine: Engine
    clock: ManualClock
    community_id: int

    async def schedule(self, place: Place, image: str, text: str) -> None:
        """Store a schedule as an older Hearth (or a hand-edited database) would have."""
        async with self.engine.services.database.session() as session, session.begin():
            await add_schedule(
                session,
                schedule=NewSchedule(
                    community_id=self.community_id,
                    platform=place.platform,
                    group_id=place.group_id,
                    channel_id=place.channel_id,
                    thread_id=None,
                    expression="daily 10:00",
                    timezone="UTC",
                    kind="image",
                    text=text,
                    image=image,
                    items=(),
                    author_member_id=None,
                    created_at=START,
                    next_run_at=TEN,
                ),
            )

    async def at_ten(self) -> list[RunReport]:
        self.clock.set(TEN)
        feature = self.engine.feature(ScheduleFeature)
        assert feature is not None
        return await feature.tick()

    async def runs(self) -> list[tuple[int | None, str, int]]:
        async with self.engine.services.database.session() as session:
            rows = (await session.execute(select(ScheduleRun).order_by(ScheduleRun.id))).scalars()
            return [(r.schedule_id, r.outcome, r.attempts) for r in rows]


async def start_hearth(
    stack: AsyncExitStack,
    tmp_path: Path,
    platform: str,
    group: str,
    mods: ChannelRef,
    **sections: Any,
) -> Hearth:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", **sections)
    clock = ManualClock(START)
    engine = build_engine(settings, clock=clock)
    await engine.start()
    stack.push_async_callback(engine.stop)
    async with engine.services.database.session() as session, session.begin():
        found = await ensure_group(
            session,
            platform=platform,
            external_id=group,
            name="Tea house",
            language="en",
            timezone="UTC",
            now=START,
        )
        await update_community(session, community_id=found.community.id, mod_channel=mods)
    return Hearth(engine, clock, found.community.id)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _schedule_settings(media: Path) -> dict[str, Any]:
    # One attempt: a refused image pauses its schedule at once (retries are tested elsewhere).
    return {
        "worker": False,
        "media_dir": str(media),
        "allow_private_urls": True,
        "max_attempts": 1,
        "max_image_bytes": 4096,
    }


Started = Callable[[], Awaitable[tuple[Hearth, FakeDiscord]]]


@pytest.fixture
async def on_discord(
    tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Started]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with AsyncExitStack() as stack:

        async def start() -> tuple[Hearth, FakeDiscord]:
            fake = FakeDiscord()
            await fake.start()
            stack.push_async_callback(fake.close)
            monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
            monkeypatch.setattr(
                discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
            )
            mods = ChannelRef("discord", str(GUILD_ID), str(MODS_ID))
            hearth = await start_hearth(
                stack,
                tmp_path,
                "discord",
                str(GUILD_ID),
                mods,
                discord={"token": "test-token"},
                schedule=_schedule_settings(host),
            )
            adapter = DiscordAdapter(
                hearth.engine.services.settings,
                hearth.clock,
                client_options={"guild_ready_timeout": 0.05},
            )
            hearth.engine.attach(adapter.name, adapter.perform, adapter.member_role)
            task = asyncio.create_task(adapter.run(hearth.engine))
            stack.push_async_callback(_stop, task)
            async with asyncio.timeout(3):
                await adapter.ready.wait()
            return hearth, fake

        yield start


async def test_discord_never_uploads_a_stored_bad_path_and_uploads_good_images(
    on_discord: Started, host: Path, tmp_path: Path, images: str
) -> None:
    hearth, fake = await on_discord()
    general = Place("discord", str(GUILD_ID), str(GENERAL_ID))
    for bad in ("/etc/passwd", "hearth.db", "/proc/self/environ", str(tmp_path / "hearth.toml")):
        await hearth.schedule(general, bad, "leak?")  # #1-#4
    await hearth.schedule(general, "link.png", "leak?")  # #5: a symlink out of the folder
    await hearth.schedule(general, "good.png", "From the folder")  # #6
    await hearth.schedule(general, f"{images}/cat.png", "From a link")  # #7
    await hearth.schedule(general, f"{images}/page.png", "A web page")  # #8
    await hearth.schedule(general, f"{images}/big.png", "Too big")  # #9
    reports = await hearth.at_ten()
    assert sorted((r.schedule_id, r.outcome) for r in reports) == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
        (4, "failed"),
        (5, "failed"),
        (6, "posted"),
        (7, "posted"),
        (8, "failed"),
        (9, "failed"),
    ]
    general_posts = [
        c for c in fake.calls if c.method == "POST" and c.path == f"/channels/{GENERAL_ID}/messages"
    ]
    assert sorted((c.json["content"], tuple(c.files)) for c in general_posts) == [
        ("From a link", ("cat.png",)),
        ("From the folder", ("good.png",)),
    ]
    notes = [
        c.json["content"]
        for c in fake.calls
        if c.method == "POST" and c.path == f"/channels/{MODS_ID}/messages"
    ]
    assert len(notes) == 7
    passwd = next(n for n in notes if n.startswith("Scheduled post #1 "))
    assert passwd == (
        "Scheduled post #1 is paused and was not posted: its image cannot be posted "
        f"('/etc/passwd' {OUTSIDE}). Remove it (/schedule remove 1) and schedule the image "
        "again as an http(s) link or a file in the media folder."
    )
    page = next(n for n in notes if n.startswith("Scheduled post #8 "))
    assert "served text/html, not a PNG, JPEG, GIF or WebP image" in page
    big = next(n for n in notes if n.startswith("Scheduled post #9 "))
    assert "over 4096" in big
    assert [outcome for _, outcome, _ in await hearth.runs()] == [
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
        "posted",
        "posted",
        "failed",
        "failed",
    ]


async def test_telegram_never_uploads_a_stored_bad_path_and_uploads_good_images(
    tmp_path: Path, host: Path, images: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeTelegram()
    base_url = await fake.start()
    group = "-1001234"
    async with AsyncExitStack() as stack:
        stack.push_async_callback(fake.stop)
        hearth = await start_hearth(
            stack,
            tmp_path,
            "telegram",
            group,
            ChannelRef("telegram", group, group),
            telegram={"token": fake.token, "api_base_url": base_url},
            schedule=_schedule_settings(host),
        )
        adapter = TelegramAdapter(
            hearth.engine.services.settings, hearth.clock, retry_delays=(0.0,)
        )
        hearth.engine.attach(adapter.name, adapter.perform, adapter.member_role)
        stack.push_async_callback(_stop, asyncio.create_task(adapter.run(hearth.engine)))
        await fake.wait_for("getUpdates")
        place = Place("telegram", group, group)
        await hearth.schedule(place, "/etc/passwd", "leak?")
        await hearth.schedule(place, "../secret.png", "leak?")
        await hearth.schedule(place, "good.png", "From the folder")
        await hearth.schedule(place, f"{images}/cat.png", "From a link")
        await hearth.schedule(place, f"{images}/liar.png", "A text file")
        reports = await hearth.at_ten()
        assert sorted((r.schedule_id, r.outcome) for r in reports) == [
            (1, "failed"),
            (2, "failed"),
            (3, "posted"),
            (4, "posted"),
            (5, "failed"),
        ]
        photos = sorted((p["caption"], p["photo"]["file"]) for p in fake.sent("sendPhoto"))
        assert photos == [("From a link", "cat.png"), ("From the folder", "good.png")]
        notes = [m["text"] for m in fake.sent("sendMessage")]
        assert any(n.startswith("Scheduled post #1 is paused and was not posted") for n in notes)
        assert any(n.startswith("Scheduled post #2 is paused and was not posted") for n in notes)
        assert any("the content is not the png image it claims" in n for n in notes)
        assert not any("leak?" in n for n in notes)
        # The adapter itself refuses a link it may not fetch.
        with pytest.raises(DeliveryFailed):
            await adapter.perform(Post(place, "x", image=f"{images}/page.png"))
