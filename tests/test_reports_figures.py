"""Each report's figures against a small history written through the real store, whose
every number is worked out by hand in the comments below.

The history (thess-east, Tuesday 1 July 2025, Athens = UTC+3; times are local):

  ticket  issued  service  reason             lang prio        first call  then
  g1      09:00   general  other              ar   elderly     +2 min      served 10 min
  g2      09:30   general  other              ar               +4 min      efka referral, 6 min
  g3      10:00   general  other              ar               +6 min      housing referral, 8 min
  g4      10:30   general  other              ar               +8 min      appointment, 12 min
  g5      11:00   general  other              ar               +10 min     served 4 min
  g6      11:30   general  other              ar               +30 min     served 20 min
  g7      12:30   general  health.clinics     el               +5 min      returned, called
                                                                           12:50, served 10 min
  t1      13:30   general  housing.programmes fa               +1 min      transferred to benefits,
                                                                           called 13:40, served 15
  b1      09:10   benefits benefits.min_income el              +5 min      no-show
  b2      09:20   benefits benefits.housing_.. el              never       left at 09:40
  b3      10:10   benefits benefits.min_income el              +20 min     served 15 min
  p1      10:20   social   protection.women   el   disability  +3 min      served 25 min
  c1      14:50   general  other              el               never       closed at day end
  late    02:30 on Wed 2 July (23:30 UTC on the 1st): general, other, ar, cancelled (mistake)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from server.analytics import erlang
from server.analytics.reports import Report, compute
from server.db import Database
from server.models import Counter, CounterEvent, Site
from server.queue import transactions
from server.queue.rules import Action

EAST = "thess-east"
D1 = date(2025, 7, 1)  # a Tuesday, summer time (UTC+3)
D2 = date(2025, 7, 2)
DESK = {"general": "desk-1", "benefits": "desk-2", "social-work": "desk-3"}


def local(hour: int, minute: int = 0, day: date = D1) -> datetime:
    """Athens summer wall-clock time as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=3)


def _visit(
    db: Database,
    at: datetime,
    service: str,
    reason: str,
    lang: str,
    *,
    priority: str = "none",
    wait_min: float | None = None,
    serve_min: float = 0,
    outcome: str = "served",
    referral: str | None = None,
    then: str = "finish",
) -> int:
    ticket = transactions.issue_ticket(
        db, site=EAST, service=service, reason=reason, lang=lang, priority=priority, now=at
    )
    if wait_min is None:
        return ticket.id
    called_at = at + timedelta(minutes=wait_min)
    called = transactions.call_next(
        db, site=EAST, counter=DESK[service], user_id=None, now=called_at
    ).ticket
    assert called is not None and called.id == ticket.id
    if then == "no-show":
        transactions.act(db, ticket.id, Action.NO_SHOW, user_id=None, now=called_at)
        return ticket.id
    transactions.act(db, ticket.id, Action.START, user_id=None, now=called_at)
    end = called_at + timedelta(minutes=serve_min)
    transactions.act(
        db, ticket.id, Action.FINISH, user_id=None, outcome=outcome, referral=referral, now=end
    )
    return ticket.id


def _shifts(db: Database) -> None:
    """Staffing as it was on the 1st, written first: a call reads its counter's shift as of
    its own instant, and every call below falls in a shift (none opens or resumes one).
    desk-1 08-15 with a pause 11:20-11:50, desk-2 09-14, desk-3 10-11."""
    with db.transaction() as conn:
        site_id = conn.execute(select(Site.id).where(Site.slug == EAST)).scalar_one()
        desks = dict(
            conn.execute(select(Counter.slug, Counter.id).where(Counter.site_id == site_id)).all()
        )
        conn.execute(
            insert(CounterEvent),
            [
                {"site_id": site_id, "counter_id": desks[desk], "type": type_, "at": at}
                for desk, type_, at in [
                    ("desk-1", "opened", local(8)),
                    ("desk-2", "opened", local(9)),
                    ("desk-3", "opened", local(10)),
                    ("desk-3", "closed", local(11)),
                    ("desk-1", "paused", local(11, 20)),
                    ("desk-1", "resumed", local(11, 50)),
                    ("desk-2", "closed", local(14)),
                    ("desk-1", "closed", local(15)),
                ]
            ],
        )


