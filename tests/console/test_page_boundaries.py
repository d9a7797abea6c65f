"""Console pages are independent: each imports shared modules (kit, hub, history, …), never
another page; notices go through kit.flash, the one notice mechanism."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "bot" / "console" / "pages"


def imported_pages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level and (node.module or "") == "":
                found |= {alias.name for alias in node.names}  # from . import x
            elif node.level == 1 and node.module:
                found.add(node.module.split(".")[0])  # from .x import y
            elif node.module == "bot.console.pages":
                found |= {alias.name for alias in node.names}
            elif (node.module or "").startswith("bot.console.pages."):
                found.add(node.module.split(".")[3])
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[3] for a in node.names if a.name.startswith("bot.console.pages.")
            }
    return found


def test_no_page_imports_another_page():
    pages = {path.stem for path in PAGES.glob("*.py")} - {"__init__"}
    crossings = {path.stem: sorted(imported_pages(path) & pages) for path in PAGES.glob("*.py")}
    assert {page: found for page, found in crossings.items() if found} == {}


def test_the_check_sees_every_import_form(tmp_path):
    sample = tmp_path / "page.py"
    sample.write_text(
        "from bot.console.pages.live import x\nfrom bot.console.pages import jobs\n"
        "from .wishes import y\nimport bot.console.pages.users\n",
        encoding="utf-8",
    )
    assert imported_pages(sample) == {"live", "jobs", "wishes", "users"}


def test_pages_notify_with_flash_only():
    for path in PAGES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "set_notice" not in text and "pop_notice" not in text, path
