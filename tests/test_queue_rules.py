"""Property tests of the queue's pure rules (server/queue/rules.py).

Most tests are property-based (hypothesis): they state a rule of the queue in plain words
and check it against many generated situations. A few example tests at the top of each
section show the rules on readable cases.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from server.queue.rules import (
    ANYONE,
    AT_COUNTER,
    EXTERNAL_AGENCIES,
    MIN_HISTORY,
    OPEN_STATUSES,
    STATE_AFTER,
    TRANSITIONS,
    Action,
    Choice,
    CounterEventType,
    CounterState,
    EventType,
    Lifecycle,
    Outcome,
    OutcomeError,
    Policy,
    Speakers,
    Status,
    TransitionError,
    Waiting,
    allowed_actions,
    apply,
    choose_next,
    counter_state,
    counters_for,
    estimated_wait_seconds,
    finish_record,
    format_number,
    heads,
    people_ahead,
    service_day,
    shift_for_call,
    transition,
    typical_service_seconds,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SERVICES = ("A", "B", "C")
TERMINAL = (Status.DONE, Status.CANCELLED, Status.CLOSED)
HUGE = timedelta(days=3650)  # a max wait nobody reaches: no overdue override
NO_OVERDUE = Policy(default_max_wait=HUGE)


def fcfs(w: Waiting) -> tuple[datetime, int]:
    return (w.queued_at, w.id)


def ticket(tid: int, service: str = "A", priority: bool = False, minute: float = 0) -> Waiting:
    return Waiting(tid, service, priority, T0 + timedelta(minutes=minute))


# --- 1. Transitions ----------------------------------------------------------------------


def test_transition_examples() -> None:
    """A ticket is called, started and finished; a finished ticket cannot be called again."""
    assert transition(Status.WAITING, Action.CALL) == (Status.CALLED, EventType.CALLED)
    assert transition(Status.CALLED, Action.START) == (Status.SERVING, EventType.STARTED)
    assert transition(Status.SERVING, Action.FINISH) == (Status.DONE, EventType.FINISHED)
    assert transition(Status.NO_SHOW, Action.RETURN) == (Status.WAITING, EventType.RETURNED)
    with pytest.raises(TransitionError) as err:
        transition(Status.DONE, Action.CALL)
    assert err.value.status is Status.DONE and err.value.action is Action.CALL
    assert isinstance(err.value, ValueError)


def test_transition_is_the_table_or_an_error() -> None:
    """For every (status, action) pair, transition returns the table's entry or refuses."""
    for status in Status:
        for action in Action:
            if (status, action) in TRANSITIONS:
                assert transition(status, action) == TRANSITIONS[(status, action)]
            else:
                with pytest.raises(TransitionError):
                    transition(status, action)


def test_terminal_statuses_allow_nothing_and_no_show_only_return() -> None:
    """Done, cancelled and closed tickets cannot move; a no-show ticket can only come back."""
    for action in Action:
        for status in TERMINAL:
            with pytest.raises(TransitionError):
                transition(status, action)
        if action is Action.RETURN:
            assert transition(Status.NO_SHOW, action) == (Status.WAITING, EventType.RETURNED)
        else:
            with pytest.raises(TransitionError):
                transition(Status.NO_SHOW, action)
    for status in TERMINAL:
        assert allowed_actions(status) == []
    assert allowed_actions(Status.NO_SHOW) == [Action.RETURN]


def test_close_day_allowed_exactly_from_open_statuses() -> None:
    """The day-end sweep closes every open ticket (waiting, called, serving) and nothing else."""
    allowed = set()
    for status in Status:
        try:
            new, event = transition(status, Action.CLOSE_DAY)
        except TransitionError:
            continue
        assert (new, event) == (Status.CLOSED, EventType.CLOSED_AT_DAY_END)
        allowed.add(status)
    assert allowed == set(OPEN_STATUSES)


def test_allowed_actions_are_the_table_without_close_day() -> None:
    """A counter is offered exactly the table's actions for a status, never the day-end sweep."""
    for status in Status:
        offered = allowed_actions(status)
        assert Action.CLOSE_DAY not in offered
        assert len(offered) == len(set(offered))
        assert set(offered) == {
            a for (s, a) in TRANSITIONS if s == status and a is not Action.CLOSE_DAY
        }


@settings(max_examples=200)
@given(st.lists(st.sampled_from(list(Action)), max_size=40))
def test_random_walks_only_take_allowed_steps(actions: list[Action]) -> None:
    """From waiting, any sequence of actions moves only along the table, one event per step."""
    status = Status.WAITING
    for action in actions:
        before = status
        try:
            status, event = transition(status, action)
        except TransitionError:
            assert (before, action) not in TRANSITIONS
            continue
        assert (before, action) in TRANSITIONS
        assert isinstance(status, Status)
        assert isinstance(event, EventType)
        assert event is not EventType.ISSUED  # issuing is not a transition
        if action is not Action.CLOSE_DAY:
            assert action in allowed_actions(before)


# --- 1b. What an action changes -----------------------------------------------------------

_lifecycles = st.builds(
    Lifecycle,
    status=st.sampled_from(list(Status)),
    service=st.sampled_from(SERVICES),
    counter=st.sampled_from([None, 1, 2]),
    queued_at=st.just(T0),
    called_at=st.sampled_from([None, T0 + timedelta(minutes=1)]),
    started_at=st.sampled_from([None, T0 + timedelta(minutes=2)]),
    ended_at=st.none(),
)


@given(
    ticket=_lifecycles, action=st.sampled_from(list(Action)), new_service=st.sampled_from(SERVICES)
)
def test_apply_follows_the_table_and_says_what_changes(
    ticket: Lifecycle, action: Action, new_service: str
) -> None:
    """apply moves a ticket exactly as the transition table says, and changes only what the
    action means: a call ties it to the counter, a return sends it to the back of its line,
    a transfer keeps its place in time in another service, an end records when."""
    now = T0 + timedelta(hours=1)
    counter = 3 if action is Action.CALL else None
    service = new_service if action is Action.TRANSFER else None
    if (ticket.status, action) not in TRANSITIONS:
        with pytest.raises(TransitionError):
            apply(ticket, action, now, counter=counter, service=service)
        return
    if action is Action.TRANSFER and new_service == ticket.service:
        with pytest.raises(ValueError):
            apply(ticket, action, now, service=service)
        return
    step = apply(ticket, action, now, counter=counter, service=service)
    after = step.after
    assert (after.status, step.event) == TRANSITIONS[(ticket.status, action)]
    assert step.before == ticket
    if action is Action.CALL:
        assert (after.counter, after.called_at, after.started_at) == (3, now, None)
    if action is Action.START:
        assert after.started_at == now and after.counter == ticket.counter
    if action in (Action.RETURN, Action.TRANSFER):
        assert after.counter is None and after.called_at is after.started_at is None
        assert after.queued_at == (now if action is Action.RETURN else ticket.queued_at)
        assert after.service == (new_service if action is Action.TRANSFER else ticket.service)
    else:
        assert after.service == ticket.service and after.queued_at == ticket.queued_at
    assert (after.ended_at == now) == (after.status not in OPEN_STATUSES)
    # the event is logged at the counter that called, or else the one that held the ticket
    assert step.counter == (3 if action is Action.CALL else ticket.counter)