def build_history(db: Database) -> None:
    """Write the history of the module docstring through the store, as staff would."""
    _shifts(db)
    _visit(db, local(9), "general", "other", "ar", priority="elderly", wait_min=2, serve_min=10)
    _visit(db, local(9, 30), "general", "other", "ar", wait_min=4, serve_min=6,
           outcome="referred_external", referral="efka")  # fmt: skip
    _visit(db, local(10), "general", "other", "ar", wait_min=6, serve_min=8,
           outcome="referred_internal", referral="housing")  # fmt: skip
    _visit(db, local(10, 30), "general", "other", "ar", wait_min=8, serve_min=12,
           outcome="appointment")  # fmt: skip
    _visit(db, local(11), "general", "other", "ar", wait_min=10, serve_min=4)
    _visit(db, local(11, 30), "general", "other", "ar", wait_min=30, serve_min=20)
    # g7: called, returned to the line, called again: the first call is what it waited
    g7 = transactions.issue_ticket(db, site=EAST, service="general", reason="health.clinics",
                                   lang="el", now=local(12, 30))  # fmt: skip
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=local(12, 35))
    transactions.act(db, g7.id, Action.RETURN, user_id=None, now=local(12, 36))
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=local(12, 50))
    transactions.act(db, g7.id, Action.START, user_id=None, now=local(12, 50))
    transactions.act(db, g7.id, Action.FINISH, user_id=None, outcome="served", now=local(13))
    # t1: waited in general, moved to benefits, served there
    t1 = transactions.issue_ticket(db, site=EAST, service="general", reason="housing.programmes",
                                   lang="fa", now=local(13, 30))  # fmt: skip
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=local(13, 31))
    transactions.act(
        db, t1.id, Action.TRANSFER, user_id=None, service="benefits", now=local(13, 32)
    )
    transactions.call_next(db, site=EAST, counter="desk-2", user_id=None, now=local(13, 40))
    transactions.act(db, t1.id, Action.START, user_id=None, now=local(13, 40))
    transactions.act(db, t1.id, Action.FINISH, user_id=None, outcome="served", now=local(13, 55))
    _visit(db, local(9, 10), "benefits", "benefits.min_income", "el", wait_min=5, then="no-show")
    b2 = _visit(db, local(9, 20), "benefits", "benefits.housing_allowance", "el")
    transactions.act(db, b2, Action.CANCEL, user_id=None, why="left", now=local(9, 40))
    _visit(db, local(10, 10), "benefits", "benefits.min_income", "el", wait_min=20, serve_min=15)
    _visit(db, local(10, 20), "social-work", "protection.women", "el", priority="disability",
           wait_min=3, serve_min=25)  # fmt: skip
    _visit(db, local(14, 50), "general", "other", "el")  # c1: never called
    late = datetime(2025, 7, 1, 23, 30, tzinfo=UTC)  # 02:30 on Wednesday in Athens
    late_id = _visit(db, late, "general", "other", "ar")
    transactions.act(db, late_id, Action.CANCEL, user_id=None, why="mistake", now=late)
    transactions.close_day(db, now=local(8, day=D2))  # closes c1 only: `late` is of the 2nd


@pytest.fixture
def history(db: Database) -> Database:
    build_history(db)
    return db


def report(db: Database, kind: str, first: date = D1, last: date = D1, **kw: Any) -> Report:
    with db.connect() as conn:
        site_id = conn.execute(select(Site.id).where(Site.slug == EAST)).scalar_one()
        return compute(conn, kind, [site_id], first, last, **kw)


def rows(rep: Report, table: str) -> list[dict[str, Any]]:
    return rep.table(table).rows


def by(rep: Report, table: str, key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows(rep, table)}


