"""The `seira` command: set up the database, load configuration, add accounts, serve."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path

import click
from sqlalchemy import make_url, select, update

from printers import Outcome, parse_printer_url, preview, print_now, ticket_bytes
from printers.samples import sample_ticket

from . import auth, i18n, migrate, recordings, siteconfig, translation_review, translations
from .db import Database
from .errors import NotFound, Refused
from .frontdesk import status_url
from .models import Membership, User
from .printing import Printing
from .queue import reads
from .queue.transactions import close_day

DEMO_CONFIG = Path(__file__).with_name("sites") / "thessaloniki.toml"
DEMO_PASSWORD = "seira-demo-desk"
DEMO_USERS = [  # (username, role, sites)
    ("admin", "admin", ["thess-east", "thess-west"]),
    ("supervisor", "supervisor", ["thess-east", "thess-west"]),
    ("staff-east", "staff", ["thess-east"]),
    ("staff-west", "staff", ["thess-west"]),
    ("mediator", "mediator", ["thess-east", "thess-west"]),
]
# what the demo's people speak with visitors, and who is trained for the private path
DEMO_LANGUAGES = {"mediator": ["el", "ar", "fa"], "staff-west": ["el", "en"]}
DEMO_TRAINED = ["staff-east", "staff-west"]


def _db() -> Database:
    """The database of SEIRA_DATABASE_URL; a change made through it is told to the
    servers that share SEIRA_MESSAGE_QUEUE (a revoked device, a new configuration)."""
    from . import bus

    bus.configure(os.environ.get("SEIRA_MESSAGE_QUEUE"), listen=False)
    return Database()


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.group()
def main() -> None:
    """Seira: kiosk and queue management for Community Centres."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


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


@config.command("export")
@click.argument("sites", nargs=-1)
@click.option("--staff", is_flag=True, help="Also the languages of the people of the sites.")
def config_export(sites: tuple[str, ...], staff: bool) -> None:
    """Write the configuration of SITES (all sites if none) as TOML to standard output.

    The file holds the whole reason taxonomy and loads back to the same configuration.
    With --staff it also sets the languages of their people, whose accounts must then
    exist where it is loaded."""
    try:
        data = siteconfig.export(_db(), *sites, staff=staff)
        click.echo(siteconfig.dumps(data), nl=False)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None


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
@click.option(
    "--languages",
    help="the languages the person speaks with visitors, as codes: el,en,fa (Greek if not given)",
)
def user_add(name: str, role: str, site: str, languages: str | None) -> None:
    """Add user NAME (or give an existing one a role); the password is read from stdin."""
    spoken = None if languages is None else [c.strip() for c in languages.split(",") if c.strip()]
    try:
        auth.add_user(_db(), name, _read_password(), role, site, languages=spoken)
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
@click.option(
    "--printer",
    help="a kiosk's printer: tcp://HOST:9100, usb://VID:PID, serial:///dev/ttyUSB0?baudrate=19200, "
    "cups://QUEUE or file:///PATH, with ?profile=...&paper=58|80",
)
def device_add(site: str, kind: str, name: str, printer: str | None) -> None:
    """Register a device; its token is printed alone on the last line, and only once."""
    settings = {}
    if printer:
        if kind != auth.DeviceKind.KIOSK:
            raise click.ClickException("only a kiosk has a printer")
        try:
            parse_printer_url(printer)
        except ValueError as exc:
            raise click.ClickException(f"bad printer URL: {exc}") from None
        settings["printer"] = printer
    try:
        token = auth.add_device(_db(), site, kind, name, settings)
    except auth.AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} '{name}' added at {site}; its token (shown only now):")
    click.echo(token)


@main.group("i18n")
def i18n_group() -> None:
    """Translations: every gettext domain (messages, display, reports, printers, visitors)."""


@i18n_group.command("update")
def i18n_update() -> None:
    """Extract the messages from the sources, merge them into every catalog, write STATUS.md."""
    for domain in translations.DOMAINS.values():
        for path in translations.update(domain):
            click.echo(f"wrote {path.relative_to(i18n.LOCALES_DIR.parent)}")
    path = translation_review.write_status()
    click.echo(f"wrote {path.relative_to(i18n.LOCALES_DIR.parent)}")


@i18n_group.command("check")
def i18n_check() -> None:
    """List messages still untranslated or with a wrong placeholder; exit 1 if any."""
    bad = False
    for name, domain in translations.DOMAINS.items():
        for lang, messages in translations.missing(domain).items():
            bad = True
            for message in messages:
                click.echo(f"{name} {lang}: untranslated: {message}")
        for lang, messages in translations.placeholder_problems(domain).items():
            bad = True
            for message in messages:
                click.echo(f"{name} {lang}: placeholders differ: {message}")
    if translation_review.STATUS_PATH.read_text(encoding="utf-8") != translation_review.status():
        bad = True
        click.echo("locales/STATUS.md is out of date: run seira i18n update")
    if bad:
        raise SystemExit(1)
    click.echo("every message is translated")