@given(
    outcome=st.sampled_from([None, "maybe", *(o.value for o in Outcome)]),
    referral=st.sampled_from([None, "", "housing", "benefits.min_income", *EXTERNAL_AGENCIES]),
)
def test_a_finish_records_a_referral_only_where_it_belongs(
    outcome: str | None, referral: str | None
) -> None:
    """An external referral names an agency, an internal one a reason group of the centre;
    no other outcome carries one, and an empty referral (a form's empty field) is none.
    Anything else is refused, with a code saying why."""
    groups = ["housing", "benefits", "protection"]
    try:
        record = finish_record(outcome, referral, groups)
    except OutcomeError as exc:
        assert exc.code in {"missing_outcome", "bad_outcome", "bad_referral"}
        allowed = (
            outcome == Outcome.REFERRED_EXTERNAL
            and referral in EXTERNAL_AGENCIES
            or outcome == Outcome.REFERRED_INTERNAL
            and referral in groups
            or outcome in {o.value for o in Outcome} - {"referred_external", "referred_internal"}
            and not referral
        )
        assert not allowed
        return
    assert record["outcome"] == outcome
    if outcome == Outcome.REFERRED_EXTERNAL:
        assert record["referral"] in EXTERNAL_AGENCIES
    elif outcome == Outcome.REFERRED_INTERNAL:
        assert record["referral"] in groups
    else:
        assert "referral" not in record


# --- 2. A ticket is called at most once at a time ----------------------------------------

# service -> weight; 0 means "not served here", which the engine must treat like absent
weights_st = st.dictionaries(
    st.sampled_from(SERVICES), st.sampled_from([0, 1, 2, 3, 5]), min_size=1
)


