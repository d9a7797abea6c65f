"""bot/core is plain Python: no framework or channel imports, nothing from the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "bot" / "core"
FORBIDDEN = (
    "rasa",
    "rasa_sdk",
    "aiohttp",
    "telegram",
    "wechatpy",
    "actions",
    "bot.console",
    "bot.channels",
    "bot.nlu",
    "bot.nlg",
    "bot.run",
)


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # from bot import console
                yield node.lineno, f"{node.module}.{alias.name}"


def forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def core_files():
    return sorted(CORE.rglob("*.py"))


def test_core_has_modules_to_check():
    assert len(core_files()) > 20


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_above_it(path):
    bad = [
        f"{path.name}:{line} imports {module}"
        for line, module in imported_modules(path)
        if forbidden(module)
    ]
    assert not bad, bad


def test_the_check_catches_each_kind_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import rasa.core\nfrom aiohttp import web\nfrom bot import console\n"
        "def f():\n    from actions import forms_common\n",
        encoding="utf-8",
    )
    found = [module for _, module in imported_modules(sample) if forbidden(module)]
    assert found == [
        "rasa.core",
        "aiohttp",
        "aiohttp.web",
        "bot.console",
        "actions",
        "actions.forms_common",
    ]
