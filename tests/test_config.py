"""Settings: defaults, the TOML file, environment overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings, parse_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_embedded_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.database.url == "sqlite+aiosqlite:///hearth.db"
    assert settings.discord.token == ""
    assert settings.telegram.token == ""
    assert settings.activity.store_message_text is True
    assert settings.defaults.timezone == "UTC"


def test_example_config_is_valid_and_documents_every_key() -> None:
    example = ROOT / "config.example.toml"
    settings = load_settings(example, environ={})
    text = example.read_text(encoding="utf-8")
    for section, model in settings:
        for key in type(model).model_fields:
            documented = f"{key} =" in text or f"# {key} =" in text
            assert documented, f"config.example.toml does not document {section}.{key}"


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = tmp_path / "hearth.toml"
    path.write_text(
        '[defaults]\nlanguage = "zh-CN"\ntimezone = "Asia/Shanghai"\n'
        '[discord]\ntoken = "from-file"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        path,
        environ={
            "HEARTH_DISCORD_TOKEN": "from-env",
            "HEARTH_TELEGRAM_TOKEN": "tg",
            "HEARTH_DATABASE_URL": "postgresql+asyncpg://h@db/h",
        },
    )
    assert settings.defaults.language == "zh_Hans"
    assert settings.defaults.timezone == "Asia/Shanghai"
    assert settings.discord.token == "from-env"
    assert settings.telegram.token == "tg"
    assert settings.database.url == "postgresql+asyncpg://h@db/h"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"defaults": {"timezone": "Mars/Base"}},
            "defaults.timezone: unknown time zone 'Mars/Base'",
        ),
        ({"defaults": {"language": "fr"}}, "defaults.language: unknown language 'fr'; allowed: en"),
        ({"database": {"batch_size": 0}}, "database.batch_size: Input should be greater than"),
        ({"database": {"url": "mysql://x"}}, "database.url: must start with 'sqlite+aiosqlite://'"),
        ({"logging": {"level": "LOUD"}}, "logging.level: Input should be 'DEBUG'"),
        ({"activity": {"store_message_text": "maybe"}}, "activity.store_message_text:"),
        ({"discrod": {"token": "x"}}, "discrod: unknown key"),
        ({"discord": {"tokken": "x"}}, "discord.tokken: unknown key"),
        (
            {"moderation": {"mute_after": 3, "ban_after": 3}},
            "moderation.ban_after: must be more than mute_after (3)",
        ),
        ({"moderation": {"flood_messages": 1}}, "moderation.flood_messages: Input should be"),
        ({"digest": {"at_risk_days": 7}}, "digest.at_risk_days: must be more than active_days"),
        ({"digest": {"daily_time": "9am"}}, "digest.daily_time: String should match"),
    ],
)
def test_invalid_values_name_the_key(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, environ={})
    assert str(caught.value).startswith(expected)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[database\nurl = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_settings(path, environ={})


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml", environ={})
