"""The sample deployment files under deploy/, as docs/deploy.md tells a municipality's IT
staff to use them: each must say what the code does, or a centre copies a mistake.

- systemd units: parsed here (required sections and keys, the same paths everywhere) and
  by `systemd-analyze verify` (unknown keys, bad values); every `seira` command line they
  run is parsed by the `seira` command itself, so a wrong subcommand or option fails here.
- the environment file names only variables the code reads.
- the nginx configuration passes `nginx -t`, and then serves: two `seira serve` processes
  started as `seira@.service` starts them, with the environment file, behind that nginx
  over HTTPS, with health, HSTS, the redirect to HTTPS, a Socket.IO display connection
  that upgrades to a websocket with the browser's Origin checked, and an access log
  without status-link secrets. The backup unit's command runs against them too.

nginx and systemd-analyze missing are failures, never skips: `make test` installs them
(`make nginx`, `make systemd-analyze`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
import requests
import socketio
from sqlalchemy import make_url

from printers import parse_printer_url
from server import cli
from tests.liveserver import free_port
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "seira.env.example"
ADMIN_SCRIPT = DEPLOY / "seira-admin"
NGINX_CONF = DEPLOY / "nginx" / "seira.conf"
UDEV_RULE = DEPLOY / "udev" / "60-seira-printer.rules"
DOC = ROOT / "docs" / "deploy.md"
SITE_CONFIG = ROOT / "server" / "sites" / "thessaloniki.toml"

# The paths every file and docs/deploy.md agree on.
SEIRA = "/opt/seira/bin/seira"
ENV_FILE = "/etc/seira/seira.env"
STATE = "/var/lib/seira"
BACKUPS = "/var/backups/seira"
CERT = "/etc/ssl/seira/fullchain.pem"
KEY = "/etc/ssl/seira/privkey.pem"
NGINX_LOGS = "/var/log/nginx/"

SERVER_UNITS = ["seira.service", "seira@.service", "seira-backup.service"]
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "UMask": "0077",
}
# the packages whose code reads the environment (pyproject's packages, less the catalogs)
PACKAGES = ["server", "kiosk", "counter", "display", "status", "reports", "staff", "languages",
            "admin", "printers"]  # fmt: skip


# --- systemd units ---------------------------------------------------------------------------


Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """A unit file as {section: {key: [values in order]}}: systemd allows a key many times
    (ExecStart= of a oneshot, ReadWritePaths=), which configparser does not; an empty
    assignment empties the list, as in systemd; a line ending in a backslash goes on."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    pending = ""
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: bad section header {line!r}"
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"{path.name}:{number}: a key before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}:{number}: not key=value: {line!r}"
        values = section.setdefault(key.strip(), [])
        if value.strip():
            values.append(value.strip())
        else:
            values.clear()
    assert not pending, f"{path.name}: ends in a continuation"
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be given once, is {values}"
    return values[0]


def expand(value: str, instance: str = "5001", home: str = "/home/kiosk") -> str:
    """A unit's value as systemd hands it on: specifiers (%i, %h, %%) and $$."""

    def specifier(match: re.Match[str]) -> str:
        known = {"%": "%", "i": instance, "I": instance, "h": home}
        assert match.group(1) in known, f"specifier %{match.group(1)} not expected here"
        return known[match.group(1)]

    return re.sub(r"%(.)", specifier, value).replace("$$", "$")