JULY = (date(2025, 7, 1), date(2025, 7, 31))


def test_reasons_only_for_one_centre_and_a_whole_month(history: Database) -> None:
    day = report(history, "reasons")
    assert all(t.rows == [] and t.note for t in day.tables)  # withheld, and why
    rep = report(history, "reasons", *JULY)
    assert all(t.note is None for t in rep.tables)
    groups = by(rep, "groups", "group")
    assert len(groups) == 12  # every group of the taxonomy, zeros too
    assert groups["legal"]["visits"] == 0 and groups["legal"]["share"] == 0
    assert len(rows(rep, "groups_by_day")) == 31 * 12 and len(rows(rep, "reasons")) == 42


def test_visits_by_reason_group_and_reason(history: Database) -> None:
    """July is 14 visits, so most of it is hidden; each hidden figure, and why:
    - protection 1 (sensitive); the services report publishes social work's July visits,
      1, and social work covers social support (0), legal (0) and protection: one of the
      two zeros is hidden with it, or 1 - 0 - 0 gives it back;
    - benefits 3, housing 1, health 1: below 5 beside hidden cells of their own rows by
      language and by day (a total below the threshold with a hidden part is hidden);
    - other 8: the general service's 9 visits minus other's 8 would give health's 1."""
    rep = report(history, "reasons", *JULY)
    groups = by(rep, "groups", "group")
    assert {g: r["visits"] for g, r in groups.items() if r["visits"] != 0} == {
        "benefits": "x",
        "social_support": "x",
        "housing": "x",
        "health": "x",
        "protection": "x",
        "private": "x",  # the discreet path's zero: sensitive, hidden like protection's
        "other": "x",
    }
    assert groups["protection"]["share"] is None and groups["integration"]["share"] == 0
    reasons = by(rep, "reasons", "reason")
    # min_income 2 stays: its group's total is hidden with housing allowance's 1
    assert reasons["benefits.min_income"]["visits"] == 2
    assert reasons["benefits.housing_allowance"]["visits"] == "x"
    assert reasons["protection.women"]["group"] == "protection"
    # a sensitive reason's zeros are hidden as well: nobody can tell which one it was
    assert {reasons[f"protection.{r}"]["visits"] for r in ("women", "shelter", "trafficking")} == {
        "x"
    }
    assert reasons["housing.programmes"]["label"] == "Housing programmes"


def test_reason_by_language_and_by_day_cells_are_hidden(history: Database) -> None:
    rep = report(history, "reasons", *JULY)
    cells = {(r["group"], r["lang"]): r["visits"] for r in rows(rep, "groups_by_language")}
    assert len(cells) == 12 * 16  # every group and language
    assert cells[("benefits", "el")] == "x" and cells[("housing", "fa")] == "x"
    assert cells[("protection", "fa")] == "x"  # a sensitive zero, where Farsi was spoken
    assert cells[("protection", "uk")] == 0  # nobody spoke Ukrainian: known anyway
    assert cells[("legal", "el")] == 0
    days = {(r["day"], r["group"]): r["visits"] for r in rows(rep, "groups_by_day")}
    assert days[(D1, "protection")] == days[(D2, "protection")] == "x"  # 1 and 0
    assert days[(D1, "other")] == "x" and days[(D2, "benefits")] == 0
    assert days[(date(2025, 7, 3), "protection")] == 0  # a day without any visit
    # the threshold is configurable: at 1, nothing is hidden
    loose = report(history, "reasons", *JULY, minimum=1)
    assert by(loose, "groups", "group")["protection"]["visits"] == 1
    assert by(loose, "groups", "group")["other"]["visits"] == 8


def test_every_report_of_the_month_hides_the_same_cells(history: Database) -> None:
    reasons = by(report(history, "reasons", *JULY), "groups", "group")
    indicators = report(history, "indicators", *JULY)
    people = by(indicators, "people_by_group", "group")
    assert {g: r["visits"] for g, r in people.items()} == {
        g: r["visits"] for g, r in reasons.items()
    }
    outcomes = report(history, "outcomes", *JULY)
    assert rows(outcomes, "referrals") == rows(indicators, "referrals")