@i18n_group.command("export")
@click.argument("lang")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help=".csv or .xlsx")
def i18n_export(lang: str, out: str) -> None:
    """Write LANG's strings beside the English, for the centre's interpreters to review."""
    fmt = Path(out).suffix.lstrip(".").lower()
    try:
        data = translation_review.export(lang, fmt)
    except translation_review.ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    Path(out).write_bytes(data)
    click.echo(f"wrote {out}")


@i18n_group.command("import")
@click.argument("lang")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--reviewer", help="who reviewed it: recorded in the catalogs' headers")
def i18n_import(lang: str, file: str, reviewer: str | None) -> None:
    """Take LANG's reviewed file back (from i18n export); the whole file or nothing."""
    fmt = Path(file).suffix.lstrip(".").lower()
    try:
        rows = translation_review.read_rows(Path(file).read_bytes(), fmt)
        changed = translation_review.import_reviewed(lang, rows, reviewer)
    except (translation_review.ReviewError, KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    translation_review.write_status()
    click.echo(f"{changed} translations changed in {lang}")


@main.group("recordings")
def recordings_group() -> None:
    """Phrases interpreters recorded for languages without an offline voice."""


@recordings_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
def recordings_export(file: str) -> None:
    """Write every recording to FILE (a zip), to move them with the configuration."""
    Path(file).write_bytes(recordings.export_zip(_db()))
    click.echo(f"wrote {file}")


@recordings_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def recordings_import(file: str) -> None:
    """Read recordings from FILE (from `recordings export`); all are checked first."""
    try:
        count = recordings.import_zip(_db(), Path(file).read_bytes())
    except Refused as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{count} recordings imported")


@main.group()
def printer() -> None:
    """Ticket printers."""


@printer.command("test")
@click.option("--printer", "url", required=True, help="the printer's URL, as for `device add`")
@click.option("--lang", default="el", show_default=True, help="the sample visitor's language")
def printer_test(url: str, lang: str) -> None:
    """Print a sample ticket, and say what the printer reports."""
    try:
        config = parse_printer_url(url)
    except ValueError as exc:
        raise click.ClickException(f"bad printer URL: {exc}") from None
    if lang not in i18n.LANGUAGES:
        raise click.ClickException(f"unknown language '{lang}': {', '.join(i18n.LANGUAGES)}")
    ticket = sample_ticket(lang)
    data = ticket_bytes(ticket, config.paper_mm, config.profile, config.native_qr, config.impl)
    result = print_now(config, data)
    if result.outcome is Outcome.FAILED:
        raise click.ClickException(f"printing failed after {result.attempts} tries: {result.error}")
    if result.printed:
        click.echo(f"sample ticket ({lang}, {len(data)} bytes) printed on {url}")
    else:  # the paper may or may not have come out: look at the printer
        click.echo(
            f"sample ticket ({lang}, {len(data)} bytes) sent to {url}, unconfirmed: {result.error}"
        )


@main.group()
def ticket() -> None:
    """Tickets."""


@ticket.command("render")
@click.argument("ticket_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--paper", type=click.Choice(["58", "80"]), default="80", show_default=True)
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="where the status page is served (SEIRA_PUBLIC_URL overrides)",
)
def ticket_render(ticket_id: int, out: str, paper: str, base_url: str) -> None:
    """Write the image ticket TICKET_ID prints as (PNG)."""
    db = _db()
    try:
        view = reads.ticket(db, ticket_id)
    except NotFound:
        raise click.ClickException(f"no ticket {ticket_id}") from None
    base = os.environ.get("SEIRA_PUBLIC_URL") or base_url
    printed = Printing.printed_ticket(db, ticket_id, status_url(base, view.public_token))
    preview(printed, int(paper)).save(out)
    click.echo(f"ticket {view.number} written to {out}")


@main.command("demo-data")
@click.option("--site", required=True, help="site slug")
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(1, 3700),
    help="calendar days, ending yesterday",
)
@click.option(
    "--per-day",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0, 100_000),
    help="visitors on an ordinary day",
)
@click.option("--seed", default=1, show_default=True, type=int)
def demo_data(site: str, days: int, per_day: float, seed: int) -> None:
    """Write a synthetic history of SITE (tickets, events, sign-ins) for demos and benchmarks."""
    from .analytics import history

    try:
        stats = history.generate(_db(), site, days, per_day, seed=seed)
    except (ValueError, Refused) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{site}: {stats.days} days, {stats.tickets} tickets, {stats.events} events, "
        f"{stats.counter_events} counter events"
        + (f" ({stats.skipped_days} days already had tickets)" if stats.skipped_days else "")
    )


