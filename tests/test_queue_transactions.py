"""The store's transactions on a real SQLite database: numbering, lifecycle, event log."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from server import catalog
from server.db import Database
from server.errors import Conflict, Invalid, NotFound
from server.models import Counter, Event, Ticket, TicketNumber
from server.queue import reads, rules, transactions, writer
from server.queue.rules import Action, EventType, Status
from tests.conftest import counts

EAST = "thess-east"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 10:00 in Athens, a Monday


def issue(db: Database, service: str = "general", priority: str = "none", now=T0, **kw):
    reason = {
        "general": "other",
        "benefits": "benefits.min_income",
        "social-work": "social_support",
    }
    return transactions.issue_ticket(
        db,
        site=kw.pop("site", EAST),
        service=service,
        reason=kw.pop("reason", reason[service]),
        lang=kw.pop("lang", "ar"),
        priority=priority,
        now=now,
        **kw,
    )


def events(db: Database, ticket_id: int) -> list[Event]:
    with db.read() as s:
        return list(s.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id)))


# --- numbering ------------------------------------------------------------------------------


def test_numbers_are_per_service_and_formatted(db: Database) -> None:
    assert [issue(db).number for _ in range(3)] == ["A001", "A002", "A003"]
    assert issue(db, "benefits").number == "B001"
    assert issue(db, site="thess-west", reason="other").number == "A001"


def test_numbering_restarts_at_athens_midnight(db: Database) -> None:
    before = datetime(2026, 11, 23, 21, 59, tzinfo=UTC)  # 23:59 in Athens (UTC+2)
    after = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 00:00 on the 24th
    assert issue(db, now=before).number == "A001"
    assert issue(db, now=before).number == "A002"
    assert issue(db, now=after).number == "A001"


def test_numbering_survives_the_repeated_hour_when_summer_time_ends(db: Database) -> None:
    # On 2026-10-25 clocks in Athens go from 04:00 EEST back to 03:00 EET at 01:00 UTC:
    # the local hour 03:00-04:00 happens twice, and it is still the same day.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 03:30 EET
    eve = datetime(2026, 10, 24, 20, 59, tzinfo=UTC)  # 23:59 EEST on the 24th
    assert issue(db, now=eve).number == "A001"
    assert issue(db, now=first).number == "A001"
    assert issue(db, now=second).number == "A002"
    assert issue(db, now=datetime(2026, 10, 25, 21, 59, tzinfo=UTC)).number == "A003"
    assert issue(db, now=datetime(2026, 10, 25, 22, 0, tzinfo=UTC)).number == "A001"


def test_numbers_grow_past_999(db: Database) -> None:
    issue(db)
    with db.write() as s:
        s.execute(update(TicketNumber).values(last_number=998))
    assert [issue(db).number for _ in range(2)] == ["A999", "A1000"]


def test_refused_issue_writes_nothing(db: Database) -> None:
    issue(db)
    before = counts(db)
    for bad, error in (
        ({"service": "nope"}, NotFound),
        ({"service": "benefits", "reason": "housing"}, Invalid),  # not a benefits reason
        ({"reason": "does.not.exist"}, Invalid),
        ({"priority": "vip"}, Invalid),
        ({"site": "thess-north"}, NotFound),
    ):
        kw = {"site": EAST, "service": "general", "reason": "other", "priority": "none", **bad}
        with pytest.raises(error):
            transactions.issue_ticket(db, lang="el", now=T0, **kw)
    assert counts(db) == before


# --- lifecycle and event log ----------------------------------------------------------------


def test_full_visit_writes_one_event_per_step(db: Database) -> None:
    t = issue(db)
    called = transactions.call_next(
        db, site=EAST, counter="desk-1", user_id=None, now=T0 + timedelta(minutes=5)
    ).ticket
    assert (
        called
        and called.id == t.id
        and called.status == Status.CALLED
        and called.counter == "desk-1"
    )
    transactions.act(db, t.id, Action.RECALL, user_id=None, now=T0 + timedelta(minutes=6))
    transactions.act(db, t.id, Action.START, user_id=None, now=T0 + timedelta(minutes=7))
    done = transactions.act(
        db,
        t.id,
        Action.FINISH,
        user_id=None,
        outcome="referred_external",
        referral="efka",
        now=T0 + timedelta(minutes=17),
    )
    assert done.status == Status.DONE and done.ended_at == T0 + timedelta(minutes=17)
    log = events(db, t.id)
    assert [e.type for e in log] == ["issued", "called", "recalled", "started", "finished"]
    assert all(e.at.tzinfo is not None for e in log)
    assert log[1].counter_id is not None and log[0].counter_id is None
    assert log[0].payload == {"reason": "other", "lang": "ar", "priority": "none"}
    assert log[-1].payload == {"outcome": "referred_external", "referral": "efka"}


def test_refused_transitions_write_nothing(db: Database) -> None:
    t = issue(db)
    before = counts(db)
    for action in (Action.START, Action.FINISH, Action.RECALL, Action.NO_SHOW):
        with pytest.raises(Conflict):
            transactions.act(db, t.id, action, user_id=None, outcome="served")
    with pytest.raises(Invalid):
        transactions.act(db, t.id, Action.CALL, user_id=None)
    with pytest.raises(NotFound):
        transactions.act(db, 9999, Action.CANCEL, user_id=None)
    assert counts(db) == before


@pytest.mark.parametrize(
    ("outcome", "referral", "error"),
    [
        (None, None, "missing_outcome"),
        ("referred_external", None, "bad_referral"),
        ("referred_external", "embassy", "bad_referral"),
        ("referred_internal", "benefits.min_income", "bad_referral"),  # a child, not a group
        ("served", "efka", "bad_referral"),
        ("delighted", None, "bad_outcome"),
    ],
)
def test_finish_checks_outcome_and_referral(db, outcome, referral, error) -> None:  # type: ignore[no-untyped-def]
    t = issue(db)
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    before = counts(db)
    with pytest.raises(Invalid) as info:
        transactions.act(db, t.id, Action.FINISH, user_id=None, outcome=outcome, referral=referral)
    assert info.value.code == error
    assert counts(db) == before


def test_internal_referral_names_a_reason_group(db: Database) -> None:
    t = issue(db)
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    done = transactions.act(
        db, t.id, Action.FINISH, user_id=None, outcome="referred_internal", referral="housing"
    )
    assert done.status == Status.DONE


def test_counter_must_finish_before_calling_again(db: Database) -> None:
    issue(db)
    issue(db)
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    before = counts(db)
    with pytest.raises(Conflict) as info:
        transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    assert info.value.code == "counter_busy"
    assert counts(db) == before


def test_call_next_with_nobody_waiting_returns_none(db: Database) -> None:
    assert (
        transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0).ticket is None
    )
    issue(db, "social-work")  # desk-2 serves benefits and general only
    assert (
        transactions.call_next(db, site=EAST, counter="desk-2", user_id=None, now=T0).ticket is None
    )


def test_transfer_keeps_number_and_place_return_goes_to_the_back(db: Database) -> None:
    first = issue(db, now=T0)
    issue(db, "benefits", now=T0 + timedelta(minutes=1))
    transactions.call_next(
        db, site=EAST, counter="desk-1", user_id=None, now=T0 + timedelta(minutes=2)
    )
    moved = transactions.act(
        db,
        first.id,
        Action.TRANSFER,
        user_id=None,
        service="benefits",
        now=T0 + timedelta(minutes=3),
    )
    assert moved.number == "A001" and moved.service == "benefits" and moved.status == Status.WAITING
    assert moved.people_ahead == 0  # it was issued before B001, so it keeps its place
    assert events(db, first.id)[-1].payload == {"from_service": "general", "to_service": "benefits"}
    with pytest.raises(Conflict):
        transactions.act(db, first.id, Action.TRANSFER, user_id=None, service="benefits")

    called = transactions.call_next(
        db, site=EAST, counter="desk-2", user_id=None, now=T0 + timedelta(minutes=4)
    ).ticket
    assert called.number == "A001"
    back = transactions.act(
        db, called.id, Action.RETURN, user_id=None, now=T0 + timedelta(minutes=5)
    )
    assert back.status == Status.WAITING and back.people_ahead == 1  # behind B001 now


def test_no_show_can_return(db: Database) -> None:
    t = issue(db)
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    assert transactions.act(db, t.id, Action.NO_SHOW, user_id=None).status == Status.NO_SHOW
    assert transactions.act(db, t.id, Action.RETURN, user_id=None).status == Status.WAITING
    assert [e.type for e in events(db, t.id)] == ["issued", "called", "no_show", "returned"]


def test_cancel_records_why(db: Database) -> None:
    t = issue(db)
    assert transactions.act(db, t.id, Action.CANCEL, user_id=None).status == Status.CANCELLED
    assert events(db, t.id)[-1].payload == {"why": "left"}


def test_day_end_closes_open_tickets_and_deletes_nothing(db: Database) -> None:
    waiting, called, served = issue(db), issue(db), issue(db, "benefits")
    transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=T0)
    transactions.call_next(db, site=EAST, counter="desk-2", user_id=None, now=T0)
    transactions.act(db, served.id, Action.FINISH, user_id=None, outcome="served")
    assert transactions.close_day(db, now=T0 + timedelta(hours=5)) == 0  # same day: nothing
    next_morning = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert transactions.close_day(db, now=next_morning) == 2
    assert transactions.close_day(db, now=next_morning) == 0
    with db.read() as s:
        statuses = dict(s.execute(select(Ticket.id, Ticket.status)).all())
    assert statuses == {waiting.id: "closed", called.id: "closed", served.id: "done"}
    assert events(db, waiting.id)[-1].type == EventType.CLOSED_AT_DAY_END
    assert issue(db, now=next_morning).number == "A001"


def test_priority_streak_is_kept_per_counter(db: Database) -> None:
    # thess-east allows 2 priority calls in a row while normal tickets wait
    normal = issue(db, now=T0)
    for i in range(3):
        issue(db, priority="elderly", now=T0 + timedelta(seconds=i + 1))
    now = T0 + timedelta(minutes=1)
    order = []
    for _ in range(4):
        t = transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=now).ticket
        order.append(t.priority)
        transactions.act(db, t.id, Action.FINISH, user_id=None, outcome="served", now=now)
    # the normal ticket waited behind two priority calls, not behind all three
    assert order == ["elderly", "elderly", "none", "elderly"]
    assert reads.ticket(db, normal.id).status == Status.DONE


# --- the SQL agrees with the engine -----------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["issue", "issue", "call", "call", "finish", "return"]),
        st.sampled_from(["general", "benefits", "social-work"]),
        st.booleans(),
        st.one_of(st.integers(0, 90), st.just(1500)),  # now and then long enough to be overdue
    ),
    min_size=1,
    max_size=40,
)


@pytest.fixture(scope="module")
def scratch(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch")


def _fresh(template_db: Path, folder: Path, n: list[int] = [0]) -> Database:  # noqa: B006
    n[0] += 1
    path = folder / f"db{n[0]}.db"
    shutil.copy(template_db, path)
    return Database(f"sqlite:///{path}")


def _waiting_line(db: Database) -> list[rules.Waiting]:
    """Every waiting ticket, as the pure engine sees them."""
    with db.read() as s:
        rows = s.execute(
            select(Ticket.id, Ticket.service_id, Ticket.priority, Ticket.queued_at).where(
                Ticket.status == "waiting"
            )
        ).all()
    return [rules.Waiting(r[0], r[1], r[2] != "none", r[3]) for r in rows]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops)
def test_store_choices_and_positions_match_the_engine(template_db, scratch, steps) -> None:  # type: ignore[no-untyped-def]
    """Whatever happens, call_next picks what rules.choose_next picks over ALL waiting
    tickets (the store only fetches the heads), and the SQL people-ahead count equals
    rules.people_ahead."""
    db = _fresh(template_db, scratch)
    now = T0
    counters = ["desk-1", "desk-2", "desk-3"]
    cat = catalog.current(db)
    site = cat.site(EAST)
    try:
        for i, (op, service, priority, seconds) in enumerate(steps):
            now += timedelta(seconds=seconds)
            counter = counters[i % 3]
            if op == "issue":
                issue(db, service, "disability" if priority else "none", now=now)
            elif op == "call":
                counter_info = cat.counter(site.id, counter)
                with db.read() as s:
                    rows = s.execute(
                        select(
                            Ticket.id, Ticket.service_id, Ticket.priority, Ticket.queued_at
                        ).where(Ticket.status == "waiting", Ticket.site_id == site.id)
                    ).all()
                    busy = s.scalar(
                        select(Ticket.id).where(
                            Ticket.counter_id == counter_info.id, Ticket.status == "called"
                        )
                    )
                    streak = s.scalar(
                        select(Counter.priority_streak).where(Counter.id == counter_info.id)
                    )
                if busy:
                    continue
                waiting = [rules.Waiting(r[0], r[1], r[2] != "none", r[3]) for r in rows]
                policy = rules.Policy(
                    priority_max_in_row=site.priority_max_in_row,
                    max_wait={
                        sid: timedelta(minutes=cat.services[sid].max_wait_min)
                        for sid in counter_info.weights
                    },
                )
                expected = rules.choose_next(waiting, counter_info.weights, now, streak, policy)
                got = transactions.call_next(
                    db, site=EAST, counter=counter, user_id=None, now=now
                ).ticket
                assert (got.id if got else None) == (expected.ticket.id if expected else None)
            else:
                with db.read() as s:
                    held = s.scalar(select(Ticket.id).where(Ticket.status == "called"))
                if held:
                    action = Action.FINISH if op == "finish" else Action.RETURN
                    transactions.act(db, held, action, user_id=None, outcome="served", now=now)
        waiting = _waiting_line(db)
        for w in waiting:
            assert reads.ticket(db, w.id).people_ahead == rules.people_ahead(w, waiting)
    finally:
        db.dispose()


def test_the_server_sweeps_yesterdays_tickets_by_itself(db: Database) -> None:
    from server.housekeeping import start_housekeeping

    yesterday = datetime.now(UTC) - timedelta(days=1)
    stale = issue(db, now=yesterday)
    stop = start_housekeeping(db, checkpoint_every_s=0.05, sweep_every_s=0.05)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while reads.ticket(db, stale.id).status != Status.CLOSED:
            assert datetime.now(UTC) < deadline, "the sweeper did not close the ticket"
            stop.wait(0.05)
    finally:
        stop.set()
    assert [e.type for e in events(db, stale.id)] == ["issued", "closed_at_day_end"]


# --- writing a ticket ---------------------------------------------------------------------


def _new(db: Database, service: str, now: datetime, reason: str = "other") -> writer.NewTicket:
    cat = catalog.current(db)
    site = cat.site(EAST)
    return writer.NewTicket(
        site_id=site.id,
        service=cat.service(site.id, service),
        day=rules.service_day(now, site.timezone),
        reason=reason,
        lang="fa",
        priority=rules.Priority.NONE,
        device_id=None,
        user_id=None,
        now=now,
    )


def test_tickets_are_numbered_per_service_and_day_in_the_order_written(db: Database) -> None:
    issue(db)  # A001 already taken today
    tomorrow = T0 + timedelta(days=1)
    news = [
        _new(db, "general", T0),
        _new(db, "benefits", T0, "benefits"),
        _new(db, "general", tomorrow),
        _new(db, "general", T0),
        _new(db, "benefits", T0, "benefits"),
    ]
    rows = []
    for new in news:
        with db.connect() as conn, db.writing(conn):
            rows.append(writer.write_ticket(conn, new))
    assert [r["code"] for r in rows] == ["A002", "B001", "A001", "A003", "B002"]
    with db.read() as s:
        issued = s.scalars(select(Event).where(Event.type == "issued").order_by(Event.id)).all()
    assert [e.ticket_id for e in issued[1:]] == [r["id"] for r in rows]
    assert issued[-1].payload == {"reason": "benefits", "lang": "fa", "priority": "none"}


def test_a_failed_write_writes_nothing_and_takes_no_number(db: Database) -> None:
    issue(db)
    before = counts(db)
    good = _new(db, "general", T0)
    broken = writer.NewTicket(**{**good.__dict__, "site_id": 999})  # no such site: FK refuses
    with pytest.raises(Exception, match="FOREIGN KEY"), db.connect() as conn, db.writing(conn):
        writer.write_ticket(conn, broken)
    assert counts(db) == before
    with db.connect() as conn, db.writing(conn):
        assert writer.write_ticket(conn, good)["code"] == "A002"  # the failed one took none


def test_a_ticket_is_stored_as_sqlalchemy_stores_any_instant(db: Database) -> None:
    """Instants of a new ticket and of a later update are stored as the same text, with
    microseconds, or comparisons in SQL (positions, reports) would go wrong."""
    now = T0 + timedelta(microseconds=123456)
    ticket = issue(db, priority="elderly", now=now)
    with db.transaction() as conn:  # the same instant, written by SQLAlchemy itself
        conn.execute(update(Ticket).where(Ticket.id == ticket.id).values(called_at=now))
    with db.connect() as conn:
        issued, called, day = conn.exec_driver_sql(
            "SELECT issued_at, called_at, service_day FROM tickets WHERE id = ?", (ticket.id,)
        ).one()
    assert issued == called == "2026-11-23 08:00:00.123456"
    assert day == "2026-11-23"
    with db.read() as s:
        row = s.get(Ticket, ticket.id)
        assert (row.issued_at, row.queued_at, row.priority) == (now, now, "elderly")
    (event,) = events(db, ticket.id)
    assert (event.type, event.at) == ("issued", now)
    assert event.payload == {"reason": "other", "lang": "ar", "priority": "elderly"}


_arrivals = st.lists(
    st.tuples(
        st.sampled_from(["general", "benefits"]),
        st.sampled_from(["none", "none", "elderly"]),
        st.integers(-5, 5),  # seconds from T0: equal instants, and some after the new ones
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(waiting=_arrivals, arriving=_arrivals.filter(bool), returned=st.booleans())
def test_the_position_given_at_issue_is_the_engines(
    template_db, scratch, waiting, arriving, returned
) -> None:  # type: ignore[no-untyped-def]
    """The people ahead that a new ticket is told are rules.people_ahead over every
    waiting ticket, whoever else waits at or after its instant (tickets queued later, one
    sent back to the queue)."""
    db = _fresh(template_db, scratch)
    try:
        for service, priority, s in waiting:
            issue(db, service, priority, now=T0 + timedelta(seconds=s))
        if returned and waiting:  # one goes back to the line, queued anew at T0 + 3 s
            called = transactions.call_next(
                db, site=EAST, counter="desk-1", user_id=None, now=T0
            ).ticket
            if called:
                back = T0 + timedelta(seconds=3)
                transactions.act(db, called.id, Action.RETURN, user_id=None, now=back)
        for service, priority, s in arriving:
            new = issue(db, service, priority, now=T0 + timedelta(seconds=s))
            line = _waiting_line(db)
            mine = next(w for w in line if w.id == new.id)
            assert new.people_ahead == rules.people_ahead(mine, line)
    finally:
        db.dispose()


def test_the_phones_view_of_a_change_is_what_the_status_page_reads(db: Database) -> None:
    """The hub sends a phone the status made from the change's own view (reads.status_of),
    without reading the ticket again: it must be what GET .../status/<token> answers right
    after each change, in every state, labels in the ticket's language."""
    now = datetime.now(UTC)  # the status link is open on the ticket's own day only
    cat = catalog.current(db)

    def check(view: reads.TicketView | None) -> reads.TicketView:
        assert view is not None
        assert reads.status_of(view, cat) == reads.ticket_status(db, view.public_token, now=now)
        return view

    def call() -> reads.TicketView:
        return check(
            transactions.call_next(db, site=EAST, counter="desk-1", user_id=None, now=now).ticket
        )

    first = check(issue(db, now=now))
    mine = check(
        transactions.issue_ticket(
            db, site=EAST, service="general", reason="other", lang="uk", now=now
        )
    )
    assert mine.people_ahead == 1
    assert call().id == first.id
    check(transactions.act(db, first.id, Action.NO_SHOW, user_id=None, now=now))
    called = call()
    assert called.id == mine.id and reads.status_of(called, cat)["counter"] == "Віконце 1"
    assert (
        check(transactions.act(db, mine.id, Action.RETURN, user_id=None, now=now)).status
        == "waiting"
    )
    call()
    assert (
        check(transactions.act(db, mine.id, Action.START, user_id=None, now=now)).status
        == "serving"
    )
