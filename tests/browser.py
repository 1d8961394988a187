"""Real pages in a real browser: Debian's Chromium, driven by Playwright, headless.

Playwright's own browser download does not work offline, so the tests point it at
`/usr/bin/chromium` (installed by `make test`). Screenshots go to `tests/artifacts/`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",  # as a display in kiosk mode is started
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium (Playwright gives it an empty profile); fails loudly if missing."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
