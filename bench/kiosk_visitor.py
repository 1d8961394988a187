"""A visitor who cannot read, from the first touch to a ticket on screen, by ear and by
pictures alone (tests/visitor.py), with the server's real offline speech.

Prints, per language, the whole time (a person's goal: under 30 s), the time spent
listening to the languages until their own, the tap guard's waits, and what is left: the
kiosk and the script themselves (goal: under 5 s).

    python bench/kiosk_visitor.py [--langs el,ar,fa,uk]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' server and browser

from tests.browser import chromium  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402
from tests.visitor import visit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default="el,ar,fa,uk")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}: {platform.machine()}, Python "
          f"{platform.python_version()}; real espeak-ng speech, 1080x1920 kiosk")  # fmt: skip
    with LiveServer() as server, chromium() as browser:
        token = server.add_device("thess-east", "kiosk", "bench")
        for lang in args.langs.split(","):
            page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
            page.goto(f"{server.url}/kiosk/thess-east#token={token}")
            done = visit(page, lang)
            print(
                f"{lang}: ticket {done.number} in {done.seconds:.1f} s (listening "
                f"{done.listened_s:.1f} s, tap guard {done.waited_s:.1f} s, kiosk and "
                f"script {done.own_s:.1f} s)"
            )
            page.context.close()


if __name__ == "__main__":
    main()
