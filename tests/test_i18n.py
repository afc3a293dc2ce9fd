"""Every user-facing string has an English and a Simplified Chinese translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import LANGUAGES, load_catalog, normalize_language, translator

ROOT = Path(__file__).resolve().parents[1]
_FIELD = re.compile(r"\{(\w*)[^}]*\}")


def _source_strings() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "adapters", "web"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}},
            keywords={"_": None, "N_": None, "tr": None},
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def test_the_dashboards_templates_are_read() -> None:
    assert "What would Hearth answer?" in _source_strings()


def test_source_has_strings_to_translate() -> None:
    assert "Commands you can use:" in _source_strings()


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_string_is_translated(language: str) -> None:
    catalog = load_catalog(language)
    missing = sorted(_source_strings() - set(catalog))
    assert missing == [], f"untranslated in {language}: {missing}"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_translations_keep_placeholders(language: str) -> None:
    for source, translated in load_catalog(language).items():
        assert set(_FIELD.findall(source)) == set(_FIELD.findall(translated)), source


def test_chinese_catalog_is_chinese() -> None:
    catalog = load_catalog("zh_Hans")
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in catalog.values())


def test_language_aliases() -> None:
    assert normalize_language("zh-CN") == "zh_Hans"
    assert normalize_language("EN_us") == "en"
    assert normalize_language("fr") is None
    assert translator("unknown")("Commands you can use:") == "Commands you can use:"
    assert translator("zh")("Commands you can use:") == "你可以使用的命令："
