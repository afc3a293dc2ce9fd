"""No secret in the log, no mass mention in what Hearth sends (issue 25 item 9): the database
password in every form, and ``@everyone`` / ``@here`` followed by any letter, digit or ``_``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.cli import _configure_logging
from bot.clock import ManualClock
from bot.logs import mask_urls, url_secrets
from storage.database import Database
from tests.conftest import make_settings
from tests.console import play
from tests.discord_hearth import hearth_on_discord
from tests.fakes.discord_server import GENERAL_ID, FakeDiscord, member

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret"
URLS = (
    f"postgresql+asyncpg://u:{SECRET}@127.0.0.1:1/db",
    f"postgresql+asyncpg://u@127.0.0.1:1/db?password={SECRET}",
)
HOSTILE = ("@everyone你好", "@everyone1", "@here_x", "@everyoneé", "@HERE")


@pytest.mark.parametrize("url", URLS)
def test_hearth_run_never_prints_the_database_password(tmp_path: Path, url: str) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    environment |= {"PYTHONPATH": str(ROOT), "HEARTH_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run", "--console"],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "127.0.0.1:1" in result.stderr  # it does say which database failed
    assert SECRET not in result.stderr + result.stdout
    assert "***" in result.stderr


async def test_log_records_mask_the_database_password(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = URLS[0]
    settings = make_settings(url, discord={"token": "discord-token-1234"})
    _configure_logging(settings)
    log = logging.getLogger("hearth.test.secrets")
    try:
        database = Database(url)
        try:
            await database.upgrade()
        except Exception:
            # What a failed connection logs: the URL as configured, and the error's text.
            log.exception("cannot reach %s", url)
        finally:
            await database.close()
        log.warning("the password alone: %s", SECRET)
        log.warning("a DSN: host=db user=u password=%s dbname=x", SECRET)
        log.warning("another URL: postgresql://admin:pw@db/hearth")  # short: masked by form
        log.warning("safe to show: %s", Database(URLS[1]).safe_url)
    finally:
        logging.getLogger().handlers.clear()
        logging.getLogger().setLevel(logging.WARNING)
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "cannot reach postgresql+asyncpg://u:***@127.0.0.1:1/db" in err
    assert "the password alone: ***" in err
    assert "password=*** dbname=x" in err
    assert "postgresql://admin:***@db/hearth" in err
    assert "db?password=***" in err


def test_url_secrets_are_found_as_written_and_decoded() -> None:
    assert set(url_secrets("postgresql://u:p%40ss%2Fw@h/db?password=q%26x")) == {
        "p%40ss%2Fw",
        "p@ss/w",
        "q&x",
    }
    assert url_secrets("sqlite+aiosqlite:///hearth.db") == []
    assert mask_urls("no url here, mail me @ noon") == "no url here, mail me @ noon"


async def test_mass_mentions_with_any_letter_after_them_are_defused_in_console_replies(
    sqlite_url: str, clock: ManualClock
) -> None:
    script = "".join(f"/help {mention}\n" for mention in HOSTILE)
    script += "/faq add What is the plan? | Tell @everyone你好 and @here_x.\nWhat is the plan?\n"
    lines = await play(sqlite_url, clock, script)
    for mention in HOSTILE:
        defused = "@\u200b" + mention[1:]
        expected = f"Unknown command /{defused.lower()}. Send /help to see what you can use."
        assert expected in lines, (mention, lines)
    assert not [line for line in lines if "@everyone" in line.lower() or "@here" in line.lower()]
    assert any("Tell @\u200beveryone你好 and @\u200bhere_x." in line for line in lines), lines


@pytest.fixture
async def discord_engine(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, clock: ManualClock
) -> AsyncIterator[tuple[FakeDiscord, Any]]:
    settings = make_settings(sqlite_url, discord={"token": "test-token"})
    async with hearth_on_discord(monkeypatch, settings, clock) as running:
        yield running


async def test_mass_mentions_with_any_letter_after_them_never_reach_discord(
    discord_engine: tuple[FakeDiscord, Any],
) -> None:
    fake, _engine = discord_engine
    alice, root = member(1001, "alice"), member(1002, "root")
    for n, mention in enumerate(HOSTILE, start=1):
        option = {"name": "command", "type": 3, "value": mention}
        await fake.dispatch("INTERACTION_CREATE", fake.interaction(alice, "help", [option]))
        (*_, answer) = await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", count=n)
        content = answer.json["data"]["content"]
        assert f"/@\u200b{mention[1:].lower()}." in content, content
        assert answer.json["data"]["allowed_mentions"] == {"parse": []}
    add = {
        "type": 1,
        "name": "add",
        "options": [
            {"name": "question", "type": 3, "value": "What is the plan?"},
            {"name": "answer", "type": 3, "value": "Tell @everyone你好 and @here_x."},
        ],
    }
    interaction = fake.interaction(root, "faq", [add], permissions=1 << 13)
    await fake.dispatch("INTERACTION_CREATE", interaction)
    await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", count=len(HOSTILE) + 1)
    await fake.dispatch("MESSAGE_CREATE", fake.message(alice, "What is the plan?"))
    (sent,) = await fake.wait_for("POST", rf"/channels/{GENERAL_ID}/messages")
    assert "Tell @\u200beveryone你好 and @\u200bhere_x." in sent.json["content"]
    assert sent.json["allowed_mentions"]["parse"] == []