def command_lines(exec_start: str, **specifiers: str) -> list[list[str]]:
    """The command lines an ExecStart= runs: its own, or those of its `sh -c` script."""
    words = shlex.split(expand(exec_start.lstrip("-@:+!"), **specifiers))
    if Path(words[0]).name != "sh" or words[1:2] != ["-c"]:
        return [words]
    lexer = shlex.shlex(words[2], posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lines: list[list[str]] = [[]]
    for token in lexer:
        if token in (";", "&&", "||", "|", "&"):
            lines.append([])
        else:
            lines[-1].append(token)
    commands = []
    for line in filter(None, lines):
        while line and (line[0] == "exec" or re.match(r"^[A-Za-z_]\w*=", line[0])):
            line = line[1:]  # `exec seira ...`, `f=... ;`
        if line:
            commands.append(line)
    return commands


def check_seira_command(args: list[str]) -> click.Command:
    """Parse a `seira` command line as the `seira` command does; fail on any word it
    would refuse (a subcommand that is not there, an unknown option, a bad value)."""
    command: click.Command = cli.main
    words = list(args)
    while isinstance(command, click.Group):
        assert words, f"seira {' '.join(args)}: no subcommand"
        name = words.pop(0)
        assert name in command.commands, f"seira has no subcommand {name!r} ({args})"
        command = command.commands[name]
    try:
        command.make_context(command.name or "", words)
    except click.ClickException as exc:
        pytest.fail(f"seira {' '.join(args)}: {exc.format_message()}")
    return command


def seira_commands(unit: Unit) -> list[list[str]]:
    """Every `seira ...` a unit's ExecStart= lines run, without the program's path."""
    found = []
    for exec_start in unit["Service"].get("ExecStart", []):
        for words in command_lines(exec_start):
            if Path(words[0]).name == "seira":
                assert words[0] == SEIRA, f"{words[0]}: the install is {SEIRA}"
                found.append(words[1:])
    return found


def option(words: list[str], name: str) -> str:
    assert name in words, f"{name} missing from {words}"
    return words[words.index(name) + 1]


def test_every_unit_is_used_and_documented() -> None:
    doc = DOC.read_text()
    units = sorted(p.relative_to(DEPLOY).as_posix() for p in SYSTEMD.rglob("*.*"))
    assert units == [
        "systemd/seira-backup.service",
        "systemd/seira-backup.timer",
        "systemd/seira-pg-backup.service",
        "systemd/seira-pg-backup.timer",
        "systemd/seira.service",
        "systemd/seira@.service",
        "systemd/user/seira-display.service",
        "systemd/user/seira-kiosk.service",
    ]
    for path in [*DEPLOY.rglob("*.*"), ADMIN_SCRIPT]:
        name = path.relative_to(ROOT).as_posix()
        assert name in doc, f"docs/deploy.md does not mention {name}"
    for path in (SEIRA, ENV_FILE, STATE, BACKUPS, CERT, KEY):
        assert path in doc, f"docs/deploy.md does not mention {path}"


@pytest.mark.parametrize("name", SERVER_UNITS)
def test_server_units_run_seira_as_its_user_hardened(name: str) -> None:
    unit = parse_unit(SYSTEMD / name)
    service = unit["Service"]
    assert one(unit, "Unit", "Description")
    assert one(unit, "Service", "User") == "seira"
    assert one(unit, "Service", "Group") == "seira"
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert one(unit, "Service", "WorkingDirectory") == STATE  # instance/ is relative to it
    for key, value in HARDENING.items():
        assert one(unit, "Service", key) == value, f"{name}: {key}"
    writable = " ".join(service["ReadWritePaths"]).split()
    assert STATE in writable
    assert "PrivateDevices" not in service  # a USB or serial printer is a device
    commands = seira_commands(unit)
    assert len(commands) == 1, f"{name}: one seira command, not {commands}"
    check_seira_command(commands[0])
    if name == "seira-backup.service":
        assert one(unit, "Service", "Type") == "oneshot"
        assert commands[0][0] == "backup"
        assert str(Path(commands[0][1]).parent) in writable  # the copy's folder
    else:
        assert one(unit, "Install", "WantedBy") == "multi-user.target"
        assert one(unit, "Service", "Restart") == "on-failure"
        assert commands[0][0] == "serve"
        assert "--workers" not in commands[0], "one process per unit: docs/deploy.md"


def test_the_template_serves_its_instance_port_on_loopback() -> None:
    unit = parse_unit(SYSTEMD / "seira@.service")
    exec_start = one(unit, "Service", "ExecStart")
    assert "--port %i" in exec_start
    (words,) = command_lines(exec_start, instance="5002")
    assert option(words, "--host") == "127.0.0.1"  # only nginx reaches it
    assert option(words, "--port") == "5002"


def test_the_backup_timer_starts_its_service_every_night() -> None:
    for name in ("seira-backup", "seira-pg-backup"):
        timer = parse_unit(SYSTEMD / f"{name}.timer")
        assert (SYSTEMD / f"{name}.service").exists()  # a timer starts its namesake
        assert one(timer, "Timer", "OnCalendar")
        assert one(timer, "Timer", "Persistent") == "true"
        assert one(timer, "Install", "WantedBy") == "timers.target"


def test_backup_scripts_are_sound_shell() -> None:
    for name in ("seira-backup.service", "seira-pg-backup.service"):
        unit = parse_unit(SYSTEMD / name)
        words = shlex.split(expand(one(unit, "Service", "ExecStart")))
        assert words[:2] == ["/bin/sh", "-c"]
        subprocess.run(["sh", "-n", "-c", words[2]], check=True)
        assert "$(date +%u)" in words[2]  # one file per weekday: seven kept, never more
    pg = parse_unit(SYSTEMD / "seira-pg-backup.service")
    (dump, move) = command_lines(one(pg, "Service", "ExecStart"))
    assert dump[0] == "pg_dump" and "--format=custom" in dump
    assert move[0] == "mv"  # written beside its place, renamed when whole
    assert BACKUPS in " ".join(pg["Service"]["ReadWritePaths"])


def server_origin() -> str:
    """http://HOST:PORT of seira.service, which kiosks, displays and phones open."""
    unit = parse_unit(SYSTEMD / "seira.service")
    (words,) = seira_commands(unit)
    return f"http://{option(words, '--host')}:{option(words, '--port')}"


@pytest.mark.parametrize("kind", ["kiosk", "display"])
def test_browser_units_open_their_page_in_kiosk_mode(app, kind: str) -> None:  # type: ignore[no-untyped-def]
    unit = parse_unit(SYSTEMD / "user" / f"seira-{kind}.service")
    assert one(unit, "Service", "Restart") == "always"
    assert one(unit, "Install", "WantedBy") == "graphical-session.target"
    (words,) = command_lines(one(unit, "Service", "ExecStart"))
    assert words[0] == "/usr/bin/chromium"
    flags, url = words[1:-1], words[-1]
    assert "--kiosk" in flags
    assert "--autoplay-policy=no-user-gesture-required" in flags  # the display speaks calls
    # the token from pairing lives in the profile's local storage: it must outlive a restart
    assert not {"--incognito", "--guest"} & set(flags)
    profiles = [f for f in flags if f.startswith("--user-data-dir=")]
    assert profiles == [f"--user-data-dir=/home/kiosk/.local/share/seira-{kind}"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server_origin()
    endpoint, _ = app.url_map.bind("localhost").match(parts.path)
    assert endpoint.split(".")[0] == kind, f"{url} is not a {kind} page: {endpoint}"


def systemd_analyze() -> str:
    binary = shutil.which("systemd-analyze")
    if binary is None:
        pytest.fail("systemd-analyze is missing: `make systemd-analyze` installs Debian's systemd")
    return binary


def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    """systemd's own reading: unknown keys, values it cannot parse, programs not there (the
    install's seira is this checkout's for the check)."""
    binary = systemd_analyze()
    system, user = tmp_path / "system", tmp_path / "user"
    system.mkdir()
    user.mkdir()
    (tmp_path / "runtime").mkdir(mode=0o700)
    for source in SYSTEMD.rglob("*.*"):
        where = user if source.parent.name == "user" else system
        text = source.read_text().replace(SEIRA, str(Path(sys.executable).with_name("seira")))
        name = source.name.replace("@.", "@5001.")  # an instance of the template
        (where / name).write_text(text)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "runtime"), "SYSTEMD_LOG_COLOR": "0"}
    for where, mode in ((system, []), (user, ["--user"])):
        units = sorted(str(p) for p in where.iterdir())
        done = subprocess.run(
            [binary, *mode, "verify", *units], capture_output=True, text=True, env=env
        )
        complaints = [
            line for line in done.stderr.splitlines() if str(tmp_path) in line or "Unit " in line
        ]
        assert done.returncode == 0 and not complaints, done.stderr


