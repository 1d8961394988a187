"""`GET /fonts/<file>`: the OFL fonts the printed tickets use, served to pages too.

No font is fetched from outside, and every script shows on screens that have no fonts of
their own (a kiosk mini-PC, a display's browser).
"""

from __future__ import annotations

from flask import send_from_directory
from werkzeug.wrappers import Response

from printers.text import FONTS_DIR

ONE_WEEK_S = 7 * 24 * 3600


def font(filename: str) -> Response:
    return send_from_directory(FONTS_DIR, filename, max_age=ONE_WEEK_S)
