"""Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium (installed by
`make test`), driven by Playwright; screenshots go to test-output/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
# Without the background-networking flags Chromium keeps dialling out on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CONSOLE_E2E_CHROMIUM", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def save_shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
