"""The `seira` command, run for real in child processes as an operator would run it.

Each child costs about a second (imports), so independent commands are started together
where a test needs several.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from server import auth, migrate, siteconfig
from server.db import Database
from server.models import Device, Service, Site, Ticket, User, utcnow
from server.queue import transactions
from tests import liveserver
from tests.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


def _env(url: str) -> dict[str, str]:
    env = os.environ.copy()
    env["SEIRA_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(url: str, cwd: Path, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd,
        env=_env(url),
        text=True,
        **kwargs,
    )


def seira(url: str, cwd: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd,
        env=_env(url),
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def seira_many(url: str, cwd: Path, *calls: tuple[tuple[str, ...], str]) -> list[tuple]:
    """Run independent commands at once; returns (returncode, stdout, stderr) of each."""
    children = [
        _start(
            url, cwd, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for args, _ in calls
    ]
    out = []
    for child, (_, stdin) in zip(children, calls, strict=True):
        stdout, stderr = child.communicate(stdin, timeout=TIMEOUT)
        out.append((child.returncode, stdout, stderr))
    return out


@contextmanager
def opened(url: str) -> Iterator[Database]:
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def url(db: Database) -> str:
    """The conftest database (migrated, Thessaloniki loaded), handed to the child processes."""
    return db.url


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def _users(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


# --- init and config ---------------------------------------------------------------------------


def test_init_creates_the_database_and_can_run_again(fresh_url: str, tmp_path: Path) -> None:
    first = seira(fresh_url, tmp_path, "init")
    assert first.returncode == 0, first.stderr
    assert "database ready" in first.stdout
    assert (tmp_path / "x.db").exists()
    second = seira(fresh_url, tmp_path, "init")
    assert second.returncode == 0, second.stderr
    assert "database ready" in second.stdout
    assert first.stdout == second.stdout  # same schema revision, same place
    with opened(fresh_url) as db:
        assert migrate.current_revision(db) == migrate.head_revision()
        assert migrate.head_revision() in first.stdout


def test_init_makes_the_folder_of_a_new_database(tmp_path: Path) -> None:
    """A first install names a file in a folder that is not there yet: it is made, for the
    service's user only."""
    path = tmp_path / "var" / "lib" / "seira" / "seira.db"
    done = seira(f"sqlite:///{path}", tmp_path, "init")
    assert done.returncode == 0, done.stderr
    assert path.exists() and (path.parent.stat().st_mode & 0o777) == 0o700


def test_config_load_prints_counts(url: str, tmp_path: Path) -> None:
    result = seira(url, tmp_path, "config", "load", str(CONFIG))
    assert result.returncode == 0, result.stderr
    reasons = len(siteconfig.parse(CONFIG)["reasons"])
    assert result.stdout.strip().splitlines()[-1] == (
        f"loaded 2 sites, 9 services, 7 counters, {reasons} reasons"
    )


