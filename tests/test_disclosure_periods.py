"""Differencing across periods: the reports of overlapping periods, asked for through the
real reports API of a live server over a month of demo history, give back no hidden
daily count of the sensitive "protection" group; and rows of zero are there.

Everything the answers publish about visits by day and reason group becomes a linear
equation over the unknown counts x[day, group] (a group's visits over a range, one
cell of the groups-by-day table, the visits of a range from the services report); a
hidden daily count is given away iff its unit vector lies in the row space of those
equations, checked with exact rational elimination.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from server.analytics import history
from server.db import Database
from server.models import Site, Ticket

JUNE = [date(2025, 6, 1) + timedelta(days=i) for i in range(30)]
SENSITIVE = "protection"
Var = tuple[date, str]


@pytest.fixture
def server(app: Flask, db: Database) -> Iterator[str]:
    # a seed whose June has more than ten days with 1 to 4 protection visits (asserted)
    history.generate(db, "thess-east", days=30, per_day=60, seed=10, end=JUNE[-1])
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.server_port}/api/v1/reports"
    live.shutdown()
    thread.join(timeout=5)


def get(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def tables(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in body["tables"]}


def determined(equations: list[dict[Var, int]], targets: set[Var]) -> set[Var]:
    """The targets fixed by the equations: sparse Gauss-Jordan over Fractions."""
    rows: list[dict[Var, Fraction]] = []
    for equation in equations:
        row = {k: Fraction(v) for k, v in equation.items() if v}
        for pivot_row in rows:
            col = next(iter(pivot_row))  # each kept row starts with its pivot
            if col in row:
                factor = row[col]
                for k, v in pivot_row.items():
                    row[k] = row.get(k, Fraction(0)) - factor * v
                    if row[k] == 0:
                        del row[k]
        if not row:
            continue
        col = min(row, key=repr)
        lead = row[col]
        row = {col: Fraction(1), **{k: v / lead for k, v in row.items() if k != col}}
        for other in rows:
            if col in other:
                factor = other[col]
                for k, v in row.items():
                    other[k] = other.get(k, Fraction(0)) - factor * v
                    if other[k] == 0:
                        del other[k]
        rows.append(row)
    return {next(iter(r)) for r in rows if len(r) == 1} & targets


def published_equations(bodies: list[tuple[date, date, dict, dict]]) -> list[dict[Var, int]]:
    """What the answers say about x[day, group], as equations (the values are left out:
    which unknowns a published figure ties is all that decides what can be worked out)."""
    groups = {SENSITIVE} | {
        r["group"] for _, _, reasons, _ in bodies for t in reasons["tables"] for r in t["rows"]
    }
    found: dict[frozenset, dict[Var, int]] = {}

    def add(variables: list[Var]) -> None:
        found.setdefault(frozenset(variables), {v: 1 for v in variables})

    for first, last, reasons, _services in bodies:
        days = [d for d in JUNE if first <= d <= last]
        by_name = tables(reasons)
        for row in by_name["groups"]["rows"]:
            if isinstance(row["visits"], int):
                add([(d, row["group"]) for d in days])
        for row in by_name["groups_by_day"]["rows"]:
            if isinstance(row["visits"], int):
                add([(date.fromisoformat(row["day"]), row["group"])])
        add([(d, g) for d in days for g in groups])  # the range's visits (services report)
    return list(found.values())


def test_overlapping_periods_give_back_no_hidden_daily_count(
    server: str, tokens: dict[str, str], db: Database
) -> None:
    token = tokens["supervisor"]
    first, last = JUNE[0], JUNE[-1]
    ranges = {(first, last)}
    for day in JUNE:
        ranges |= {(first, day), (day, last), (day, day)}
    bodies = []
    for a, b in sorted(ranges):
        query = f"site=thess-east&from={a}&to={b}"
        bodies.append((a, b, get(f"{server}/reasons?{query}", token),
                       get(f"{server}/services?{query}", token)))  # fmt: skip
    for _, _, _, services in bodies:  # the services report does publish every range's total
        assert sum(r["visits"] for r in tables(services)["by_service"]["rows"]) >= 0
    with db.connect() as conn:
        site = conn.execute(select(Site.id).where(Site.slug == "thess-east")).scalar_one()
        truth = dict(
            conn.execute(
                select(Ticket.service_day, func.count())
                .where(Ticket.site_id == site, Ticket.reason_code.like(f"{SENSITIVE}.%"))
                .group_by(Ticket.service_day)
            ).all()
        )
    small_days = {(d, SENSITIVE) for d in JUNE if 0 < truth.get(d, 0) < 5}
    assert len(small_days) > 10
    given_away = determined(published_equations(bodies), small_days)
    assert not given_away, sorted(given_away)

    month = tables(next(body for a, b, body, _ in bodies if (a, b) == (first, last)))
    # every day of the month has a row for every group, zeros too; a day without such a
    # visit looks like a day with one ("x"), except the weekends, when the centre is shut
    day_rows = month["groups_by_day"]["rows"]
    assert len(day_rows) == 30 * len(month["groups"]["rows"]) == 30 * 12
    cells = {(date.fromisoformat(r["day"]), r["group"]): r["visits"] for r in day_rows}
    for day in JUNE:
        assert cells[(day, SENSITIVE)] == (0 if day.weekday() >= 5 else "x"), day
    # no other range shows anything by reason, and says why
    for a, b, body, _ in bodies:
        if (a, b) != (first, last):
            assert all(t["withheld"] and t["note"] and not t["rows"] for t in body["tables"])
