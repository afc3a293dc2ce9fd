"""The architecture's rules, checked: dependency direction and module size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "bot": {"adapters", "discord", "telegram"},
    "storage": {"bot", "adapters", "discord", "telegram"},
    "web": {"adapters", "discord", "telegram"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_inwards(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_platform_libraries_only_in_their_adapter() -> None:
    for path in (ROOT / "adapters").rglob("*.py"):
        imported = _imports(path)
        if "discord" in imported:
            assert path.name.startswith("discord_"), path
        if "telegram" in imported:
            assert path.name.startswith("telegram_"), path


def test_modules_stay_small() -> None:
    for package in ("bot", "storage", "adapters", "web"):
        for path in (ROOT / package).rglob("*.py"):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines <= 500, f"{path.relative_to(ROOT)} has {lines} lines"
