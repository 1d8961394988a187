"""Real pages in a real browser: Debian's Chromium, driven by Playwright, headless.

Playwright's own browser download does not work offline, so the tests point it at
`/usr/bin/chromium` (installed by `make test`). Screenshots go to `tests/artifacts/`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

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


def wait_until(
    page: Page, expression: str, arg: Any = None, timeout: float = 30000, every_ms: int = 50
) -> Any:
    """Wait until `expression` (or a function of `arg`) is truthy in the page; its value.
    Write it so that it is false, not an error, on the page before a navigation ends
    (`?.`): a click that navigates returns before the next page is there.

    Playwright's wait_for_function builds its predicate with eval inside the page, which
    the pages' Content-Security-Policy forbids; page.evaluate goes through the DevTools
    protocol instead, so polling with it works on the pages as they are served."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            value = page.evaluate(expression, arg)
        except PlaywrightError as exc:  # the page navigated (a reload, a pairing): ask again
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout:.0f} ms: {expression}")
        page.wait_for_timeout(every_ms)
