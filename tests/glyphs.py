"""Which font drew each text on a page, asked of Chromium itself (the DevTools protocol).

A page can look right on the machine that tests it and show empty boxes on a kiosk that
has no fonts of its own: the browser quietly falls back to a system font, or draws a
glyph missing from a served font as a box. `unserved_glyphs` finds both: a text drawn by
any font the server did not serve, and a character that no served font used for that
element contains (compared with the font files' own character maps).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from playwright.sync_api import Page

from printers.text import FONTS_DIR

ROOT = Path(__file__).resolve().parents[1]
SERVED_FONT_DIRS = (FONTS_DIR, ROOT / "server" / "web" / "static" / "fonts")


@dataclass(frozen=True)
class Problem:
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.text!r}: {self.why}"


@cache
def served_fonts() -> dict[str, frozenset[int]]:
    """PostScript name -> the code points the file holds, for every font the server serves."""
    found: dict[str, frozenset[int]] = {}
    for folder in SERVED_FONT_DIRS:
        for path in sorted(folder.glob("*.ttf")):
            font = TTFont(path, lazy=True)
            name = font["name"].getDebugName(6)
            found[name] = frozenset(font.getBestCmap())
    return found


def _walk(node: dict[str, Any]) -> Any:
    yield node
    for child in node.get("children", []):
        yield from _walk(child)


def unserved_glyphs(page: Page) -> list[Problem]:
    """Every visible text of the page whose glyphs did not all come from served fonts.

    It waits for the fonts the page has asked for to arrive first: until then a browser
    draws with the fonts it has (font-display: swap), which says nothing of the page.
    """
    page.evaluate("document.fonts.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]
        served = served_fonts()
        problems: list[Problem] = []
        for node in _walk(root):
            if node.get("nodeType") != 1 or node.get("nodeName") in ("SCRIPT", "STYLE"):
                continue
            text = "".join(
                child.get("nodeValue", "")
                for child in node.get("children", [])
                if child.get("nodeType") == 3
            )
            characters = {c for c in text if not c.isspace()}
            if not characters:
                continue
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
            if not fonts:
                continue  # not rendered (hidden): checked where it shows
            for font in fonts:
                if not font["isCustomFont"] or font["postScriptName"] not in served:
                    problems.append(Problem(text.strip(), f"drawn by {font['familyName']}"))
            covered: set[int] = set()
            for font in fonts:
                covered |= served.get(font["postScriptName"], frozenset())
            missing = sorted({c for c in characters if ord(c) not in covered})
            if missing:
                problems.append(Problem(text.strip(), f"no served font has {''.join(missing)}"))
        return problems
    finally:
        cdp.detach()
