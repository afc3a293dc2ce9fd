"""Translation of every user-facing string.

Catalogs are gettext `.po` files under ``bot/locale/<language>/LC_MESSAGES/hearth.po``, read
with Babel at start (no compile step, so a catalog can never be stale). Code marks strings with
``_("...")`` where it has a translator, or ``N_("...")`` where the string is translated later
(command help texts); ``pybabel extract -k N_`` finds both.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Protocol

from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Translator",
    "normalize_language",
    "translator",
]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "hearth"
DEFAULT_LANGUAGE = "en"
#: Shipped catalogs and what they are called in their own language.
LANGUAGES: Mapping[str, str] = {"en": "English", "zh_Hans": "简体中文"}
_ALIASES = {
    "en": "en",
    "en_us": "en",
    "en_gb": "en",
    "english": "en",
    "zh": "zh_Hans",
    "zh_hans": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "chinese": "zh_Hans",
}


class Translator(Protocol):
    """Translate a message id into the community's language."""

    def __call__(self, message: str, /) -> str:
        """Return the translation of `message` (the message itself when there is none)."""
        ...


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now."""
    return message


def normalize_language(code: str) -> str | None:
    """Map a language code or alias (``zh-CN``, ``zh``, ``en_US``) to a shipped catalog."""
    return _ALIASES.get(code.strip().replace("-", "_").lower())


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    """Read one language's catalog as a ``msgid -> msgstr`` mapping (empty strings dropped)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language.replace("_Hans", ""))
    entries: dict[str, str] = {}
    for message in catalog:
        text = message.string
        if isinstance(message.id, str) and isinstance(text, str) and text and not message.fuzzy:
            entries[message.id] = text
    return entries


class _CatalogTranslator:
    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = entries

    def __call__(self, message: str, /) -> str:
        return self._entries.get(message, message)


@cache
def translator(language: str) -> Translator:
    """Return the translator for `language`, falling back to English for unknown codes."""
    resolved = normalize_language(language) or DEFAULT_LANGUAGE
    return _CatalogTranslator(load_catalog(resolved))
