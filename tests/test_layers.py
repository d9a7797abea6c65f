"""The layers stay as the README draws them: imports point down to bot.core, never up or across.

Walks every Python module with ``ast`` (no imports executed), so a violation anywhere fails here
before it becomes a tangle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 600


def modules(*roots: str) -> Iterator[tuple[str, Path]]:
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def imported(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def starts(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_nothing_imports_the_action_server():
    offenders = [
        f"{module} imports {name}"
        for module, path in modules("bot")
        for name in imported(path)
        if starts(name, "actions")
    ]
    assert offenders == []


def test_nlu_components_use_only_the_core():
    offenders = [
        f"{module} imports {name}"
        for module, path in modules("bot/nlu")
        for name in imported(path)
        if starts(name, "bot.console", "bot.channels", "bot.run", "actions")
    ]
    assert offenders == []


def test_channels_and_console_do_not_import_each_other():
    offenders = []
    for module, path in modules("bot/channels", "bot/console"):
        own = ".".join(module.split(".")[:3])  # bot.channels.telegram / bot.console.pages …
        for name in imported(path):
            if (
                module.startswith("bot.console")
                and starts(name, "bot.channels")
                and not starts(name, "bot.channels.rasa_client")
            ):
                offenders.append(f"{module} imports {name}")
            if module.startswith("bot.channels.") and starts(name, "bot.console"):
                offenders.append(f"{module} imports {name}")
            if (
                module.startswith("bot.channels.")
                and starts(name, "bot.channels")
                and name.count(".") >= 2
                and not starts(name, own)
                and module.count(".") >= 2
            ):
                sibling = ".".join(name.split(".")[:3])
                if sibling.split(".")[-1] in {"telegram", "wechat"}:
                    offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_no_module_is_over_600_lines():
    long = [
        f"{path.relative_to(REPO)}: {count}"
        for _, path in modules("bot", "actions")
        if "migrations" not in path.parts
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []
