"""What a server's log holds after a day's work with `seira serve --access-log`: the
requests, and never a visit reason, a status link's secret, a password or a token.

A request line is logged as it came, so anything secret in a URL would be written down:
the status page's `/s/<secret>`, its API, a query string. The test does what the kiosk,
a visitor's phone, a counter and a supervisor do, through the real server, then reads
every line it wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from tests.liveserver import PASSWORD, LiveServer

SITE = "thess-east"
SENSITIVE = {
    "protection.women": ("Support for women", "Υποστήριξη γυναικών"),
    # the discreet path: the reason, and the private service it leads to
    "private": ("I would like to talk in private", "Θα ήθελα να μιλήσω ιδιαιτέρως"),
    "Private conversation": ("Ιδιαίτερη συνάντηση",),
}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(access_log=True) as live:
        yield live


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found[1]


def _a_day_at_the_centre(server: LiveServer) -> dict[str, list[str]]:
    """The kiosk, the phone, the counter, the sign-in page and the reports, as each does
    its work; what must not reach the log, by kind."""
    url = server.url
    kiosk = server.add_device(SITE, "kiosk", "entrance")
    staff = server.add_staff("desk", SITE)
    supervisor = server.add_staff("boss", SITE, "supervisor")
    secrets: dict[str, list[str]] = {"token": [kiosk, staff, supervisor], "status": []}
    issued = []
    cases = [("social-work", "protection.women"), ("private", "private"), ("general", "other")]
    for service, reason in cases:
        body = {"service": service, "reason": reason, "lang": "en"}
        answer = requests.post(
            f"{url}/api/v1/sites/{SITE}/tickets", json=body, headers=_bearer(kiosk), timeout=10
        )
        assert answer.status_code == 201, answer.text
        issued.append(answer.json())
    for ticket in issued:
        link = ticket["status_url"]
        secret = link.rstrip("/").rsplit("/", 1)[-1]
        secrets["status"].append(secret)
        assert requests.get(f"{url}/s/{secret}", timeout=10).status_code == 200
        api = requests.get(f"{url}/api/v1/tickets/status/{secret}?lang=ar", timeout=10)
        assert api.status_code == 200, api.text
    called = requests.post(
        f"{url}/api/v1/sites/{SITE}/counters/desk-1/call-next", headers=_bearer(staff), timeout=10
    )
    assert called.status_code == 200, called.text
    ticket = called.json()["id"]
    for action, body in [("start", None), ("finish", {"outcome": "served"})]:
        done = requests.post(
            f"{url}/api/v1/tickets/{ticket}/{action}", json=body, headers=_bearer(staff), timeout=10
        )
        assert done.status_code == 200, done.text
    report = requests.get(
        f"{url}/api/v1/reports/reasons?site={SITE}&from=2026-01-01&to=2026-01-31",
        headers=_bearer(supervisor),
        timeout=10,
    )
    assert report.status_code == 200, report.text
    # the staff pages: a wrong password, then the right one, then the speech of a label
    browser = requests.Session()
    wrong = "not-the-password-at-all"
    for password in (wrong, PASSWORD):
        form = {"csrf_token": _csrf(browser, f"{url}/signin"), "username": "desk"}
        browser.post(f"{url}/signin", data={**form, "password": password}, timeout=10)
    assert browser.get(f"{url}/counter/{SITE}", timeout=10).status_code == 200
    secrets["password"] = [PASSWORD, wrong]
    secrets["cookie"] = [v for v in browser.cookies.values() if len(v) > 8]
    label = SENSITIVE["protection.women"][0]
    said = requests.post(
        f"{url}/speech", json={"lang": "en", "text": label}, headers=_bearer(kiosk), timeout=30
    )
    assert said.status_code in (200, 503), said.text  # 503: no voice for it, still logged
    secrets["reason"] = [code for code in SENSITIVE] + [w for ws in SENSITIVE.values() for w in ws]
    return secrets


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_log_holds_the_requests_and_no_secret(server: LiveServer) -> None:
    secrets = _a_day_at_the_centre(server)
    log = (server.dir / "server.log").read_text(errors="replace")
    # the access log is really on: the requests are there, the status page's among them
    assert '"GET /s/* HTTP/1.1" 200' in log, log[-3000:]
    assert '"GET /api/v1/tickets/status/*?lang=* HTTP/1.1" 200' in log
    assert '"GET /api/v1/reports/reasons?site=*&from=*&to=* HTTP/1.1" 200' in log
    assert '"POST /api/v1/sites/thess-east/tickets HTTP/1.1" 201' in log
    assert '"POST /signin HTTP/1.1"' in log
    found = {
        kind: [value for value in values if value and value in log]
        for kind, values in secrets.items()
    }
    assert not any(found.values()), (found, log[-3000:])