# --- the environment file and the admin wrapper ---------------------------------------------


def variables_read() -> set[str]:
    """Every SEIRA_* name the code mentions (os.environ reads, their named constants)."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= set(re.findall(r"""["'](SEIRA_[A-Z0-9_]+)["']""", path.read_text()))
    return found


def env_assignments(path: Path) -> tuple[dict[str, str], set[str]]:
    """(the variables set, every variable named, commented out or not)."""
    active, named = {}, set()
    for line in path.read_text().splitlines():
        found = re.match(r"^(#?)\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if found:
            named.add(found.group(2))
            if not found.group(1):
                active[found.group(2)] = found.group(3)
        else:
            assert not line.strip() or line.startswith("#"), f"not KEY=value: {line!r}"
    return active, named


def test_env_example_names_only_what_the_code_reads() -> None:
    read = variables_read()
    assert {
        "SEIRA_DATABASE_URL",
        "SEIRA_SECRET_KEY",
        "SEIRA_PUBLIC_URL",
        "SEIRA_MESSAGE_QUEUE",
        "SEIRA_OPENING_HOURS",
    } <= read
    active, named = env_assignments(ENV_EXAMPLE)
    assert named <= read, f"the code never reads {sorted(named - read)}"
    mentioned = set(re.findall(r"SEIRA_[A-Z0-9_]+", DOC.read_text()))
    assert mentioned <= read, f"docs/deploy.md names {sorted(mentioned - read)}"
    assert {"SEIRA_DATABASE_URL", "SEIRA_SECRET_KEY", "SEIRA_MESSAGE_QUEUE"} <= named
    assert active["SEIRA_OPENING_HOURS"] in ("enforce", "ignore")
    url = make_url(active["SEIRA_DATABASE_URL"])
    assert url.drivername == "sqlite" and url.database == f"{STATE}/instance/seira.db"
    # one centre: phones and browsers open the address seira.service listens on
    assert active["SEIRA_PUBLIC_URL"] == server_origin()
    assert "SEIRA_SECRET_KEY" not in active  # never a shared sample secret


def test_the_admin_wrapper_runs_seira_as_the_service_does() -> None:
    text = ADMIN_SCRIPT.read_text()
    assert os.access(ADMIN_SCRIPT, os.X_OK)
    subprocess.run(["sh", "-n", str(ADMIN_SCRIPT)], check=True)
    assert f"cd {STATE}\n" in text
    assert f". {ENV_FILE}\n" in text
    assert f'exec {SEIRA} "$@"\n' in text


def test_the_udev_rule_matches_the_printer_url_it_names() -> None:
    text = UDEV_RULE.read_text()
    (rule,) = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert 'SUBSYSTEM=="usb"' in rule and 'GROUP="seira"' in rule and 'MODE="0660"' in rule
    vendor = re.search(r'ATTR\{idVendor\}=="([0-9a-f]{4})"', rule)
    product = re.search(r'ATTR\{idProduct\}=="([0-9a-f]{4})"', rule)
    assert vendor and product
    url = re.search(r"usb://\S+", text)
    assert url, "the rule's comment names the printer's URL"
    assert parse_printer_url(url.group(0)).target == f"{vendor.group(1)}:{product.group(1)}"


# --- nginx -----------------------------------------------------------------------------------


def nginx() -> str:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        pytest.fail("nginx is missing: `make nginx` installs Debian's nginx")
    return binary


def certificate(where: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (openssl, or the cryptography
    package where there is no openssl)."""
    cert, key = where / "cert.pem", where / "key.pem"
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],  # fmt: skip
            check=True,
            capture_output=True,
        )
        return cert, key
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        pytest.fail("neither openssl nor the cryptography package: no certificate for nginx")
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def replace(text: str, old: str, new: str) -> str:
    """Replace, failing if the sample no longer has `old`: a sample whose shape changed
    must not pass with a check that quietly patched nothing."""
    assert old in text, f"deploy/nginx/seira.conf no longer has {old!r}"
    return text.replace(old, new)


def nginx_setup(
    where: Path, backends: list[int] | None = None, https: int = 443, http: int = 80
) -> list[str]:
    """A main nginx.conf in `where` with the sample inside http {}, everything nginx writes
    kept in `where`, the certificate a throwaway one; the command line to run it."""
    cert, key = certificate(where)
    sample = NGINX_CONF.read_text()
    sample = replace(sample, CERT, str(cert))
    sample = replace(sample, KEY, str(key))
    sample = replace(sample, NGINX_LOGS, f"{where}/")
    if backends is not None:  # served for real: on loopback, to these seira serve ports
        sample = replace(sample, "    listen [::]:80;\n", "")
        sample = replace(sample, "    listen [::]:443 ssl;\n", "")
        sample = replace(sample, "listen 80;", f"listen 127.0.0.1:{http};")
        sample = replace(sample, "listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
        servers = "".join(f"    server 127.0.0.1:{port};\n" for port in backends)
        sample = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, sample, count=1)
    (where / "seira.conf").write_text(sample)
    temp = "\n".join(
        f"    {kind}_temp_path {where}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers keep access to `where`
    (where / "nginx.conf").write_text(
        f"{user}pid {where}/nginx.pid;\nerror_log {where}/error.log;\ndaemon off;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{\n{temp}\n    access_log {where}/access.log;\n"
        f"    include {where}/seira.conf;\n}}\n"
    )
    return [
        nginx(),
        "-p",
        str(where),
        "-c",
        str(where / "nginx.conf"),
        "-e",
        str(where / "error.log"),
    ]


def test_nginx_accepts_the_sample(tmp_path: Path) -> None:
    command = nginx_setup(tmp_path)
    done = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


def test_nginx_sample_keeps_what_socketio_and_tls_need() -> None:
    text = NGINX_CONF.read_text()
    upstream = re.search(r"upstream seira \{(.*?)\}", text, re.S)
    assert upstream and "ip_hash;" in upstream.group(1)  # long-polling stays with its process
    ports = re.findall(r"server 127\.0\.0\.1:(\d+);", upstream.group(1))
    assert len(ports) >= 2
    doc = DOC.read_text()
    for port in ports:
        assert f"seira@{port}" in doc, f"docs/deploy.md does not start seira@{port}"
    socket_io = re.search(r"location /socket\.io/ \{(.*?)\}", text, re.S)
    assert socket_io
    for line in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $seira_connection;",
        # a location with its own proxy_set_header inherits none of the server's
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ):
        assert line in socket_io.group(1), line
    assert "proxy_http_version 1.1;" in text
    assert "Strict-Transport-Security" in text


# --- the samples, served ---------------------------------------------------------------------


def clean_environ() -> dict[str, str]:
    """This process's environment without any SEIRA_*: only the env file may set them."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SEIRA_")}


def environment_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile= as systemd reads these plain KEY=value lines."""
    active, _ = env_assignments(path)
    return active


def wait_for(
    url: str,
    child: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    timeout: float = 20,
    **kwargs: object,
) -> requests.Response:
    """The first answer from `url`; a `child` that exits meanwhile fails at once, with its log."""
    deadline = time.monotonic() + timeout
    while True:
        if child is not None and child.poll() is not None:
            pytest.fail(f"{child.args} exited:\n" + (log.read_text() if log else ""))
        try:
            return requests.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except (requests.ConnectionError, requests.Timeout):  # the port is bound before the
            # worker has loaded the app: a connection may wait in the queue meanwhile
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Processes:
    """Child processes in their own sessions, stopped together."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], log: Path, **kwargs: object) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(  # type: ignore[call-overload]
            command,
            stdout=open(log, "ab"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )
        self.children.append(child)
        return child

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    yield running
    running.stop()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def test_the_samples_serve_a_display_through_nginx(
    tmp_path: Path, redis: RedisServer, processes: Processes
) -> None:
    """As docs/deploy.md sets up a city: the env file, seira-admin, two seira@ processes
    on one database and one Redis, nginx in front with HTTPS; then a wall display connects."""
    state, backups, conf = tmp_path / "state", tmp_path / "backups", tmp_path / "nginx"
    for folder in (state, state / "instance", backups, conf):
        folder.mkdir(mode=0o700)  # as docs/deploy.md makes them (install -d -m 0700)
    seira = str(Path(sys.executable).with_name("seira"))

    def here(text: str) -> str:  # the samples' paths, moved into tmp_path
        for old, new in ((SEIRA, seira), (ENV_FILE, str(tmp_path / "seira.env")),
                         (STATE, str(state)), (BACKUPS, str(backups))):  # fmt: skip
            text = text.replace(old, new)
        return text

    env_text = here(ENV_EXAMPLE.read_text())
    env_text = replace(
        env_text,
        "#SEIRA_MESSAGE_QUEUE=redis://127.0.0.1:6379/0",
        f"SEIRA_MESSAGE_QUEUE={redis.url()}",
    )
    (tmp_path / "seira.env").write_text(env_text)
    admin = tmp_path / "seira-admin"
    admin.write_text(here(ADMIN_SCRIPT.read_text()))

    def seira_admin(*args: str) -> str:
        done = subprocess.run(
            ["sh", str(admin), *args], capture_output=True, text=True, env=clean_environ()
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "database ready" in seira_admin("init")
    seira_admin("config", "load", str(SITE_CONFIG))
    token = seira_admin("device", "add", "--site", "thess-east", "--kind", "display",
                        "--name", "wall").splitlines()[-1]  # fmt: skip
    database = state / "instance" / "seira.db"
    assert database.exists() and database.stat().st_mode & 0o077 == 0

    template = parse_unit(SYSTEMD / "seira@.service")
    env = {**clean_environ(), **environment_file(tmp_path / "seira.env")}
    ports = [free_port(), free_port()]
    started = {}
    for port in ports:
        (words,) = command_lines(here(one(template, "Service", "ExecStart")), instance=str(port))
        log = tmp_path / f"seira-{port}.log"
        started[port] = (processes.start(words, log, cwd=here(STATE), env=env), log)
    for port, (child, log) in started.items():
        health = wait_for(f"http://127.0.0.1:{port}/api/v1/health", child, log)
        assert health.status_code == 200

    https, http = free_port(), free_port()
    command = nginx_setup(conf, backends=ports, https=https, http=http)
    proxy = processes.start(command, conf / "nginx.out")
    cert = str(conf / "cert.pem")
    base = f"https://127.0.0.1:{https}"
    health = wait_for(f"{base}/api/v1/health", proxy, conf / "error.log", verify=cert)
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = requests.get(f"http://127.0.0.1:{http}/kiosk/thess-east", allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://127.0.0.1/kiosk/thess-east"

    # a display as a browser opens it: long-polling first, then the websocket upgrade,
    # with the Origin the page has (the server checks it against the forwarded scheme)
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would take the place of our certificate
    session.verify = cert
    client = socketio.Client(
        reconnection=False,
        http_session=session,
        # websocket-client adds an Origin of its own (http://...) beside the one given
        websocket_extra_options={"suppress_origin": True},
    )
    snapshots: list[dict] = []
    client.on("snapshot", snapshots.append, namespace="/display")
    client.connect(
        base,
        namespaces=["/display"],
        auth={"token": token},
        transports=["polling", "websocket"],
        headers={"Origin": "https://127.0.0.1"},
        wait_timeout=10,
    )
    try:
        deadline = time.monotonic() + 10
        while (not snapshots or client.transport() != "websocket") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert snapshots and snapshots[0]["site"] == "thess-east"
        assert client.transport() == "websocket"
    finally:
        client.disconnect()
    stranger = socketio.Client(reconnection=False, http_session=session)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(
            base,
            namespaces=["/display"],
            auth={"token": token},
            transports=["polling"],
            headers={"Origin": "https://elsewhere.example"},
            wait_timeout=5,
        )

    # a status link's secret is never in nginx's access log
    secret = "Zq7secretOfAStatusLink"
    requests.get(f"{base}/s/{secret}", verify=cert)
    requests.get(f"{base}/api/v1/tickets/status/{secret}?lang=el", verify=cert)
    deadline = time.monotonic() + 5  # nginx writes the line once the answer has gone
    while True:
        log = (conf / "seira.access.log").read_text()
        if '"GET /api/v1/tickets/status/*"' in log or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert '"GET /s/*"' in log and '"GET /api/v1/tickets/status/*"' in log
    assert secret not in log and "lang=" not in log

    # the nightly backup unit's command, while both processes serve
    backup = parse_unit(SYSTEMD / "seira-backup.service")
    words = shlex.split(here(expand(one(backup, "Service", "ExecStart"))))
    done = subprocess.run(words, capture_output=True, text=True, cwd=state, env=env)
    assert done.returncode == 0, done.stderr
    weekday = time.strftime("%u")
    copy = backups / f"seira-{weekday}.db"
    assert copy.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert json.loads(requests.get(f"{base}/api/v1/health", verify=cert).text)["status"] == "ok"


def test_seira_serve_parser_catches_a_wrong_option() -> None:
    """The check the units go through refuses what `seira` would refuse."""
    with pytest.raises(pytest.fail.Exception):
        check_seira_command(["serve", "--threads", "4"])
    with pytest.raises(pytest.fail.Exception):
        check_seira_command(["serve", "--port", "%i"])  # an unexpanded specifier
    with pytest.raises(AssertionError):
        check_seira_command(["backups", "/tmp/x.db"])
    assert check_seira_command(["serve", "--host", "127.0.0.1"]).name == "serve"
