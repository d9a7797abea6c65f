"""The action package's shape: features share modules, never each other; no module is too long."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACTIONS = REPO / "actions"
# Modules every feature may import (no actions of a feature of their own, except the generic
# action_stop_form in forms_common, and followups: reading a message against the answer just
# given is how answers, the finder and the fallback all reply, so its three context actions sit
# with it). Everything else in actions/ is a feature.
SHARED = {
    "__init__",
    "forms_common",
    "validators",
    "replies",
    "handoffs",
    "appointment_times",
    "followups",
}
MAX_LINES = 600


def imported_action_modules(path: Path) -> set[str]:
    """Names of actions.* modules that ``path`` imports (``from actions import x`` included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "actions":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("actions."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("actions.")}
    return found


def modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(ACTIONS.glob("*.py"))}


def test_the_shared_modules_exist():
    assert set(modules()) >= SHARED


def test_feature_modules_never_import_each_other():
    features = set(modules()) - SHARED
    crossings = {
        name: sorted(imported_action_modules(path) & (features - {name}))
        for name, path in modules().items()
    }
    assert {name: found for name, found in crossings.items() if found} == {}


def test_shared_modules_import_no_feature():
    features = set(modules()) - SHARED
    for name in SHARED:
        assert not imported_action_modules(modules()[name]) & features, name


def test_the_boundary_check_sees_both_import_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from actions import wishes as W, validators\n"
        "from actions.jobs import x\nimport actions.answers\n",
        encoding="utf-8",
    )
    assert imported_action_modules(sample) == {"wishes", "validators", "jobs", "answers"}


def test_no_action_module_is_over_600_lines():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_outside_the_action_server_imports_actions():
    for path in (REPO / "bot").rglob("*.py"):
        assert not imported_action_modules(path), path
        assert "import actions" not in path.read_text(encoding="utf-8"), path
