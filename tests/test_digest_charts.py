"""Digest charts speak the community's language: Chinese labels in a Chinese community, drawn
with a font that has the characters (no "Glyph missing"), English when no such font exists."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.clock import ManualClock
from bot.features.digest import charts
from bot.i18n import translator
from tests.console import play

FONT_HINT = (
    "No font with Chinese characters is installed, so the Chinese chart test is skipped. "
    "Install one (Debian: `apt-get install fonts-wqy-microhei`; .ci/run does)."
)
SERIES = [(f"2026-01-{day:02d}", day, day % 4) for day in range(1, 31)]
MATRIX = [[(row * 24 + hour) % 5 for hour in range(24)] for row in range(7)]


def _require_cjk_font() -> None:
    if charts.cjk_font() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but no CJK font was found; " + FONT_HINT)
        pytest.skip(FONT_HINT)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts of every figure saved, read right after saving (tick labels included)."""
    saved: list[list[str]] = []
    original = Figure.savefig

    def savefig(self: Figure, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        saved.append([t.get_text() for t in self.findobj(Text) if t.get_text()])

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


async def test_a_chinese_community_gets_chinese_chart_labels(
    tmp_path: Path, drawn: list[list[str]]
) -> None:
    _require_cjk_font()
    clock = ManualClock(datetime(2026, 1, 6, 12, 0, tzinfo=UTC))
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    script = "/language zh_Hans\n大家好\n@ann: 你好\n/digest\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lines = await play(
            url,
            clock,
            script,
            community="茶馆",
            schedule={"worker": False},
            digest={"charts": True},
        )
    assert "[image: " in "\n".join(lines)  # the digest came with its chart
    (texts,) = drawn
    for label in (
        "消息",
        "活跃成员",
        "按星期和小时统计的消息",
        "小时（当地时间）",
        "周一",
        "周日",
    ):
        assert label in texts
    assert any(text.startswith("消息与活跃成员，") for text in texts)
    for english in ("messages", "active members", "Mon", "hour (local time)"):
        assert english not in texts
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert glyphs == []


def test_english_stays_english(tmp_path: Path, drawn: list[list[str]]) -> None:
    charts.digest_chart(SERIES, MATRIX, tmp_path / "c.png", translator("en"))
    (texts,) = drawn
    assert {"messages", "active members", "Mon", "Sun", "hour (local time)"} <= set(texts)
    assert "Messages and active members, 2026-01-01 – 2026-01-30" in texts


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine without any font for Chinese."""
    fonts = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FAMILIES]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", fonts)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *args, **kwargs: [])
    charts.cjk_font.cache_clear()
    yield
    charts.cjk_font.cache_clear()


@pytest.mark.usefixtures("no_cjk_font")
def test_without_a_chinese_font_labels_fall_back_to_english_with_one_warning(
    tmp_path: Path, drawn: list[list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    zh = translator("zh_Hans")
    with caplog.at_level(logging.WARNING), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.digest_chart(SERIES, MATRIX, tmp_path / "a.png", zh)
        charts.activity_chart(SERIES, tmp_path / "b.png", zh)
        charts.heatmap_chart(MATRIX, tmp_path / "c.png", zh)
    assert all((tmp_path / f"{n}.png").read_bytes().startswith(b"\x89PNG") for n in "abc")
    assert all("Mon" in texts or "messages" in texts for texts in drawn)
    assert not [text for texts in drawn for text in texts if "消息" in text]
    warned = [r for r in caplog.records if "no font for Chinese" in r.getMessage()]
    assert len(warned) == 1
    assert [w for w in caught if "Glyph" in str(w.message)] == []


async def test_the_digest_command_line_draws_chinese_charts(
    tmp_path: Path, drawn: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_cjk_font()
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    clock = ManualClock(datetime(2026, 1, 6, 12, 0, tzinfo=UTC))
    script = "/language zh_Hans\n大家好\n@ann: 你好\n"
    await play(url, clock, script, community="茶馆", schedule={"worker": False})
    monkeypatch.setenv("HEARTH_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    from adapters.cli import main

    status = await asyncio.to_thread(
        main, ["digest", "--date", "2026-01-06", "--charts", str(tmp_path / "charts")]
    )
    assert status == 0
    assert len(drawn) == 2
    assert "周一" in drawn[1]
    assert not any("Mon" in texts for texts in drawn)
