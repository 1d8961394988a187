"""How fast are the reports on a busy city's history? Generates about 1,000,000 tickets
(three years of both Thessaloniki centres) into an SQLite file, then times the monthly
and yearly reports and the heatmap (median of a few runs each).

    .venv/bin/python bench/reports.py                       # /tmp/seira-reports-bench.db
    .venv/bin/python bench/reports.py --tickets 200000 --runs 5
    .venv/bin/python bench/reports.py --fresh                # regenerate the history

Targets: the monthly report under 1 s, the yearly under 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server import migrate, siteconfig  # noqa: E402
from server.analytics import history  # noqa: E402
from server.analytics.periods import month_bounds  # noqa: E402
from server.analytics.reports import KINDS, compute  # noqa: E402
from server.db import Database  # noqa: E402
from server.models import Event, Site, Ticket  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "server" / "sites" / "thessaloniki.toml"
SITES = ("thess-east", "thess-west")
YEARS = 3


def per_day_for(tickets: int, end: date, days: int) -> float:
    """The ordinary-day arrivals that give `tickets` in all, rhythms included."""
    weight = sum(
        history.WEEKDAY_FACTOR[d.weekday()] * history.MONTH_FACTOR[d.month - 1]
        for d in history.history_days(end, days)
    )
    return tickets / (len(SITES) * weight)


def prepare(db: Database, tickets: int, fresh: bool) -> None:
    migrate.upgrade(db)
    with db.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Ticket)).scalar() or 0
    if have >= tickets * 0.9 and not fresh:
        print(f"using the existing history: {have:,} tickets")
        return
    siteconfig.load(db, CONFIG)
    end = date.today() - timedelta(days=1)
    days = 365 * YEARS
    per_day = per_day_for(tickets, end, days)
    print(f"generating {tickets:,} tickets: {days} days, {per_day:.0f} visitors a day per site")
    started = time.perf_counter()
    for site in SITES:
        site_started = time.perf_counter()

        def progress(stats: history.Stats, site: str = site, since: float = site_started) -> None:
            rate = stats.tickets / (time.perf_counter() - since)
            print(f"\r  {site}: {stats.days} days, {stats.tickets:,} tickets "
                  f"({rate:,.0f}/s)", end="", flush=True)  # fmt: skip

        history.generate(db, site, days, per_day, seed=2024, end=end, progress=progress)
        print()
    with db.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")
    with db.connect() as conn:
        n_tickets = conn.execute(select(func.count()).select_from(Ticket)).scalar()
        n_events = conn.execute(select(func.count()).select_from(Event)).scalar()
    took = time.perf_counter() - started
    print(f"generated {n_tickets:,} tickets and {n_events:,} events in {took:.0f} s")


def timed(db: Database, kind: str, sites: list[int], first: date, last: date, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with db.connect() as conn:
            compute(conn, kind, sites, first, last)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="/tmp/seira-reports-bench.db")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="delete and regenerate the file")
    args = parser.parse_args()
    if args.fresh:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(args.db + suffix).unlink(missing_ok=True)
    db = Database(f"sqlite:///{args.db}")
    prepare(db, args.tickets, args.fresh)
    with db.connect() as conn:
        sites = list(conn.execute(select(Site.id).order_by(Site.id)).scalars())
        last_day = conn.execute(select(func.max(Ticket.service_day))).scalar()
    month = month_bounds(last_day.replace(day=1) - timedelta(days=1))  # the last whole month
    year = (last_day - timedelta(days=364), last_day)
    print(f"\nmedian of {args.runs} runs, all {len(sites)} sites, SQLite ({args.db})")
    print(f"{'report':<12} {'month ' + str(month[0])[:7]:>14} {'year to ' + str(year[1]):>20}")
    results: dict[str, tuple[float, float]] = {}
    for kind in KINDS:
        results[kind] = (
            timed(db, kind, sites, *month, args.runs),
            timed(db, kind, sites, *year, args.runs),
        )
        print(f"{kind:<12} {results[kind][0]:>12.3f} s {results[kind][1]:>18.3f} s")
    monthly, yearly = results["indicators"]
    print(f"\nmonthly indicators report: {monthly:.3f} s (target < 1 s)")
    print(f"yearly indicators report:  {yearly:.3f} s (target < 3 s)")
    print(f"heatmap, one year:         {results['heatmap'][1]:.3f} s")
    db.dispose()


if __name__ == "__main__":
    main()
