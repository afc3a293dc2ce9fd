"""`hearth web`, `hearth web link` and `hearth run` with `web.enabled`, as an operator runs
them (subprocesses on a free port): the dashboard is served from the database alone, a link
printed by the CLI or sent by /dashboard in the console signs in once, and stopping is clean.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(directory: Path, port: int, *, enabled: bool) -> Path:
    path = directory / "hearth.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{directory / "hearth.db"}"\n'
        f'[web]\nenabled = {"true" if enabled else "false"}\nlisten = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    return path


async def _hearth(*args: str, stdin: int | None = None) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    environment["PYTHONPATH"] = str(ROOT)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        *args,
        stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )


async def _until_serving(base: str) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(30):
        while True:
            try:
                async with session.get(f"{base}/login") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)


async def _sign_in(base: str, link: str) -> tuple[int, str]:
    """POST the link; the status of the overview it leads to and that page's heading."""
    path = link.split("/auth/", 1)[1]
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as session,
        session.post(f"{base}/auth/{path}") as response,
    ):
        page = await response.text()
        heading = re.search(r"<h1>(.*?)</h1>", page)
        return response.status, heading.group(1) if heading else ""


async def test_hearth_web_serves_the_database_and_its_link_signs_in_once(tmp_path: Path) -> None:
    port = _free_port()
    config = _config(tmp_path, port, enabled=False)
    made = await _hearth("run", "--config", str(config), "--admin", stdin=asyncio.subprocess.PIPE)
    out, _ = await made.communicate(b"hello from the console\n")
    assert made.returncode == 0, out
    printed = await _hearth("web", "link", "--config", str(config))
    link, told = await printed.communicate()
    assert printed.returncode == 0, told
    link_text = link.decode().strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/auth/[A-Za-z0-9_-]{{43}}", link_text)
    assert "admin rights" in told.decode()
    server = await _hearth("web", "--config", str(config))
    base = f"http://127.0.0.1:{port}"
    try:
        await _until_serving(base)
        assert await _sign_in(base, link_text) == (200, "Overview")
        assert (await _sign_in(base, link_text))[0] == 403  # once only
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(server.communicate(), 15)
    assert server.returncode == 0
    assert b"Traceback" not in errors


async def test_hearth_run_with_web_enabled_serves_it_and_dashboard_prints_a_link(
    tmp_path: Path,
) -> None:
    port = _free_port()
    config = _config(tmp_path, port, enabled=True)
    process = await _hearth(
        "run", "--config", str(config), "--admin", stdin=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        await _until_serving(base)
        process.stdin.write(b"/dashboard\n")
        await process.stdin.drain()
        async with asyncio.timeout(15):
            line = b""
            while b"/auth/" not in line:
                line = await process.stdout.readline()
        link = re.search(r"http://\S+/auth/\S+", line.decode())
        assert link is not None
        assert await _sign_in(base, link.group()) == (200, "Overview")
    finally:
        process.stdin.close()
        _, errors = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0
    assert b"Traceback" not in errors
