"""Secrets never reach the log."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import RedactSecrets, configure_logging

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def test_tokens_are_masked_in_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN, "", "short"]))
    logger = logging.getLogger("test.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"bad url https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "bot***/getUpdates" in output
    assert "bot***/sendMessage" in output


def test_chatty_http_loggers_stay_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", [TOKEN])
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    logging.getLogger("hearth.test").debug("token is %s", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "HTTP Request" not in err
    assert "token is ***" in err
    logging.getLogger().handlers.clear()
    logging.getLogger().setLevel(logging.WARNING)