def test_config_export_writes_a_file_that_loads_back(
    url: str, fresh_url: str, db: Database, tmp_path: Path
) -> None:
    exported = seira(url, tmp_path, "config", "export", "thess-west")
    assert exported.returncode == 0, exported.stderr
    path = tmp_path / "west.toml"
    path.write_text(exported.stdout, encoding="utf-8")
    assert siteconfig.parse(path) == siteconfig.export(db, "thess-west")
    assert seira(fresh_url, tmp_path, "init").returncode == 0
    loaded = seira(fresh_url, tmp_path, "config", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 1 sites, 5 services" in loaded.stdout
    with opened(fresh_url) as fresh:
        assert siteconfig.export(fresh, "thess-west") == siteconfig.export(db, "thess-west")
    unknown = seira(url, tmp_path, "config", "export", "nowhere")
    assert unknown.returncode != 0 and "no site 'nowhere'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_config_load_refuses_an_invalid_file(url: str, db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        CONFIG.read_text(encoding="utf-8").replace('prefix = "B"', 'prefix = "b"', 1),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("[[sites]\n", encoding="utf-8")
    (invalid, syntax, missing) = seira_many(
        url,
        tmp_path,
        (("config", "load", str(bad)), ""),
        (("config", "load", str(broken)), ""),
        (("config", "load", str(tmp_path / "nowhere.toml")), ""),
    )
    assert invalid[0] != 0
    assert "invalid configuration" in invalid[2]
    assert "(benefits) prefix: must be one capital Latin letter" in invalid[2]
    assert "Traceback" not in invalid[2]
    assert syntax[0] != 0 and "broken.toml" in syntax[2] and "Traceback" not in syntax[2]
    assert missing[0] != 0 and "does not exist" in missing[2]
    with db.read() as s:
        assert {svc.prefix for svc in s.scalars(select(Service))} <= set("ABCK")


# --- users -----------------------------------------------------------------------------------


def test_user_add_reads_the_password_from_stdin(url: str, db: Database, tmp_path: Path) -> None:
    result = seira(
        url,
        tmp_path,
        "user",
        "add",
        "eleni",
        "--role",
        "staff",
        "--site",
        "thess-east",
        input="long-enough-pw\n",
    )
    assert result.returncode == 0, result.stderr
    assert "user eleni is staff at thess-east" in result.stdout
    with opened(url) as other:
        token, _, principal = auth.sign_in(other, "eleni", "long-enough-pw")
        with pytest.raises(auth.AuthError):
            auth.sign_in(other, "eleni", "long-enough-pw\n")
        with pytest.raises(auth.AuthError):
            auth.sign_in(other, "eleni", "wrong-password")
    assert token and principal.name == "eleni" and principal.kind == "staff"
    with db.read() as s:
        east = s.scalar(select(Site.id).where(Site.slug == "thess-east"))
    assert principal.site_ids == [east]
    assert principal.can(auth.Can.OPERATE, east) and not principal.can(auth.Can.REPORTS, east)


def test_user_add_refusals(url: str, db: Database, tmp_path: Path) -> None:
    before = _users(db)
    add = ("user", "add", "nikos")
    short, site, role = seira_many(
        url,
        tmp_path,
        ((*add, "--role", "staff", "--site", "thess-east"), "short\n"),
        ((*add, "--role", "staff", "--site", "thess-north"), "long-enough-pw\n"),
        ((*add, "--role", "boss", "--site", "thess-east"), "long-enough-pw\n"),
    )
    assert short[0] != 0 and "at least 12 characters" in short[2]
    assert site[0] != 0 and "no site 'thess-north'" in site[2]
    assert role[0] == 2  # click's usage error
    assert "Invalid value for '--role'" in role[2] and "'boss' is not one of" in role[2]
    for result in (short, site, role):
        assert "Traceback" not in result[2]
    assert _users(db) == before


def test_user_add_with_the_languages_spoken(url: str, db: Database, tmp_path: Path) -> None:
    add = ("user", "add", "dariush", "--role", "staff", "--site", "thess-east")
    bad, good = seira_many(
        url,
        tmp_path,
        ((*add, "--languages", "el,xx"), "long-enough-pw\n"),
        ((*add, "--languages", "fa, el"), "long-enough-pw\n"),
    )
    assert bad[0] != 0 and "not xx" in bad[2] and "Traceback" not in bad[2]
    assert good[0] == 0, good[2]
    with db.read() as s:
        assert s.scalar(select(User.languages).where(User.username == "dariush")) == ["el", "fa"]


# --- devices -----------------------------------------------------------------------------------


def test_device_add_prints_the_token_alone_and_keeps_only_its_hash(
    url: str, db: Database, tmp_path: Path
) -> None:
    result = seira(
        url, tmp_path, "device", "add", "--site", "thess-east", "--kind", "kiosk", "--name", "k1"
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), result.stdout
    with opened(url) as other:
        principal = auth.authenticate(other, token)
    assert principal is not None
    assert (principal.kind, principal.name) == ("kiosk", "k1")
    with db.read() as s:
        east = s.scalar(select(Site.id).where(Site.slug == "thess-east"))
        assert s.scalar(select(Device.site_id).where(Device.name == "k1")) == east
    assert principal.site_ids == [east]
    assert principal.can(auth.Can.ISSUE, east) and not principal.can(auth.Can.OPERATE, east)

    db.dispose()
    path = Path(url.removeprefix("sqlite:///"))
    files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    raw = b"".join(p.read_bytes() for p in files)
    assert auth.token_hash(token).encode() in raw  # the grep does find what is there
    assert token.encode() not in raw


def test_device_add_refusals(url: str, tmp_path: Path) -> None:
    site, kind = seira_many(
        url,
        tmp_path,
        (("device", "add", "--site", "thess-north", "--kind", "kiosk", "--name", "k"), ""),
        (("device", "add", "--site", "thess-east", "--kind", "tv", "--name", "k"), ""),
    )
    assert site[0] != 0 and "no site 'thess-north'" in site[2]
    assert kind[0] == 2 and "Invalid value for '--kind'" in kind[2]


# --- close-day ---------------------------------------------------------------------------------


def test_close_day_prints_how_many_were_closed(url: str, db: Database, tmp_path: Path) -> None:
    yesterday = utcnow() - timedelta(days=1)
    for _ in range(2):
        transactions.issue_ticket(
            db, site="thess-east", service="general", reason="other", lang="el", now=yesterday
        )
    today = transactions.issue_ticket(
        db, site="thess-east", service="general", reason="other", lang="el"
    )
    first = seira(url, tmp_path, "close-day")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "closed 2 tickets"
    with db.read() as s:
        statuses = dict(s.execute(select(Ticket.id, Ticket.status)).all())
    assert statuses.pop(today.id) == "waiting"
    assert set(statuses.values()) == {"closed"}
    second = seira(url, tmp_path, "close-day")
    assert second.stdout.strip().splitlines()[-1] == "closed 0 tickets"


# --- demo --------------------------------------------------------------------------------------


def _request(
    base: str, method: str, path: str, body: dict | None = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Demo:
    """`seira demo` in a child process: waits for it to serve and reads what it printed."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.port = liveserver.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"demo-{self.port}.log"
        with open(self.log, "w") as log:
            self.process = _start(
                url, cwd, "demo", "--port", str(self.port), stdout=subprocess.PIPE, stderr=log
            )
        try:
            self._wait()
            self.output = self._read_banner()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("demo exited:\n" + self.log.read_text())
            try:
                with urllib.request.urlopen(self.base + "/api/v1/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("demo did not answer in 30 s:\n" + self.log.read_text())

    def _read_banner(self) -> str:
        """The banner is printed before serving, so once health answers it is all there."""
        assert self.process.stdout is not None
        lines = []
        while not any(line.startswith("  thess-west display token:") for line in lines):
            line = self.process.stdout.readline()
            assert line, "demo output ended early:\n" + "".join(lines)
            lines.append(line)
        return "".join(lines)

    @property
    def password(self) -> str:
        match = re.search(r"^ +password: (\S+) ", self.output, re.M)
        assert match, self.output
        return match.group(1)

    def token(self, site: str, kind: str) -> str:
        match = re.search(rf"^  {site} {kind} token: (\S+)$", self.output, re.M)
        assert match, self.output
        return match.group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _check_demo(demo: Demo) -> None:
    status, body = _request(demo.base, "GET", "/api/v1/health")
    assert status == 200 and body["status"] == "ok"
    assert f"{demo.base}/api/v1/health" in demo.output
    for user in ("admin", "supervisor", "staff-east", "staff-west", "mediator"):
        assert user in demo.output
    status, body = _request(
        demo.base, "POST", "/api/v1/auth/token", {"username": "admin", "password": demo.password}
    )
    assert status == 200, body
    assert body["token"] and set(body["user"]["sites"]) == {"thess-east", "thess-west"}
    status, body = _request(
        demo.base,
        "POST",
        "/api/v1/sites/thess-east/tickets",
        {"service": "general", "reason": "other", "lang": "el"},
        token=demo.token("thess-east", "kiosk"),
    )
    assert status == 201, body


def test_demo_serves_and_can_start_again(fresh_url: str, tmp_path: Path) -> None:
    first = Demo(fresh_url, tmp_path)
    try:
        _check_demo(first)
    finally:
        first.stop()
    assert first.process.returncode is not None

    second = Demo(fresh_url, tmp_path)
    try:
        _check_demo(second)
        old_kiosk = first.token("thess-east", "kiosk")
        assert old_kiosk != second.token("thess-east", "kiosk")
        status, body = _request(
            second.base,
            "POST",
            "/api/v1/sites/thess-east/tickets",
            {"service": "general", "reason": "other", "lang": "el"},
            token=old_kiosk,
        )
        assert status == 401, body
    finally:
        second.stop()

    with opened(fresh_url) as db:
        auth.forget_tokens()
        for site in ("thess-east", "thess-west"):
            for kind in ("kiosk", "display"):
                assert auth.authenticate(db, first.token(site, kind)) is None
                principal = auth.authenticate(db, second.token(site, kind))
                assert principal is not None and principal.kind == kind
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(User)) == 5
            live = s.scalar(
                select(func.count()).select_from(Device).where(Device.revoked_at.is_(None))
            )
            assert live == 4
            from_kiosks = s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.device_id.is_not(None))
            )
            assert from_kiosks == 2  # one per run, numbers kept
            # and a past for the reports, written once: the second run added no days
            history = s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.device_id.is_(None))
            )
            assert 1000 < history < 4000


def test_demo_refuses_a_database_with_real_accounts(url: str, db: Database, tmp_path: Path) -> None:
    # the db fixture already holds the accounts of a real centre (eleni, maria, nikos)
    port = str(liveserver.free_port())
    result = seira(url, tmp_path, "demo", "--port", port)
    assert result.returncode != 0
    assert "real accounts" in result.stderr
    with db.read() as s:
        assert sorted(s.scalars(select(User.username))) == ["eleni", "maria", "nikos"]