def test_labels_in_greek(history: Database) -> None:
    rep = report(history, "reasons", *JULY, lang="el")
    assert by(rep, "groups", "group")["benefits"]["label"] == "Επιδόματα και παροχές"
    assert by(rep, "groups_by_language", "lang")["ar"]["language"] == "Αραβικά"


def test_visits_by_service_priority_language(history: Database) -> None:
    rep = report(history, "services")
    # by the service a visit ended in: t1 moved to benefits
    assert {r["service"]: r["visits"] for r in rows(rep, "by_service")} == {
        "general": 8,
        "benefits": 4,
        "social-work": 1,
    }
    assert {r["priority"]: r["visits"] for r in rows(rep, "by_priority")} == {
        "none": 11,
        "disability": 1,
        "elderly": 1,
    }
    langs = report(history, "languages")
    assert [(r["lang"], r["visits"]) for r in rows(langs, "languages")] == [
        ("ar", 6),
        ("el", 6),
        ("fa", 1),
    ]


def test_day_boundary_is_local(history: Database) -> None:
    """23:30 UTC on 1 July is 02:30 on 2 July in Athens: it belongs to the 2nd."""
    first = report(history, "heatmap")
    assert sum(r["visits"] for r in rows(first, "arrivals")) == 13
    second = report(history, "heatmap", D2, D2)
    assert rows(second, "arrivals") == [{"weekday": 2, "day": "Wednesday", "hour": 2, "visits": 1}]
    both = report(history, "services", D1, D2)
    assert {r["week"]: r["visits"] for r in rows(both, "weekly")} == {date(2025, 6, 30): 14}
    assert {r["month"]: r["visits"] for r in rows(both, "monthly")} == {"2025-07": 14}


def test_arrivals_heatmap(history: Database) -> None:
    rep = report(history, "heatmap")
    cells = {(r["weekday"], r["hour"]): r["visits"] for r in rows(rep, "arrivals")}
    assert cells == {(1, 9): 4, (1, 10): 4, (1, 11): 2, (1, 12): 1, (1, 13): 1, (1, 14): 1}


def test_wait_and_service_time_percentiles(history: Database) -> None:
    rep = report(history, "waits")
    services = by(rep, "by_service", "service")
    # waits by first queue, first call: general 60 120 240 300 360 480 600 1800 (s)
    # median: rank h = 7·0.5 = 3.5 -> 300 + 0.5·60 = 330; p90: h = 6.3 -> 600 + 0.3·1200 = 960
    general = services["general"]
    assert (general["called"], general["wait_median_s"], general["wait_p90_s"]) == (8, 330, 960)
    assert general["within_15_min"] == 0.875
    # service times where the visit ended: general 240 360 480 600 600 720 1200
    # median h = 3 -> 600; p90 h = 5.4 -> 720 + 0.4·480 = 912
    assert (general["served"], general["service_median_s"], general["service_p90_s"]) == (
        7,
        600,
        912,
    )
    # benefits waits 300 (no-show b1) and 1200: median 750, p90 300 + 0.9·900 = 1110
    benefits = services["benefits"]
    assert (benefits["called"], benefits["wait_median_s"], benefits["wait_p90_s"]) == (2, 750, 1110)
    assert (benefits["served"], benefits["service_median_s"]) == (2, 900)  # b3 and t1
    hours = by(rep, "by_hour", "hour")
    # arrivals of 9:00-9:59 that were called: g1 120, g2 240, b1 300 -> median 240
    assert (hours[9]["called"], hours[9]["wait_median_s"]) == (3, 240)
    assert 14 not in hours  # c1 was never called


