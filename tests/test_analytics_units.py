"""The pure pieces of the reports: Erlang C, local days across DST, percentiles and local
hours in SQL against Python, suppression, SVG charts, and the history generator."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, func, literal, select, union_all

from server.analytics import charts, erlang, history, privacy
from server.analytics.periods import (
    PeriodError,
    day_bounds,
    offset_segments,
    parse_day,
    parse_month,
)
from server.analytics.sql import (
    distribution,
    local_day,
    local_hour,
    local_seconds,
    summaries,
    summarise,
)
from server.analytics.staffing import staffed_seconds
from server.db import Database
from server.models import Event, Ticket, TicketNumber, UTCDateTime

ATHENS = "Europe/Athens"

# --- Erlang C ------------------------------------------------------------------------------


def test_erlang_c_known_values() -> None:
    # A = 2 erlangs, 3 counters: C = (8/6 · 3) / (1 + 2 + 2 + 8/6 · 3) = 4/9
    assert erlang.wait_probability(3, 2.0) == pytest.approx(4 / 9)
    assert erlang.wait_probability(1, 0.5) == pytest.approx(0.5)  # M/M/1: C = ρ
    assert erlang.wait_probability(2, 2.0) == 1.0  # no steady state
    # SL = 1 - 4/9 · exp(-(3 - 2) · 900/600)
    assert erlang.service_level(3, 2.0, 600, 900) == pytest.approx(1 - 4 / 9 * math.exp(-1.5))
    assert erlang.counters_needed(0, 600, 0.8, 900) == 0
    assert erlang.counters_needed(12, 600, 0.8, 900) == 3  # A = 2: 3 counters give 90 %
    with pytest.raises(ValueError):
        erlang.counters_needed(1, 600, 1.0, 900)


@given(
    rate=st.floats(0.1, 200),
    service=st.floats(30, 3600),
    target=st.floats(0.05, 0.99),
    within=st.floats(0, 3600),
)
def test_counters_needed_is_the_smallest_that_meets_the_target(
    rate: float, service: float, target: float, within: float
) -> None:
    load = rate * service / 3600
    c = erlang.counters_needed(rate, service, target, within)
    assert c > load
    assert erlang.service_level(c, load, service, within) >= target
    if c - 1 > load:
        assert erlang.service_level(c - 1, load, service, within) < target


@given(load=st.floats(0.01, 50), extra=st.integers(1, 20), within=st.floats(0, 3600))
def test_more_counters_never_serve_worse(load: float, extra: int, within: float) -> None:
    c = math.floor(load) + extra
    p = erlang.wait_probability(c, load)
    assert 0 <= p <= 1
    assert erlang.wait_probability(c + 1, load) <= p + 1e-12
    assert erlang.service_level(c + 1, load, 600, within) >= (
        erlang.service_level(c, load, 600, within) - 1e-12
    )


# --- periods -------------------------------------------------------------------------------


def test_day_bounds_are_local_midnights() -> None:
    summer = day_bounds(date(2025, 7, 2), date(2025, 7, 2), ATHENS)
    assert summer == (datetime(2025, 7, 1, 21, tzinfo=UTC), datetime(2025, 7, 2, 21, tzinfo=UTC))
    winter = day_bounds(date(2025, 1, 10), date(2025, 1, 10), ATHENS)
    assert winter[0] == datetime(2025, 1, 9, 22, tzinfo=UTC)
    spring = day_bounds(date(2025, 3, 30), date(2025, 3, 30), ATHENS)  # 23 hours long
    assert spring[1] - spring[0] == timedelta(hours=23)
    autumn = day_bounds(date(2025, 10, 26), date(2025, 10, 26), ATHENS)  # 25 hours long
    assert autumn[1] - autumn[0] == timedelta(hours=25)


def test_offset_segments_find_each_change() -> None:
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    segments = offset_segments(start, end, ATHENS)
    assert [(s.start, s.offset_s) for s in segments] == [
        (start, 7200),
        (datetime(2025, 3, 30, 1, tzinfo=UTC), 10800),
        (datetime(2025, 10, 26, 1, tzinfo=UTC), 7200),
    ]
    assert len(offset_segments(start, end, "UTC")) == 1


def test_parsing_dates_and_months() -> None:
    assert parse_day("2025-07-01") == date(2025, 7, 1)
    assert parse_month("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_month("9999-12") == (date(9999, 12, 1), date(9999, 12, 31))  # the last one
    for bad in ("2025-7-1", "2025-02-30", "", "yesterday"):
        with pytest.raises(PeriodError):
            parse_day(bad)
    for bad in ("2025-13", "0000-01", "2025-00"):
        with pytest.raises(PeriodError):
            parse_month(bad)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instant=st.datetimes(datetime(2023, 1, 1), datetime(2026, 12, 31)))
def test_local_hour_and_day_in_sql_agree_with_zoneinfo(db: Database, instant: datetime) -> None:
    instant = instant.replace(tzinfo=UTC, microsecond=0)
    segments = offset_segments(datetime(2023, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                               ATHENS)  # fmt: skip
    shifted = local_seconds(literal(instant, UTCDateTime()), segments)
    with db.connect() as conn:
        hour, day = conn.execute(select(local_hour(shifted), local_day(shifted))).one()
    local = instant.astimezone(ZoneInfo(ATHENS))
    assert hour == local.hour
    assert date(1970, 1, 1) + timedelta(days=day) == local.date()


# --- percentiles: distributions counted in SQL, read off in Python ----------------------


def reference_percentile(xs: list[int], p: int) -> float:
    """Linear interpolation between closest ranks (numpy's default, PostgreSQL's cont)."""
    xs = sorted(xs)
    h = (len(xs) - 1) * p / 100
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    groups=st.dictionaries(
        st.integers(0, 3), st.lists(st.integers(0, 10_000), min_size=1, max_size=40), min_size=1
    )
)
def test_percentiles_match_the_reference(db: Database, groups: dict[int, list[int]]) -> None:
    data = [(g, x) for g, xs in groups.items() for x in xs]
    source = union_all(
        *(select(literal(g, Integer).label("g"), literal(x, Integer).label("x")) for g, x in data)
    ).subquery()
    with db.connect() as conn:
        rows = conn.execute(distribution(source, ["g"], "x")).all()
    found = summaries(rows, 1, within=600)
    assert len(rows) == len({(g, x) for g, x in data})  # one row per distinct value
    for g, xs in groups.items():
        summary = found[(g,)]
        assert summary.n == len(xs)
        assert summary.mean == pytest.approx(sum(xs) / len(xs))
        assert summary.p50 == pytest.approx(reference_percentile(xs, 50))
        assert summary.p90 == pytest.approx(reference_percentile(xs, 90))
        assert summary.within == sum(1 for x in xs if x <= 600)
    assert summarise([]) is None


# --- suppression and charts ------------------------------------------------------------------


def test_the_rules_of_small_counts() -> None:
    assert privacy.shown(3, True) == privacy.HIDDEN == "x" and privacy.shown(3, False) == 3
    assert privacy.threshold(None) == 5 and privacy.threshold("10") == 10
    assert privacy.threshold("x") == 5 and privacy.threshold(0) == 1
    # figures by reason: one centre and one whole calendar month, nothing else
    june = (date(2025, 6, 1), date(2025, 6, 30))
    assert privacy.reason_split_published((1,), *june)
    assert not privacy.reason_split_published((1, 2), *june)
    assert not privacy.reason_split_published((1,), date(2025, 6, 1), date(2025, 6, 29))
    assert not privacy.reason_split_published((1,), date(2025, 6, 2), date(2025, 7, 1))
    assert not privacy.reason_split_published((1,), date(2025, 1, 1), date(2025, 12, 31))


def test_charts_are_accessible_svg() -> None:
    drawings = [
        charts.bars("Visits <by> reason", "desc & more", [("A & B", 10), ("Protection <", "x")]),
        charts.lines(
            "Trend", "weekly", ["w1", "w2", "w3"], [("east", [1, 5, 3]), ("west", [2, None, 4])]
        ),
        charts.heatmap("Arrivals", "grid", ["Mon", "Tue"], [8, 9], {(0, 8): 3, (1, 9): 12}),
        charts.bars("Empty", "nothing", []),
    ]  # fmt: skip
    for svg in drawings:
        root = ET.fromstring(str(svg))  # well-formed, escaped
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
    assert "A &amp; B" in drawings[0] and "Protection &lt;" in drawings[0]
    assert drawings[0].count("<rect") == 1  # the hidden count gets no bar
    assert "stroke-dasharray" in drawings[1]  # the second series is not colour alone


# --- staffing from sign-ins ------------------------------------------------------------------


def test_staffed_seconds_per_local_hour() -> None:
    def at(h: int, m: int = 0) -> datetime:
        return datetime(2025, 1, 7, h, m, tzinfo=UTC)  # winter: local = UTC + 2

    start, end = datetime(2025, 1, 6, 22, tzinfo=UTC), datetime(2025, 1, 7, 22, tzinfo=UTC)
    events = [
        (1, "opened", at(6)), (1, "paused", at(7, 30)), (1, "resumed", at(8)),
        (2, "closed", at(7)),  # signed in before the range: staffed from its start
        (1, "closed", at(9)), (3, "opened", at(20, 30)),  # still open at the end
    ]  # fmt: skip
    found = staffed_seconds(events, start, end, ATHENS)
    day = date(2025, 1, 7)
    assert found[(day, 8)] == 3600 * 2  # desk 1 and desk 2 from 08:00 local
    assert found[(day, 9)] == 1800  # desk 1 until its pause; desk 2 closed at 09:00
    assert found[(day, 10)] == 3600 and found[(day, 11)] == 0
    assert found[(day, 22)] == 1800 and found[(day, 23)] == 3600
    assert found[(day, 0)] == 3600  # desk 2 from midnight local


# --- the history generator -------------------------------------------------------------------


def test_history_respects_the_schema_and_the_calendar(db: Database) -> None:
    stats = history.generate(db, "thess-east", days=21, per_day=40, seed=5)
    again = history.generate(db, "thess-east", days=21, per_day=40, seed=5)
    assert stats.tickets > 300 and again.tickets == 0 and again.skipped_days == stats.days
    zone = ZoneInfo(ATHENS)
    today = datetime.now(zone).date()
    with db.connect() as conn:
        tickets = conn.execute(
            select(Ticket.service_day, Ticket.issued_at, Ticket.origin_service_id, Ticket.number)
        ).all()
        last = dict(
            ((s, d), n)
            for s, d, n in conn.execute(
                select(TicketNumber.service_id, TicketNumber.day, TicketNumber.last_number)
            )
        )
        kinds = dict(conn.execute(select(Event.type, func.count()).group_by(Event.type)).all())
    assert len(tickets) == stats.tickets
    assert all(day < today and day.weekday() < 5 for day, *_ in tickets)
    assert all(issued.astimezone(zone).date() == day for day, issued, *_ in tickets)
    assert all(8 <= issued.astimezone(zone).hour < 15 for _, issued, *_ in tickets)
    per_queue: dict[tuple[int, date], list[int]] = {}
    for day, _, service, number in tickets:
        per_queue.setdefault((service, day), []).append(number)
    assert {k: max(v) for k, v in per_queue.items()} == last  # numbering rows agree
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in per_queue.values())
    assert kinds["issued"] == stats.tickets
    assert kinds["finished"] > kinds["no_show"] > 0 and kinds["cancelled"] > 0
    assert kinds.get("transferred", 0) > 0


def test_history_is_reproducible(db: Database, tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    import shutil

    other_path = tmp_path / "other.db"
    shutil.copy(template_db, other_path)
    other = Database(f"sqlite:///{other_path}")
    try:
        end = date(2025, 6, 30)
        for database in (db, other):
            history.generate(database, "thess-west", days=10, per_day=30, seed=9, end=end)
        query = select(Ticket.reason_code, Ticket.lang, Ticket.status, Ticket.issued_at).order_by(
            Ticket.id
        )
        with db.connect() as a, other.connect() as b:
            assert a.execute(query).all() == b.execute(query).all()
    finally:
        other.dispose()
