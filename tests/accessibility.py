"""An accessibility audit of a page by axe-core (run in the page, in real Chromium).

The rules are WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (such as
one level-one heading per page); `audit` returns each violation as a line that names the
rule and the elements, so a failing test says what to fix.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
_axe = Axe()


def audit(page: Page) -> list[str]:
    """The page's violations, one line each: 'rule: what it asks (elements)'."""
    page.evaluate("document.fonts.ready.then(() => true)")
    results = _axe.run(
        page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    )
    out = []
    for violation in results.response["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"]][:4]
        out.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return out