class CallingMachine(RuleBasedStateMachine):
    """Several counters call, finish, return, transfer and no-show tickets as time passes.

    Every ticket moves by rules.apply, the same function the transactions write down, so
    what a return or a transfer does to a ticket's place in line is the rules' own (a
    return goes to the back, a transfer keeps its place in time); each counter keeps its
    priority streak as the transactions store it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.next_id = 1
        self.tickets: dict[int, Lifecycle] = {}  # counters are their index in self.weights
        self.priority: dict[int, bool] = {}
        self.weights: list[dict[str, int]] = []
        self.streak: list[int] = []
        self.policy = Policy()

    @initialize(
        desk=st.fixed_dictionaries({s: st.sampled_from([1, 2, 3, 5]) for s in SERVICES}),
        counters=st.lists(weights_st, max_size=3),
        k=st.integers(0, 3),
        default_wait=st.integers(0, 90),
        per_service=st.dictionaries(st.sampled_from(SERVICES), st.integers(0, 90)),
        early_birds=st.lists(
            st.tuples(st.sampled_from(SERVICES), st.booleans(), st.integers(0, 600)),
            min_size=3,
            max_size=15,
        ),
    )
    def open_day(
        self,
        desk: dict[str, int],
        counters: list[dict[str, int]],
        k: int,
        default_wait: int,
        per_service: dict,
        early_birds: list[tuple[str, bool, int]],
    ) -> None:
        """Counters (the first, a general desk, serves everything), the policy, and a queue
        already formed at opening, so that every run has people to call."""
        for service, priority, gap in early_birds:
            self.arrive(service, priority, gap)
        self.weights = [desk, *counters]
        self.streak = [0] * len(self.weights)
        self.policy = Policy(
            priority_max_in_row=k,
            max_wait={s: timedelta(minutes=m) for s, m in per_service.items()},
            default_max_wait=timedelta(minutes=default_wait),
        )

    # what the queue looks like, read from the tickets alone

    def waiting(self) -> dict[int, Waiting]:
        return {
            tid: Waiting(tid, t.service, self.priority[tid], t.queued_at)
            for tid, t in self.tickets.items()
            if t.status is Status.WAITING
        }

    def held_by(self) -> dict[int, int]:
        """ticket id -> the counter it is at"""
        return {tid: t.counter for tid, t in self.tickets.items() if t.status in AT_COUNTER}  # type: ignore[misc]

    def free_counters(self) -> list[int]:
        busy = set(self.held_by().values())
        return [c for c in range(len(self.weights)) if c not in busy]

    def busy_counters(self) -> list[int]:
        return sorted(set(self.held_by().values()))

    def held_ticket(self, counter: int) -> int:
        (tid,) = [t for t, c in self.held_by().items() if c == counter]
        return tid

    def move(self, tid: int, action: Action, **where: object) -> bool:
        """Apply an action as the transactions do; False where the rules refuse it."""
        try:
            step = apply(self.tickets[tid], action, self.now, **where)  # type: ignore[arg-type]
        except TransitionError:
            assert (self.tickets[tid].status, action) not in TRANSITIONS
            return False
        except ValueError:  # a transfer to the service it is already in
            assert action is Action.TRANSFER and where.get("service") == self.tickets[tid].service
            return False
        self.tickets[tid] = step.after
        return True

    # rules

    @rule(service=st.sampled_from(SERVICES), priority=st.booleans(), gap=st.integers(0, 900))
    def arrive(self, service: str, priority: bool, gap: int) -> None:
        self.now += timedelta(seconds=gap)
        tid, self.next_id = self.next_id, self.next_id + 1
        self.tickets[tid] = Lifecycle(Status.WAITING, service, None, self.now)
        self.priority[tid] = priority

    @rule(gap=st.integers(1, 3600))
    def time_passes(self, gap: int) -> None:
        """Time passes and every free counter calls its next visitor."""
        self.now += timedelta(seconds=gap)
        self.every_free_counter_calls()

    @rule(pick=st.integers(0, 11))
    def call_next(self, pick: int) -> None:
        free = self.free_counters()
        if free:
            self.counter_calls(free[pick % len(free)])

    def counter_calls(self, c: int) -> None:
        weights = self.weights[c]
        waiting = self.waiting()
        pool = list(waiting.values())
        choice = choose_next(pool, weights, self.now, self.streak[c], self.policy)
        eligible = [w for w in pool if weights.get(w.service, 0) > 0]
        if choice is None:
            assert not eligible, "a counter stayed idle while people it serves were waiting"
            return
        chosen = choice.ticket
        # only a ticket that is waiting right now, with its current data, served here
        assert waiting.get(chosen.id) == chosen
        assert weights.get(chosen.service, 0) > 0
        # the overdue rule: the oldest overdue ticket goes first
        overdue = [
            w for w in eligible if self.now - w.queued_at >= self.policy.max_wait_for(w.service)
        ]
        if overdue:
            assert choice.why == "overdue" and chosen == min(overdue, key=fcfs)
        else:
            assert choice.why == ("priority" if chosen.priority else "normal")
        # first come, first served inside the chosen ticket's service and class
        same = [w for w in pool if (w.service, w.priority) == (chosen.service, chosen.priority)]
        assert chosen == min(same, key=fcfs)
        assert self.move(chosen.id, Action.CALL, counter=c)
        assert self.held_by()[chosen.id] == c
        self.streak[c] = choice.streak

    @rule()
    def every_free_counter_calls(self) -> None:
        """Calling is what is under test: give it more weight among the rules."""
        for c in self.free_counters():
            self.counter_calls(c)

    @rule(service=st.sampled_from(SERVICES), priority=st.booleans(), gap=st.integers(0, 300))
    def another_arrival(self, service: str, priority: bool, gap: int) -> None:
        self.arrive(service, priority, gap)

    @rule(
        pick=st.integers(0, 11),
        action=st.sampled_from(
            [Action.RECALL, Action.START, Action.FINISH, Action.NO_SHOW, Action.CANCEL]
            + [Action.RETURN, Action.TRANSFER] * 2
        ),
        new_service=st.sampled_from(SERVICES),
    )
    def counter_acts(self, pick: int, action: Action, new_service: str) -> None:
        busy = self.busy_counters()
        if not busy:
            return
        tid = self.held_ticket(busy[pick % len(busy)])
        where = {"service": new_service} if action is Action.TRANSFER else {}
        before = self.tickets[tid]
        if self.move(tid, action, **where) and action is Action.RETURN:
            assert self.tickets[tid].queued_at == self.now  # to the back of the line
        if action is Action.TRANSFER and self.tickets[tid] is not before:
            assert self.tickets[tid].queued_at == before.queued_at  # its place in time

    @rule(pick=st.integers(0, 11))
    def counter_finishes_and_calls_next(self, pick: int) -> None:
        """The usual end of a visit: 'done, next'."""
        busy = self.busy_counters()
        if busy:
            c = busy[pick % len(busy)]
            self.move(self.held_ticket(c), Action.FINISH)
            self.counter_calls(c)

    @rule(pick=st.integers(0, 100))
    def no_show_comes_back(self, pick: int) -> None:
        gone = sorted(t for t, x in self.tickets.items() if x.status is Status.NO_SHOW)
        if gone:
            assert self.move(gone[pick % len(gone)], Action.RETURN)

    @rule(pick=st.integers(0, 100))
    def visitor_cancels(self, pick: int) -> None:
        waiting = sorted(self.waiting())
        if waiting:
            assert self.move(waiting[pick % len(waiting)], Action.CANCEL)

    # invariants

    @invariant()
    def nobody_is_held_twice(self) -> None:
        per_counter = Counter(self.held_by().values())
        assert all(n <= 1 for n in per_counter.values())

    @invariant()
    def every_ticket_is_waiting_held_or_gone(self) -> None:
        """What apply leaves agrees with the status: a waiting ticket is at no counter and
        was not called, a held one is at a counter since its call, a gone one has ended."""
        assert set(self.tickets) == set(range(1, self.next_id))
        for t in self.tickets.values():
            if t.status is Status.WAITING:
                assert t.counter is None and t.called_at is None and t.ended_at is None
            elif t.status in AT_COUNTER:
                assert t.counter is not None and t.called_at is not None
                assert t.ended_at is None
            else:
                assert t.status in (Status.DONE, Status.NO_SHOW, Status.CANCELLED)
                assert t.ended_at is not None


CallingMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestCalledAtMostOnceAtATime(CallingMachine.TestCase):
    """choose_next only returns a waiting ticket the counter serves, so no ticket is held by
    two counters, each counter holds at most one ticket, and waiting/held/left tickets
    partition all issued tickets."""


# --- 3. Nobody starves -------------------------------------------------------------------


def simulate_one_counter(
    arrivals: list[tuple],
    weights: dict[str, int],
    service_s: int,
    policy: Policy,
    speakers: Speakers = ANYONE,
) -> tuple[list[Waiting], dict[int, datetime], tuple[int, int]]:
    """One counter that calls as soon as it is free and someone it may call waits; each
    visit lasts `service_s`. Arrivals are (gap, service, priority) or (gap, service,
    priority, lang). Returns the tickets, their call times, and (tickets waiting just after
    the last arrival, calls made from then on)."""
    tickets: list[Waiting] = []
    t = T0
    for i, (gap, service, priority, *lang) in enumerate(arrivals, start=1):
        t += timedelta(seconds=gap)
        tickets.append(Waiting(i, service, priority, t, *lang))
    called: dict[int, datetime] = {}
    waiting: list[Waiting] = []
    nxt, free_at, streak = 0, T0, 0
    waiting_after_last, calls_after_last = -1, 0
    step = timedelta(seconds=service_s)
    while nxt < len(tickets) or waiting:
        now = free_at if waiting else max(free_at, tickets[nxt].queued_at)
        while nxt < len(tickets) and tickets[nxt].queued_at <= now:
            waiting.append(tickets[nxt])
            nxt += 1
            if nxt == len(tickets):
                waiting_after_last = len(waiting)
        choice = choose_next(waiting, weights, now, streak, policy, speakers)
        if choice is None:
            # idle only while everyone waiting is kept for a speaker of their language:
            # until the next arrival, or until one of them is overdue
            assert not any(speakers.serve(w.lang, w.service) for w in waiting), (
                "idle while people waited"
            )
            later = [w.queued_at + policy.default_max_wait for w in waiting]
            free_at = min(later + [tickets[nxt].queued_at] if nxt < len(tickets) else later)
            assert free_at > now, "an overdue ticket was not called"
            continue
        assert choice.ticket.id not in called
        waiting.remove(choice.ticket)
        called[choice.ticket.id] = now
        streak = choice.streak
        free_at = now + step
        calls_after_last += nxt == len(tickets)
    assert choose_next(waiting, weights, free_at, streak, policy, speakers) is None
    return tickets, called, (waiting_after_last, calls_after_last)


def everyone_within_the_bound(
    tickets: list[Waiting], called: dict[int, datetime], max_wait_s: int, service_s: int
) -> None:
    """Every ticket was called, each within M + (A + 1) * s (see test_nobody_starves)."""
    assert set(called) == {t.id for t in tickets}
    max_wait = timedelta(seconds=max_wait_s)
    step = timedelta(seconds=service_s)
    for t in tickets:
        overdue_at = t.queued_at + max_wait
        older_still_waiting = sum(
            1 for u in tickets if fcfs(u) < fcfs(t) and called[u.id] >= overdue_at
        )
        assert called[t.id] - t.queued_at < max_wait + (older_still_waiting + 1) * step


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.lists(
        st.tuples(st.integers(0, 300), st.sampled_from(SERVICES), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    weights=st.fixed_dictionaries({s: st.integers(1, 10) for s in SERVICES}),
    service_s=st.integers(1, 600),
    max_wait_s=st.integers(0, 3600),
    k=st.integers(0, 3),
)
def test_nobody_starves(
    arrivals: list[tuple[int, str, bool]],
    weights: dict[str, int],
    service_s: int,
    max_wait_s: int,
    k: int,
) -> None:
    """Every ticket is called, and its wait is less than M + (A + 1) * s.

    M is the maximum wait, s the fixed visit length, and A the number of tickets older than
    it (smaller (queued_at, id)) that are still waiting when it becomes overdue at q + M.
    Proof: the counter is busy without a break from the ticket's arrival q until it is
    called, so its first call at or after q + M comes before q + M + s. From then on the
    ticket is overdue, so the overdue rule calls the oldest overdue ticket, which is either
    this one or one of the A older ones (no later arrival is older). So it is called within
    A + 1 calls, before q + M + (A + 1) * s.
    """
    policy = Policy(priority_max_in_row=k, default_max_wait=timedelta(seconds=max_wait_s))
    tickets, called, _ = simulate_one_counter(arrivals, weights, service_s, policy)
    everyone_within_the_bound(tickets, called, max_wait_s, service_s)


@settings(max_examples=100, deadline=None)
@given(
    arrivals=st.lists(
        st.tuples(st.integers(0, 300), st.sampled_from(SERVICES), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    weights=st.fixed_dictionaries({s: st.integers(1, 10) for s in SERVICES}),
    service_s=st.integers(1, 600),
    max_wait_s=st.integers(0, 3600),
)
def test_queue_empties_after_as_many_calls_as_tickets(
    arrivals: list[tuple[int, str, bool]],
    weights: dict[str, int],
    service_s: int,
    max_wait_s: int,
) -> None:
    """Once arrivals stop, the counter needs exactly one call per waiting ticket to empty
    the queue; each ticket is called exactly once and then there is nothing left."""
    policy = Policy(default_max_wait=timedelta(seconds=max_wait_s))
    tickets, called, (waiting_after_last, calls_after_last) = simulate_one_counter(
        arrivals, weights, service_s, policy
    )
    assert sorted(called) == [t.id for t in tickets]
    assert calls_after_last == waiting_after_last >= 1


def test_overdue_goes_first_example() -> None:
    """An overdue normal ticket beats a fresh priority ticket and a heavier service."""
    policy = Policy(default_max_wait=timedelta(minutes=30))
    now = T0 + timedelta(minutes=40)
    old = ticket(1, "B", minute=5)
    choice = choose_next([old, ticket(2, "A", True, minute=39)], {"A": 9, "B": 1}, now, 0, policy)
    assert choice == Choice(old, "overdue", 0)
    # exactly at the maximum wait counts as overdue
    at_limit = choose_next(
        [ticket(3, "B", minute=10), ticket(4, "A", True, minute=39)],
        {"A": 9, "B": 1},
        now,
        0,
        policy,
    )
    assert at_limit is not None and at_limit.ticket.id == 3 and at_limit.why == "overdue"


def test_a_service_that_only_alerts_never_calls_its_overdue_first() -> None:
    """With no maximum for calling (None), an old ticket of B waits its turn by weight."""
    policy = Policy(max_wait={"A": timedelta(minutes=30), "B": None})
    now = T0 + timedelta(minutes=40)
    old = ticket(1, "B", minute=0)
    fresh_priority = ticket(2, "A", True, minute=39)
    choice = choose_next([old, fresh_priority], {"A": 9, "B": 1}, now, 0, policy)
    assert choice is not None and choice.why == "priority" and choice.ticket.id == 2
    overdue_a = ticket(3, "A", minute=5)
    choice = choose_next([old, overdue_a], {"A": 1, "B": 1}, now, 0, policy)
    assert choice == Choice(overdue_a, "overdue", 0)


# --- 4. FCFS inside one service and priority class ---------------------------------------

program_st = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), st.integers(0, 120), st.sampled_from(SERVICES), st.booleans()),
        st.tuples(st.just("call"), st.integers(0, 120), st.integers(0, 3)),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(
    program=program_st,
    counters=st.lists(weights_st, min_size=1, max_size=4),
    k=st.integers(0, 3),
)
def test_fcfs_inside_service_and_class(
    program: list[tuple], counters: list[dict[str, int]], k: int
) -> None:
    """With no overdue override, tickets of one service and one priority flag are called in
    order of (queued_at, id), whatever the weights, counters and interleaving."""
    policy = Policy(priority_max_in_row=k, default_max_wait=HUGE)
    now, next_id = T0, 1
    waiting: list[Waiting] = []
    streaks = [0] * len(counters)
    order: dict[tuple[str, bool], list[Waiting]] = {}
    for step in program:
        now += timedelta(seconds=step[1])
        if step[0] == "arrive":
            waiting.append(Waiting(next_id, step[2], step[3], now))
            next_id += 1
            continue
        c = step[2] % len(counters)
        choice = choose_next(waiting, counters[c], now, streaks[c], policy)
        if choice is None:
            continue
        waiting.remove(choice.ticket)
        streaks[c] = choice.streak
        order.setdefault((choice.ticket.service, choice.ticket.priority), []).append(choice.ticket)
    for calls in order.values():
        assert calls == sorted(calls, key=fcfs)


# --- 5. The priority ratio ---------------------------------------------------------------


def test_priority_ratio_example() -> None:
    """With two in a row allowed, the third call goes to the waiting normal ticket."""
    waiting = [ticket(1, minute=0), ticket(2, priority=True, minute=1)]
    waiting += [ticket(3, priority=True, minute=2), ticket(4, priority=True, minute=3)]
    weights, now, streak, calls = {"A": 1}, T0 + timedelta(minutes=5), 0, []
    while waiting:
        choice = choose_next(waiting, weights, now, streak, NO_OVERDUE)
        assert choice is not None
        calls.append((choice.ticket.id, choice.why, choice.streak))
        waiting.remove(choice.ticket)
        streak = choice.streak
    assert calls == [(2, "priority", 1), (3, "priority", 2), (1, "normal", 0), (4, "priority", 0)]


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@settings(max_examples=120, deadline=None)
@given(
    program=st.lists(
        st.one_of(
            st.tuples(
                st.just("arrive"), st.integers(0, 120), st.sampled_from(SERVICES), st.booleans()
            ),
            st.tuples(st.just("call"), st.integers(0, 120)),
        ),
        max_size=80,
    ),
    weights=weights_st,
)
def test_priority_ratio_holds(k: int, program: list[tuple], weights: dict[str, int]) -> None:
    """At one counter, at most `priority_max_in_row` priority tickets are called in a row
    while a normal ticket it serves is waiting; below that limit a waiting priority ticket
    goes first; and a counter with people waiting is never idle, so priority tickets are
    still called when no normal ticket waits."""
    policy = Policy(priority_max_in_row=k, default_max_wait=HUGE)
    now, next_id, streak, run = T0, 1, 0, 0
    waiting: list[Waiting] = []
    for step in program:
        now += timedelta(seconds=step[1])
        if step[0] == "arrive":
            waiting.append(Waiting(next_id, step[2], step[3], now))
            next_id += 1
            continue
        served = [w for w in waiting if weights.get(w.service, 0) > 0]
        normal_waits = any(not w.priority for w in served)
        priority_waits = any(w.priority for w in served)
        choice = choose_next(waiting, weights, now, streak, policy)
        if not served:
            assert choice is None
            continue
        assert choice is not None
        if priority_waits and (not normal_waits or run < k):
            assert choice.ticket.priority
        elif normal_waits:
            assert not choice.ticket.priority
        run = run + 1 if choice.ticket.priority and normal_waits else 0
        assert run <= k
        assert choice.streak == run
        waiting.remove(choice.ticket)
        streak = choice.streak


# --- 6. Weights --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    w1=st.integers(1, 20),
    w2=st.integers(1, 20),
    n=st.integers(1, 160),
    service_s=st.integers(1, 900),
    a_first=st.booleans(),
)
def test_weights_share_calls_when_both_backlogged(
    w1: int, w2: int, n: int, service_s: int, a_first: bool
) -> None:
    """Two services each get one new ticket per visit length s, one counter calls every s,
    so both stay backlogged. After every call, service A's count of calls is within
    max(w1, w2) / (w1 + w2) <= 1 call of its weighted share N * w1 / (w1 + w2), and a
    strictly heavier service has never had fewer calls than the lighter one.

    Why: the heads' ages are s * n_B for A and s * n_A for B, and weight x age picks the
    larger of w1 * n_B and w2 * n_A, which keeps |w1 * n_B - w2 * n_A| <= max(w1, w2).
    """
    step = timedelta(seconds=service_s)
    weights = {"A": w1, "B": w2}
    waiting: list[Waiting] = []
    n_a = n_b = 0
    next_id = 1
    for call in range(n):
        now = T0 + call * step
        for service in ("A", "B") if a_first else ("B", "A"):
            waiting.append(Waiting(next_id, service, False, now))
            next_id += 1
        choice = choose_next(waiting, weights, now, 0, NO_OVERDUE)
        assert choice is not None
        waiting.remove(choice.ticket)
        if choice.ticket.service == "A":
            n_a += 1
        else:
            n_b += 1
        done = call + 1
        assert abs(n_a * (w1 + w2) - done * w1) <= max(w1, w2)
        if w1 > w2:
            assert n_a >= n_b
        elif w2 > w1:
            assert n_b >= n_a


waitings_st = st.lists(
    st.tuples(st.integers(1, 10**6), st.sampled_from(SERVICES), st.booleans(), st.integers(0, 120)),
    unique_by=lambda row: row[0],
    max_size=25,
).map(lambda rows: [ticket(i, s, p, m) for i, s, p, m in rows])


def moments(min_weight: int) -> st.SearchStrategy[tuple]:
    """(waiting, weights, now, streak, policy): one counter about to call."""
    return st.tuples(
        waitings_st,
        st.dictionaries(st.sampled_from(SERVICES), st.integers(min_weight, 5)),
        st.integers(0, 240).map(lambda m: T0 + timedelta(minutes=m)),
        st.integers(0, 4),
        st.builds(
            lambda k, m: Policy(priority_max_in_row=k, default_max_wait=timedelta(minutes=m)),
            st.integers(0, 3),
            st.integers(0, 200),
        ),
    )


@settings(max_examples=200)
@given(moments(min_weight=-2))
def test_unserved_service_is_never_called(moment: tuple) -> None:
    """A service with weight 0 (or below) or absent from the counter's weights is never
    called, even when overdue; the counter is idle only if nobody it serves waits."""
    waiting, weights, now, streak, policy = moment
    choice = choose_next(waiting, weights, now, streak, policy)
    served = [w for w in waiting if weights.get(w.service, 0) > 0]
    if choice is None:
        assert served == []
    else:
        assert choice.ticket in served
        assert choice.why in ("overdue", "priority", "normal")


@settings(max_examples=300)
@given(moments(min_weight=0))
def test_the_heads_decide_alone(moment: tuple) -> None:
    """choose_next over the oldest ticket of each (service, class) gives the same choice as
    over the whole queue: the store fetches only those rows, however long the line is."""
    waiting, weights, now, streak, policy = moment
    front = heads(waiting)
    assert len(front) == len({(w.service, w.priority) for w in waiting})
    assert choose_next(front, weights, now, streak, policy) == choose_next(
        waiting, weights, now, streak, policy
    )


# --- Languages --------------------------------------------------------------------------

LANGS = ("el", "fa", "ar", "ps")
speakers_st = st.builds(
    lambda here, others, pairs: Speakers(frozenset(here), frozenset(others), frozenset(pairs)),
    st.sets(st.sampled_from(LANGS)),
    st.sets(st.sampled_from(LANGS)),  # mediators': any service
    st.sets(st.tuples(st.sampled_from(SERVICES), st.sampled_from(LANGS))),  # at counters
)
lang_waitings_st = st.lists(
    st.tuples(
        st.integers(1, 10**6),
        st.sampled_from(SERVICES),
        st.booleans(),
        st.integers(0, 120),
        st.sampled_from((None, *LANGS)),
    ),
    unique_by=lambda row: row[0],
    max_size=25,
).map(lambda rows: [Waiting(i, s, p, T0 + timedelta(minutes=m), lang) for i, s, p, m, lang in rows])


def test_a_colleague_of_other_services_is_not_waited_for_example() -> None:
    """A Farsi speaker's ticket of service B is not kept for a colleague who speaks Farsi
    at a counter of service A only: that colleague would never call it."""
    fa_b = Waiting(1, "B", False, T0, "fa")
    greek_desk = Speakers(frozenset({"el"}), frozenset(), frozenset({("A", "fa"), ("B", "el")}))
    now = T0 + timedelta(minutes=10)
    assert choose_next([fa_b], {"B": 1}, now, 0, NO_OVERDUE, greek_desk).ticket == fa_b
    fa_a = Waiting(2, "A", False, T0, "fa")
    assert choose_next([fa_a], {"A": 1}, now, 0, NO_OVERDUE, greek_desk) is None
    # a mediator joins any counter's call: then the Farsi ticket of B waits for them
    with_mediator = Speakers(frozenset({"el"}), frozenset({"fa"}), greek_desk.at_counters)
    assert choose_next([fa_b], {"B": 1}, now, 0, NO_OVERDUE, with_mediator) is None


def test_a_language_spoken_elsewhere_waits_for_its_speaker_example() -> None:
    """A Farsi speaker is kept for the counter (or mediator) who speaks Farsi; a Pashto
    speaker, whose language nobody on duty speaks, is called in turn by anyone."""
    fa, el, ps = (
        Waiting(i, "A", False, T0 + timedelta(minutes=i), lang)
        for i, lang in ((1, "fa"), (2, "el"), (3, "ps"))
    )
    on_duty = frozenset({"el", "fa"})
    greek_desk, farsi_desk = Speakers(frozenset({"el"}), on_duty), Speakers(on_duty, on_duty)
    now = T0 + timedelta(minutes=10)
    assert choose_next([fa, el, ps], {"A": 1}, now, 0, NO_OVERDUE, greek_desk).ticket == el
    assert choose_next([fa, ps], {"A": 1}, now, 0, NO_OVERDUE, greek_desk).ticket == ps
    assert choose_next([fa], {"A": 1}, now, 0, NO_OVERDUE, greek_desk) is None
    assert choose_next([fa, el, ps], {"A": 1}, now, 0, NO_OVERDUE, farsi_desk).ticket == fa
    # past the maximum wait, anyone calls them: better with a phone than not at all
    late = Policy(default_max_wait=timedelta(minutes=5))
    overdue = choose_next([fa, el], {"A": 1}, now, 0, late, greek_desk)
    assert overdue is not None and (overdue.ticket, overdue.why) == (fa, "overdue")


@settings(max_examples=300)
@given(moments(min_weight=0), speakers_st, lang_waitings_st)
def test_the_heads_decide_alone_with_languages(
    moment: tuple, speakers: Speakers, waiting: list[Waiting]
) -> None:
    """With languages too, the few heads give the same choice as the whole queue."""
    _, weights, now, streak, policy = moment
    front = heads(waiting, speakers)
    assert len(front) <= 2 * len({(w.service, w.priority) for w in waiting})
    assert choose_next(front, weights, now, streak, policy, speakers) == choose_next(
        waiting, weights, now, streak, policy, speakers
    )


@settings(max_examples=200)
@given(moments(min_weight=0), speakers_st, lang_waitings_st)
def test_only_a_callable_or_overdue_ticket_is_called(
    moment: tuple, speakers: Speakers, waiting: list[Waiting]
) -> None:
    """A counter calls a ticket in a language it serves, or one nobody on duty speaks, or
    one that is overdue; it stays idle only when every other ticket is kept for others."""
    _, weights, now, streak, policy = moment
    choice = choose_next(waiting, weights, now, streak, policy, speakers)
    served = [w for w in waiting if weights.get(w.service, 0) > 0]
    allowed = [
        w for w in served if speakers.serve(w.lang, w.service) or policy_overdue(w, now, policy)
    ]
    if choice is None:
        assert allowed == []
    else:
        assert choice.ticket in allowed
        assert choice.why == "overdue" or speakers.serve(choice.ticket.lang, choice.ticket.service)


def policy_overdue(w: Waiting, now: datetime, policy: Policy) -> bool:
    limit = policy.max_wait_for(w.service)
    return limit is not None and now - w.queued_at >= limit


@settings(max_examples=200, deadline=None)
@given(
    program=st.lists(
        st.one_of(
            st.tuples(
                st.just("arrive"),
                st.integers(0, 120),
                st.sampled_from(SERVICES),
                st.booleans(),
                st.sampled_from((None, *LANGS)),
            ),
            st.tuples(st.just("call"), st.integers(0, 120), st.integers(0, 3)),
        ),
        max_size=60,
    ),
    desks=st.lists(st.sets(st.sampled_from(LANGS)), min_size=1, max_size=4),
)
def test_a_ticket_skipped_for_its_language_keeps_its_place(
    program: list[tuple], desks: list[set[str]]
) -> None:
    """Counters speaking different languages call in any interleaving. No call ever passes
    over an older ticket of the same service and class that the calling counter could
    have called: a ticket skipped for its language is the first of its line to be called
    once a counter that speaks it is free."""
    on_duty = frozenset().union(*desks)
    counters = [Speakers(frozenset(d), on_duty) for d in desks]
    now, next_id = T0, 1
    waiting: list[Waiting] = []
    for step in program:
        now += timedelta(seconds=step[1])
        if step[0] == "arrive":
            waiting.append(Waiting(next_id, step[2], step[3], now, step[4]))
            next_id += 1
            continue
        speakers = counters[step[2] % len(counters)]
        choice = choose_next(waiting, {s: 1 for s in SERVICES}, now, 0, NO_OVERDUE, speakers)
        if choice is None:
            assert not any(speakers.serve(w.lang, w.service) for w in waiting)
            continue
        passed_over = [
            w
            for w in waiting
            if (w.service, w.priority) == (choice.ticket.service, choice.ticket.priority)
            and speakers.serve(w.lang, w.service)
            and fcfs(w) < fcfs(choice.ticket)
        ]
        assert passed_over == []
        waiting.remove(choice.ticket)


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.lists(
        st.tuples(
            st.integers(0, 300),
            st.sampled_from(SERVICES),
            st.booleans(),
            st.sampled_from((None, *LANGS)),
        ),
        min_size=1,
        max_size=60,
    ),
    speakers=speakers_st,
    weights=st.fixed_dictionaries({s: st.integers(1, 10) for s in SERVICES}),
    service_s=st.integers(1, 600),
    max_wait_s=st.integers(0, 3600),
    k=st.integers(0, 3),
)
def test_nobody_starves_and_the_maximum_wait_holds_with_languages(
    arrivals: list[tuple],
    speakers: Speakers,
    weights: dict[str, int],
    service_s: int,
    max_wait_s: int,
    k: int,
) -> None:
    """A counter that speaks only some of the languages on duty (the speakers of the
    others never free) still calls everyone, within the bound of test_nobody_starves:
    a ticket kept for another language is callable anywhere once it is overdue, and the
    counter, if idle, calls at that moment."""
    policy = Policy(priority_max_in_row=k, default_max_wait=timedelta(seconds=max_wait_s))
    tickets, called, _ = simulate_one_counter(arrivals, weights, service_s, policy, speakers)
    everyone_within_the_bound(tickets, called, max_wait_s, service_s)


def test_weight_tie_break_example() -> None:
    """With equal weight x age, the heavier service goes first; then the older ticket."""
    now = T0 + timedelta(minutes=10)
    a, b = ticket(1, "A", minute=0), ticket(2, "B", minute=5)  # 1 x 10 == 2 x 5
    assert choose_next([a, b], {"A": 1, "B": 2}, now, 0, NO_OVERDUE).ticket == b
    c, d = ticket(4, "A", minute=0), ticket(3, "B", minute=0)
    assert choose_next([c, d], {"A": 1, "B": 1}, now, 0, NO_OVERDUE).ticket == d


# --- 7. people_ahead and estimates -------------------------------------------------------


def test_people_ahead_example() -> None:
    """Priority tickets count ahead of a normal ticket, not the other way round."""
    n1, p2, n3, p4 = ticket(1), ticket(2, priority=True), ticket(3), ticket(4, priority=True)
    other = ticket(5, "B", minute=-10)
    queue = [n1, p2, n3, p4, other]
    assert [people_ahead(t, queue) for t in (n1, p2, n3, p4)] == [2, 0, 3, 1]
    assert people_ahead(other, queue) == 0


@settings(max_examples=200)
@given(waiting=waitings_st, data=st.data())
def test_people_ahead_counts(waiting: list[Waiting], data: st.DataObject) -> None:
    """A normal ticket has every priority ticket of its service ahead plus the earlier
    normal ones; a priority ticket only the earlier priority ones; other services and the
    ticket itself never count."""
    if not waiting:
        return
    me = data.draw(st.sampled_from(waiting))
    same = [w for w in waiting if w.service == me.service and w.id != me.id]
    earlier = [w for w in same if fcfs(w) < fcfs(me)]
    if me.priority:
        expected = sum(w.priority for w in earlier)
    else:
        expected = sum(w.priority for w in same) + sum(not w.priority for w in earlier)
    assert people_ahead(me, waiting) == expected
    others = [w for w in waiting if w.service != me.service]
    without_me = [w for w in waiting if w.id != me.id]
    assert people_ahead(me, without_me) == expected
    assert people_ahead(me, [w for w in waiting if w not in others]) == expected
    assert people_ahead(me, others) == 0
    # itself is recognised by id, even from a stale copy that would otherwise count
    ghost = Waiting(me.id, me.service, True, me.queued_at - timedelta(hours=1))
    assert people_ahead(me, [*without_me, ghost]) == expected


@settings(max_examples=200)
@given(waiting=waitings_st)
def test_people_ahead_is_a_line(waiting: list[Waiting]) -> None:
    """Inside one service the positions are 0, 1, ..., n - 1: everyone has a distinct place."""
    for service in SERVICES:
        line = [w for w in waiting if w.service == service]
        assert sorted(people_ahead(w, waiting) for w in line) == list(range(len(line)))


def test_estimates_examples() -> None:
    """Three people ahead, five minutes each, two counters: seven and a half minutes."""
    assert estimated_wait_seconds(3, 300, 2) == 450
    assert estimated_wait_seconds(0, 300, 2) == 0
    assert estimated_wait_seconds(1, 100, 3) == 34  # rounded up
    assert typical_service_seconds([100, 200, 3600 * 5], 240) == 200
    assert typical_service_seconds([100, 200, 0, -5], 240) == 240
    assert typical_service_seconds([100, 200, 300, 400], 240) == 250


typical_st = st.floats(0, 10**5, allow_nan=False, allow_infinity=False)


@settings(max_examples=200)
@given(
    ahead=st.integers(-5, 500),
    more=st.integers(0, 50),
    typical=typical_st,
    counters=st.integers(-3, 40),
    extra=st.integers(0, 10),
)
def test_estimated_wait_is_monotone(
    ahead: int, more: int, typical: float, counters: int, extra: int
) -> None:
    """The estimate is 0 with nobody ahead, never drops when more people are ahead, never
    rises when more counters serve, treats zero or negative counters as one, and is a whole
    number of seconds no smaller than the exact share."""
    est = estimated_wait_seconds(ahead, typical, counters)
    assert isinstance(est, int) and est >= 0
    if ahead <= 0:
        assert est == 0
    else:
        assert est >= ahead * typical / max(counters, 1) - 1e-6
    assert estimated_wait_seconds(ahead + more, typical, counters) >= est
    assert estimated_wait_seconds(ahead, typical, counters + extra) <= est
    if counters <= 0:
        assert est == estimated_wait_seconds(ahead, typical, 1)


@settings(max_examples=200)
@given(
    recent=st.lists(st.floats(-1000, 10**5, allow_nan=False, allow_infinity=False), max_size=15),
    default=typical_st,
    noise=st.lists(st.floats(-1000, 0), max_size=5),
)
def test_typical_service_is_the_median_of_positive_samples(
    recent: list[float], default: float, noise: list[float]
) -> None:
    """Fewer than three positive samples give the default; otherwise the median of the
    positive samples; zero and negative samples are ignored, and order does not matter."""
    usable = [s for s in recent if s > 0]
    got = typical_service_seconds(recent, default)
    assert isinstance(got, float)
    if len(usable) < MIN_HISTORY:
        assert got == default
    else:
        assert got == statistics.median(usable)
        assert sum(s < got for s in usable) <= len(usable) / 2
        assert sum(s > got for s in usable) <= len(usable) / 2
    assert typical_service_seconds(recent + noise, default) == got
    assert typical_service_seconds(list(reversed(recent)), default) == got


# --- 8. Numbering and the service day ----------------------------------------------------

ATHENS = "Europe/Athens"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # an ordinary winter day: UTC+2, midnight is 22:00Z the evening before
        ("2026-01-14T21:59:59", date(2026, 1, 14)),
        ("2026-01-14T22:00:00", date(2026, 1, 15)),
        # spring forward on Sunday 29 March 2026 (03:00 EET -> 04:00 EEST at 01:00Z):
        # the 29th starts at 00:00 EET = 28th 22:00Z and ends at 00:00 EEST = 29th 21:00Z
        ("2026-03-28T21:59:59", date(2026, 3, 28)),
        ("2026-03-28T22:00:00", date(2026, 3, 29)),
        ("2026-03-29T00:59:59", date(2026, 3, 29)),
        ("2026-03-29T01:00:00", date(2026, 3, 29)),
        ("2026-03-29T20:59:59", date(2026, 3, 29)),
        ("2026-03-29T21:00:00", date(2026, 3, 30)),
        # fall back on Sunday 25 October 2026 (04:00 EEST -> 03:00 EET at 01:00Z):
        # the 25th starts at 00:00 EEST = 24th 21:00Z and ends at 00:00 EET = 25th 22:00Z
        ("2026-10-24T20:59:59", date(2026, 10, 24)),
        ("2026-10-24T21:00:00", date(2026, 10, 25)),
        ("2026-10-25T00:59:59", date(2026, 10, 25)),
        ("2026-10-25T01:00:00", date(2026, 10, 25)),
        ("2026-10-25T21:59:59", date(2026, 10, 25)),
        ("2026-10-25T22:00:00", date(2026, 10, 26)),
        # an ordinary summer day: UTC+3
        ("2026-07-01T20:59:59", date(2026, 7, 1)),
        ("2026-07-01T21:00:00", date(2026, 7, 2)),
    ],
)
def test_service_day_switches_at_athens_midnight(instant: str, day: date) -> None:
    """The service day in Athens turns over at local midnight, also on the DST change days."""
    assert service_day(utc(instant), ATHENS) == day


def test_service_day_rejects_naive_datetimes() -> None:
    """A datetime without a time zone is refused rather than guessed."""
    with pytest.raises(ValueError):
        service_day(datetime(2026, 10, 25, 12, 0), ATHENS)


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def athens_day_by_hand(instant: datetime) -> date:
    """EU rule: summer time (UTC+3 in Athens) from the last Sunday of March 01:00Z to the
    last Sunday of October 01:00Z, UTC+2 otherwise."""
    y = instant.year
    start = datetime.combine(_last_sunday(y, 3), time(1), tzinfo=UTC)
    end = datetime.combine(_last_sunday(y, 10), time(1), tzinfo=UTC)
    offset = 3 if start <= instant < end else 2
    return (instant + timedelta(hours=offset)).date()


@settings(max_examples=300)
@given(
    instant=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2037, 12, 30), timezones=st.just(UTC)
    ),
    offset_min=st.integers(-14 * 60, 14 * 60),
)
def test_service_day_follows_athens_clock(instant: datetime, offset_min: int) -> None:
    """The service day is the Athens calendar day of the instant, however the instant is
    written (any UTC offset), following the EU summer-time rule."""
    expected = athens_day_by_hand(instant)
    assert service_day(instant, ATHENS) == expected
    elsewhere = instant.astimezone(timezone(timedelta(minutes=offset_min)))
    assert service_day(elsewhere, ATHENS) == expected


def test_format_number_examples() -> None:
    """Numbers are padded to three digits and simply grow past 999."""
    assert format_number("A", 7) == "A007"
    assert format_number("A", 999) == "A999"
    assert format_number("A", 1000) == "A1000"
    assert format_number("ΚΕΠ", 42) == "ΚΕΠ042"


@given(prefix=st.text(alphabet="ABCXYZΑΒΓ", min_size=1, max_size=3), n=st.integers(1, 10**6))
def test_format_number_round_trips(prefix: str, n: int) -> None:
    """The number after the prefix has at least three digits and reads back as the number."""
    text = format_number(prefix, n)
    assert text.startswith(prefix)
    digits = text[len(prefix) :]
    assert digits.isdigit() and int(digits) == n
    assert len(digits) == max(3, len(str(n)))


# --- 9. A counter's shift ------------------------------------------------------------------

_SHIFT_STEPS = st.lists(st.sampled_from([*CounterEventType, "call"]), max_size=20)


@given(steps=_SHIFT_STEPS)
def test_a_counter_that_calls_is_available_and_its_events_say_so(steps: list) -> None:
    """Whatever staff did before (opened, paused, closed, or nothing today), a call leaves
    the counter available, and the state read back from the events alone agrees: a call
    writes the shift event it implies, and only when the state needs one."""
    events: list[CounterEventType] = []
    for step in steps:
        before = counter_state(events[-1] if events else None)
        if step == "call":
            implied = shift_for_call(before)
            assert (implied is None) == (before is CounterState.AVAILABLE)
            if implied is not None:
                events.append(implied)
            assert counter_state(events[-1]) is CounterState.AVAILABLE
        else:
            events.append(step)
            assert counter_state(step) is STATE_AFTER[step]


def test_the_estimate_counts_the_counters_that_can_serve_the_language_example() -> None:
    """A Farsi speaker is told the wait for the counters that can serve Farsi: those whose
    staff speak it, and one more per mediator on duty who does, never more than are there."""
    el, el_fa = frozenset({"el"}), frozenset({"el", "fa"})
    three = [el, el, el_fa]
    assert counters_for("fa", three, [], frozenset(), 3) == 1
    assert counters_for("fa", three, [frozenset({"fa"})], frozenset(), 3) == 2
    assert counters_for("fa", three, [frozenset({"fa"})] * 5, frozenset(), 3) == 3
    assert counters_for("el", three, [], frozenset(), 3) == 3  # everyone can
    assert counters_for("ps", three, [], frozenset(), 3) == 3  # nobody can: any counter calls
    assert counters_for("fa", three, [], frozenset({"fa"}), 3) == 3  # by phone
    assert counters_for("fa", [], [], frozenset(), 3) == 3  # nobody at work yet
    assert counters_for(None, three, [], frozenset(), 3) == 3
