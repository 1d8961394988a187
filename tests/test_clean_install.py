"""The package as a centre installs it: the wheel built from this tree, installed without
the test extras into a fresh virtual environment, then `seira init`, `seira config load`,
`seira device add` and `seira serve`, and a kiosk's first ticket through it all.

The test environment holds far more than a centre's install (pytest, playwright and what
they bring), so a module the server imports but Seira does not declare works there and
fails on a centre's machine; gunicorn's gevent worker importing `packaging` was one. Here
nothing but the wheel's own requirements is installed, so such a module stops the server
and fails this test.

It runs twice: with the newest releases, and with the lowest each declared dependency
allows (`name==bound` for every `name>=bound`), so the lower bounds in pyproject.toml are
ones that were tried. The dependencies' wheels are kept in `build/clean-install/wheels`
(ignored by git; delete it to fetch newer releases) and installed from there without an
index; they are fetched (through pip's cache) only when that folder lacks one, so the
test takes seconds once it has run once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import socketio
from packaging.requirements import Requirement
from packaging.version import Version

from tests.liveserver import free_port

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "build" / "clean-install" / "wheels"
CONFIG = ROOT / "server" / "sites" / "thessaloniki.toml"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
SITE = "thess-east"
DEPENDENCIES = [
    Requirement(line)
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
]


def lowest() -> dict[str, str]:
    """Each declared dependency's lower bound: {normalised name: version}."""
    return {
        _normal(req.name): spec.version
        for req in DEPENDENCIES
        for spec in req.specifier
        if spec.operator == ">="
    }


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(work: Path) -> Path:
    """The wheel of this tree as it is, built from a copy of what the package is made of
    (setuptools' own build folder would otherwise keep files deleted since)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        shutil.copytree(ROOT / package, source / package, ignore=junk)
    # an absolute path: a bare name would be looked up as a project on the index
    run([*PIP, "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source)], work)
    (wheel,) = (work / "dist").glob("seira-*.whl")
    return wheel


def install(wheel: Path, venv: Path, variant: str) -> None:
    """Install the wheel and its requirements, no extras, into a new environment: the
    newest releases the wheel folder holds, or the lowest the requirements allow."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    choice = ["--only-binary", ":all:"]
    if variant == "lowest":
        pins = venv.parent / "lowest.txt"
        pins.write_text("".join(f"{name}=={version}\n" for name, version in lowest().items()))
        choice += ["--constraint", str(pins)]
    target = [*PIP, "--python", str(venv / "bin" / "python"), "install", "--no-compile", *choice]
    offline = [*target, "--no-index", "--find-links", str(WHEELS), str(wheel)]
    WHEELS.mkdir(parents=True, exist_ok=True)
    with (WHEELS.parent / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs fill the folder one at a time
        first = subprocess.run(offline, capture_output=True, text=True, timeout=300)
        if first.returncode != 0:  # a requirement not fetched yet: fetch them all, once
            run([*PIP, "wheel", *choice, "--wheel-dir", str(WHEELS), str(wheel)], wheel.parent)
            for own in WHEELS.glob("seira-*.whl"):
                own.unlink()  # the wheel under test is always the one just built
            run(offline, wheel.parent)


def installed(venv: Path, work: Path) -> dict[str, str]:
    """The distributions in the environment: {normalised name: version}."""
    code = (
        "import json\nfrom importlib.metadata import distributions\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in distributions()}))"
    )
    found = json.loads(run([str(venv / "bin" / "python"), "-c", code], work))
    return {_normal(name): version for name, version in found.items()}


class Served:
    """`seira serve` from the clean environment on a free port of 127.0.0.1."""

    def __init__(self, venv: Path, work: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "server.log"
        seira = str(venv / "bin" / "seira")
        command = [seira, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            start_new_session=True,  # its own process group: the workers stop with it
        )

    def wait(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "server exited:\n" + self.log.read_text()
            try:
                return self.get_json("/api/v1/health", timeout=1)
            except OSError:
                time.sleep(0.1)
        raise AssertionError("server did not answer in time:\n" + self.log.read_text())

    def get(self, path: str, token: str | None = None, timeout: float = 10) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()

    def get_json(self, path: str, token: str | None = None, timeout: float = 10) -> Any:
        status, body = self.get(path, token, timeout)
        assert status == 200, (path, status)
        return json.loads(body)

    def post_json(self, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, json.dumps(body).encode(), headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module", params=["newest", "lowest"])
def clean(
    request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """(the fresh environment, a working folder, the variant), one per variant."""
    work = tmp_path_factory.mktemp(f"clean-install-{request.param}")
    install(wheel, work / "venv", request.param)
    return work / "venv", work, request.param


def test_the_installed_package_serves_a_kiosk(clean: tuple[Path, Path, str]) -> None:
    venv, work, variant = clean
    versions = installed(venv, work)
    assert "seira" in versions and "gevent" in versions
    assert not {"pytest", "playwright", "requests"} & set(versions)  # no test extras
    if variant == "lowest":
        tried = {name: versions[name] for name in lowest()}
        assert all(Version(tried[name]) == Version(v) for name, v in lowest().items()), tried
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEIRA_", "PYTHON"))}
    env |= {
        "SEIRA_DATABASE_URL": f"sqlite:///{work / 'seira.db'}",
        "SEIRA_OPENING_HOURS": "ignore",  # the test runs at any hour
    }
    seira = str(venv / "bin" / "seira")
    run([seira, "init"], work, env)
    assert "loaded 2 sites" in run([seira, "config", "load", str(CONFIG)], work, env)
    assert 'slug = "thess-east"' in run([seira, "config", "export", SITE], work, env)
    paper = work / "kiosk-printer.bin"
    added = [seira, "device", "add", "--site", SITE, "--kind", "kiosk", "--name", "entrance"]
    printer = f"file://{paper}?profile=TM-T20II"
    kiosk = run([*added, "--printer", printer], work, env).strip().splitlines()[-1]

    server = Served(venv, work, env)
    try:
        health = server.wait()
        assert health["status"] == "ok" and health["database"] == "ok", health

        # the kiosk page and everything it loads come out of the installed package
        status, page = server.get(f"/kiosk/{SITE}")
        assert status == 200 and b'id="kiosk-config"' in page
        assets = re.findall(rb'(?:src|href)="(/[^"#?]+)', page)
        assert assets, "the kiosk page loads no scripts or styles"
        for asset in {a.decode() for a in assets}:
            assert server.get(asset)[0] == 200, asset
        assert server.get_json("/kiosk/strings/ar.json")  # the visitors' catalogs are there

        # the kiosk's token from `seira device add`: a ticket, printed, and followed live
        services = server.get_json(f"/api/v1/sites/{SITE}/services?lang=ar", kiosk)
        assert "general" in {s["slug"] for s in services}
        status, ticket = server.post_json(
            f"/api/v1/sites/{SITE}/tickets",
            {"service": "general", "reason": "other", "lang": "ar"},
            kiosk,
        )
        assert status == 201 and ticket["number"] == "A001"
        deadline = time.monotonic() + 20
        printed = "pending"
        while printed == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
            printed = server.get_json(f"/api/v1/tickets/{ticket['id']}/print", kiosk)["status"]
        assert printed == "printed", server.log.read_text()
        assert paper.read_bytes().startswith(b"\x1b@")  # drawn with Pango, sent by escpos
        path = "/s/" + ticket["status_url"].rsplit("/s/", 1)[1]
        assert server.get(path)[0] == 200
        client = socketio.Client(reconnection=False)
        heard: list[Any] = []
        client.on("status", heard.append, namespace="/status")
        client.connect(
            server.url,
            namespaces=["/status"],
            auth={"ticket": path.rsplit("/", 1)[1]},
            transports=["websocket"],  # needs the websocket library the server declares
            wait_timeout=10,
        )
        try:
            deadline = time.monotonic() + 10
            while not heard and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            client.disconnect()
        assert heard and heard[0]["number"] == "A001"
        log = server.log.read_text()  # read before stopping: gevent's exit prints a trace
        assert "Traceback" not in log and "[ERROR]" not in log, log
    finally:
        server.stop()
