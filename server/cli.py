"""The `seira` command: set up the database, load configuration, add accounts, serve."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

import click
from sqlalchemy import make_url, select

from . import auth, migrate, siteconfig
from .db import Database
from .models import User
from .store import close_day

DEMO_CONFIG = Path(__file__).with_name("sites") / "thessaloniki.toml"
DEMO_PASSWORD = "seira-demo"
DEMO_USERS = [  # (username, role, sites)
    ("admin", "admin", ["thess-east", "thess-west"]),
    ("supervisor", "supervisor", ["thess-east", "thess-west"]),
    ("staff-east", "staff", ["thess-east"]),
    ("staff-west", "staff", ["thess-west"]),
]


def _db() -> Database:
    return Database()


@click.group()
def main() -> None:
    """Seira: kiosk and queue management for Community Centres."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
def init() -> None:
    """Create the database, or upgrade it to the current schema."""
    db = _db()
    revision = migrate.upgrade(db)
    shown = make_url(db.url).render_as_string(hide_password=True)
    click.echo(f"database ready at schema {revision}: {shown}")


@main.group()
def config() -> None:
    """Site configuration (TOML)."""


@config.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def config_load(file: str) -> None:
    """Load sites, services, reasons and counters from FILE."""
    try:
        counts = siteconfig.load(_db(), file)
    except siteconfig.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("loaded " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@main.group()
def user() -> None:
    """Staff accounts."""


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            raise click.ClickException("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in auth.Role]), required=True)
@click.option("--site", required=True, help="site slug")
def user_add(name: str, role: str, site: str) -> None:
    """Add user NAME (or give an existing one a role); the password is read from stdin."""
    try:
        auth.add_user(_db(), name, _read_password(), role, site)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} is {role} at {site}")


@main.group()
def device() -> None:
    """Kiosks and displays."""


@device.command("add")
@click.option("--site", required=True, help="site slug")
@click.option("--kind", type=click.Choice([k.value for k in auth.DeviceKind]), required=True)
@click.option("--name", required=True)
def device_add(site: str, kind: str, name: str) -> None:
    """Register a device; its token is printed alone on the last line, and only once."""
    try:
        token = auth.add_device(_db(), site, kind, name)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} '{name}' added at {site}; its token (shown only now):")
    click.echo(token)


@main.command("close-day")
def close_day_cmd() -> None:
    """Close tickets left open from an earlier day (the server also does this itself)."""
    click.echo(f"closed {close_day(_db())} tickets")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=32, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16))
@click.option("--access-log", is_flag=True, help="log every request (off: privacy first)")
def serve(host: str, port: int, threads: int, workers: int, access_log: bool) -> None:
    """Serve the API and pages."""
    from .serve import run

    run(host, port, threads, access_log, workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Set up the demo centres and accounts, print how to sign in, and serve."""
    from .serve import run

    demo_names = [username for username, _, _ in DEMO_USERS]
    db = _db()
    migrate.upgrade(db)
    with db.read() as s:
        others = s.scalars(select(User.username).where(User.username.not_in(demo_names))).all()
    if others:
        raise click.ClickException(
            "this database has real accounts; the demo would reset its configuration. "
            "Point SEIRA_DATABASE_URL at a new database for the demo."
        )
    siteconfig.load(db, DEMO_CONFIG)
    for username, role, sites in DEMO_USERS:
        for site in sites:
            auth.add_user(db, username, DEMO_PASSWORD, role, site)
    base = f"http://{host}:{port}"
    lines = [
        "",
        "Seira demo: Thessaloniki Community Centres (thess-east, thess-west)",
        f"  API:      {base}/api/v1/health   (OpenAPI: {base}/api/v1/openapi.json)",
        f"  Sign in:  {', '.join(u for u, _, _ in DEMO_USERS)}  password: {DEMO_PASSWORD}",
    ]
    for site in ("thess-east", "thess-west"):
        for kind in auth.DeviceKind:
            name = f"demo-{kind}"
            auth.revoke_devices(db, site, name)
            lines.append(f"  {site} {kind} token: {auth.add_device(db, site, kind, name)}")
    db.dispose()
    click.echo("\n".join(lines) + "\n")
    run(host, port, threads=32, access_log=False)


if __name__ == "__main__":
    main()