@main.command("close-day")
def close_day_cmd() -> None:
    """Close tickets left open from an earlier day (the server also does this itself)."""
    click.echo(f"closed {close_day(_db())} tickets")


@main.command()
def purge() -> None:
    """Anonymise the tickets older than each site's retention_days (the server also does
    this itself): their status links, numbers, exact times and staff links go; the day,
    hour and codes stay for the reports. The audit log says how many, never which."""
    from . import audit, retention
    from .models import Site

    db = _db()
    done = {p.site: p for p in retention.purge(db, actor=audit.COMMAND_LINE, limit=sys.maxsize)}
    with db.read() as s:
        sites = s.execute(select(Site.slug, Site.retention_days).order_by(Site.slug)).all()
    for slug, days in sites:
        found = done.get(slug)
        click.echo(f"{slug}: {found.tickets if found else 0} tickets anonymised (kept {days} days)")


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_cmd(file: Path) -> None:
    """Write a consistent copy of the SQLite database to FILE (readable by you only), while
    the server runs; for PostgreSQL, say how to use pg_dump."""
    from . import backup

    try:
        copy = backup.backup(_db(), file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {file}: schema {copy.revision}, {copy.tickets} tickets")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_cmd(file: Path) -> None:
    """Put the backup FILE in place of the SQLite database; the server must be stopped.
    The database it replaces is kept beside it."""
    from . import backup

    try:
        copy, kept = backup.restore(_db(), file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {file}: schema {copy.revision}, {copy.tickets} tickets")
    click.echo(f"the database it replaced is kept as {kept}")
    if not backup.is_current(copy):
        click.echo("its schema is older than this Seira's: run `seira init` before serving")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--connections",
    default=1000,
    show_default=True,
    type=click.IntRange(10, 100_000),
    help="open connections per worker; each display, counter page and phone keeps one",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16))
@click.option("--access-log", is_flag=True, help="log every request (off: privacy first)")
def serve(host: str, port: int, connections: int, workers: int, access_log: bool) -> None:
    """Serve the API and pages."""
    from .housekeeping import sweep_intervals
    from .serve import run

    try:
        sweep_intervals()  # refused here, not in each worker as it starts
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    # python-escpos calls logging.basicConfig() as it is imported (above), which leaves
    # main()'s without effect: the server's own lines (the sweeps, which process leads)
    # were dropped below WARNING
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, force=True)
    run(host, port, connections, access_log, workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Set up the demo centres and accounts, print how to sign in, and serve."""
    from .analytics import history
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
            languages = DEMO_LANGUAGES.get(username)
            auth.add_user(db, username, DEMO_PASSWORD, role, site, languages=languages)
    with db.write() as s:  # trained at every centre they work at
        trained = select(User.id).where(User.username.in_(DEMO_TRAINED))
        s.execute(update(Membership).where(Membership.user_id.in_(trained)).values(trained=True))
    for site in ("thess-east", "thess-west"):  # a past for the reports; days already there stay
        history.generate(db, site, days=30, per_day=60)
    base = f"http://{host}:{port}"
    lines = [
        "",
        "Seira demo: Thessaloniki Community Centres (thess-east, thess-west)",
        f"  Staff:    {base}/   sign in as {', '.join(u for u, _, _ in DEMO_USERS)}",
        f"            password: {DEMO_PASSWORD}  (counters, live view, reports: from that page)",
        f"  Reports:  {base}/reports/   (supervisor or admin; 30 days of synthetic history)",
        f"  API:      {base}/api/v1/health   (OpenAPI: {base}/api/v1/openapi.json)",
        f"  Admin:    {base}/admin/   (admin or supervisor: centres, devices, people, audit)",
    ]
    for site in ("thess-east", "thess-west"):
        for kind in auth.DeviceKind:
            name = f"demo-{kind}"
            auth.revoke_devices(db, site, name)
            token = auth.add_device(db, site, kind, name)
            lines.append(f"  {site} {kind}: {base}/{kind}/{site}#token={token}")
            lines.append(f"  {site} {kind} token: {token}")
    # a demonstration is tried at any hour: the kiosks issue even outside opening hours
    os.environ.setdefault("SEIRA_OPENING_HOURS", "ignore")
    if os.environ["SEIRA_OPENING_HOURS"] == "ignore":
        lines.append("  Opening hours are not enforced (SEIRA_OPENING_HOURS=enforce to see them).")
    db.dispose()
    click.echo("\n".join(lines) + "\n")
    run(host, port)


if __name__ == "__main__":
    main()