def test_outcomes_referrals_and_rates(history: Database) -> None:
    rep = report(history, "outcomes")
    endings = {r["ending"]: r["visits"] for r in rows(rep, "endings")}
    assert endings == {
        "served": 7,
        "referred_internal": 1,
        "referred_external": 1,
        "appointment": 1,
        "no_show": 1,
        "left": 1,
        "cancelled": 0,
        "closed": 1,
        "open": 0,
    }
    # a day is no whole month: referrals to the centre's own groups are withheld
    referrals = {(r["kind"], r["destination"]): r["visits"] for r in rows(rep, "referrals")}
    assert referrals[("external", "efka")] == 1 and referrals[("external", "dypa")] == 0
    assert {kind for kind, _ in referrals} == {"external"} and rep.table("referrals").note
    month = {(r["kind"], r["destination"]): r["visits"]
             for r in rows(report(history, "outcomes", *JULY), "referrals")}  # fmt: skip
    # the hidden zeros of the two sensitive groups hide each other; July's one internal
    # referral (housing) is not sensitive and needs no partner then
    assert month[("internal", "protection")] == month[("internal", "private")] == "x"
    assert month[("internal", "housing")] == 1
    assert month[("internal", "legal")] == 0
    (east,) = rows(rep, "rates")
    assert east["visits"] == 13 and east["no_show"] == 1 and east["left"] == 1
    assert east["no_show_rate"] == east["left_rate"] == round(1 / 13, 4)
    # the cancelled-by-mistake ticket of the 2nd is not someone who left
    second = report(history, "outcomes", D2, D2)
    assert {r["ending"]: r["visits"] for r in rows(second, "endings") if r["visits"]} == {
        "cancelled": 1
    }
    assert rows(second, "rates")[0]["left"] == 0


def test_monthly_indicators(history: Database) -> None:
    rep = report(history, "indicators", date(2025, 7, 1), date(2025, 7, 31))
    figures = {r["indicator"]: r["value"] for r in rows(rep, "figures")}
    # every first call of the month: 60 120 180 240 300 300 360 480 600 1200 1800
    assert figures["visits"] == 14 and figures["served"] == 10 and figures["referred"] == 2
    assert figures["wait_median_s"] == 300 and figures["wait_p90_s"] == 1200
    assert figures["within_15_min"] == round(9 / 11, 4)
    assert figures["languages"] == 3
    groups = by(rep, "people_by_group", "group")
    assert groups["protection"]["visits"] == groups["protection"]["served"] == "x"
    assert groups["other"]["visits"] == "x"  # see test_visits_by_reason_group_and_reason
    assert groups["legal"]["visits"] == groups["legal"]["served"] == 0
    loose = by(report(history, "indicators", *JULY, minimum=1), "people_by_group", "group")
    assert loose["other"]["visits"] == 8 and loose["other"]["served"] == 6


def test_staffing_forecast_against_erlang_and_sign_ins(history: Database) -> None:
    rep = report(history, "staffing", target=0.8, within_min=15)
    slots = {(r["weekday"], r["hour"]): r for r in rows(rep, "hours")}
    # present: desk-1 08-11:20 and 11:50-15, desk-2 09-14, desk-3 10-11
    present = {h: slots[(1, h)]["present"] for h in range(8, 15)}
    assert present == {8: 1, 9: 2, 10: 3, 11: 1.5, 12: 2, 13: 2, 14: 1}
    with history.read() as s:  # every call fell in a shift: none opened or resumed one
        assert s.scalar(select(func.count()).select_from(CounterEvent)) == 8
    # mean service time of the ten finished visits: 7500 s / 10 = 750 s
    nine = slots[(1, 9)]
    assert nine["service_min"] == 12.5 and nine["arrivals_per_hour"] == 4
    assert nine["needed"] == erlang.counters_needed(4, 750, 0.8, 900) == 2
    assert slots[(1, 8)]["needed"] == 0 and slots[(1, 8)]["gap"] == 0
    # Monday has no day in the range: nobody needed, nobody there
    assert slots[(0, 9)]["needed"] == 0 and slots[(0, 9)]["present"] == 0
    assert rep.parameters == {"target": 0.8, "within_min": 15}
