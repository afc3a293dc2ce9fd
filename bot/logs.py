"""Logging setup that never writes a secret: tokens and database passwords are masked in
every record — the configured secrets wherever they appear, and any password in a URL
(``scheme://user:password@host``) or a ``password=`` parameter whatever it is."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["RedactSecrets", "configure_logging", "mask_urls", "url_secrets"]

MASK = "***"
#: Libraries that log full request URLs (the Telegram token is part of the URL) at INFO.
CHATTY = ("httpx", "httpcore", "discord.http", "discord.gateway", "aiosqlite", "asyncio")
#: The password of a URL's user part: `postgresql+asyncpg://user:PASSWORD@host/db`.
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.IGNORECASE)
#: A password given as a parameter: `?password=…`, `&password=…`, or in a DSN `password=…`.
_PASSWORD_PARAM = re.compile(r"((?<![a-z0-9_])password=)[^\s&;'\"]+", re.IGNORECASE)


def mask_urls(text: str) -> str:
    """`text` with the password of every URL and every ``password=`` value masked."""
    if "password=" not in text.lower() and "@" not in text:
        return text
    return _PASSWORD_PARAM.sub(rf"\1{MASK}", _URL_PASSWORD.sub(rf"\1{MASK}@", text))


def url_secrets(url: str) -> list[str]:
    """The secrets in a URL (its password and any ``password`` parameter), as written and
    decoded, to mask wherever else they turn up in the log."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [value for key, value in parse_qsl(parts.query) if key.lower() == "password"]
    return [form for secret in found if secret for form in {secret, unquote(secret)}]


class RedactSecrets(logging.Filter):
    """Replaces each secret with *** in the formatted message and its arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return mask_urls(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in the record (always lets it through)."""
        record.msg = self._clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`, with `secrets` masked and chatty libraries kept at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
