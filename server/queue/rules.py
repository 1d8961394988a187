"""The rules of the queue, as pure functions: how a ticket moves, who is called next.

Everything a reader needs to know about the queue's behaviour lives here, free of Flask,
SQLAlchemy and I/O, so that the rules can be tested exhaustively with property tests and
are written once: the transactions (`transactions.py`) ask these functions what is
allowed, what changes and who is next, and only write down the answers.

    statuses and actions   Status, Action, EventType, TRANSITIONS, transition
    what an action changes Lifecycle, apply
    how a visit ends       Outcome, EXTERNAL_AGENCIES, finish_record
    a counter's shift      CounterState, counter_state, shift_for_call
    a mediator's day       MediatorState, mediator_state, needs_mediator
    numbering              service_day, day_start_utc, format_number
    who is next            Waiting, Policy, Speakers, serves_private, heads, choose_next
    what a visitor is told people_ahead, counters_for, estimated_wait_seconds
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Status(StrEnum):
    """Where a ticket is in its life; the first three are 'open'."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.WAITING, Status.CALLED, Status.SERVING})
# A ticket "at a counter": called there or being served there. A counter holds one at most.
AT_COUNTER = frozenset({Status.CALLED, Status.SERVING})


class Action(StrEnum):
    """What staff (or the day-end sweep) can do to a ticket; values are the API's words."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    RETURN = "return"
    TRANSFER = "transfer"
    CANCEL = "cancel"
    CLOSE_DAY = "close-day"


class EventType(StrEnum):
    """The codes written to the append-only event log, one per transition."""

    ISSUED = "issued"
    CALLED = "called"
    RECALLED = "recalled"
    STARTED = "started"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    RETURNED = "returned"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    CLOSED_AT_DAY_END = "closed_at_day_end"
    # Not transitions: what happened to the ticket's paper at the kiosk.
    PRINTED = "printed"
    PRINT_UNCONFIRMED = "print_unconfirmed"  # sent; the printer did not or cannot confirm it
    PRINT_FAILED = "print_failed"
    # Not transitions either: a mediator (interpreter) and the visit at a counter.
    MEDIATOR_REQUESTED = "mediator_requested"  # the counter asked for one
    MEDIATOR_JOINED = "mediator_joined"  # one joined the call (user_id: the mediator)


class Priority(StrEnum):
    """Why a visitor may be called ahead; the kiosk asks, nothing is checked or stored beyond it."""

    NONE = "none"
    DISABILITY = "disability"
    ELDERLY = "elderly"
    PREGNANCY = "pregnancy"
    WITH_INFANT = "with_infant"


class Outcome(StrEnum):
    """How a finished visit ended (no-show and leaving early are their own transitions)."""

    SERVED = "served"
    REFERRED_INTERNAL = "referred_internal"
    REFERRED_EXTERNAL = "referred_external"
    APPOINTMENT = "appointment"


# External agencies a visitor can be referred to (domain.md, "Referral"); internal
# referrals name a reason group code of the centre's own configuration instead.
EXTERNAL_AGENCIES = (
    "tax_office",
    "efka",
    "dypa",
    "asylum",
    "migration_ministry",
    "hospital",
    "other",
)

_OPEN_SOURCES = (Status.WAITING, Status.CALLED, Status.SERVING)

# (from, action) -> (to, event). Anything absent is refused.
TRANSITIONS: dict[tuple[Status, Action], tuple[Status, EventType]] = {
    (Status.WAITING, Action.CALL): (Status.CALLED, EventType.CALLED),
    (Status.CALLED, Action.RECALL): (Status.CALLED, EventType.RECALLED),
    (Status.CALLED, Action.START): (Status.SERVING, EventType.STARTED),
    (Status.CALLED, Action.FINISH): (Status.DONE, EventType.FINISHED),
    (Status.SERVING, Action.FINISH): (Status.DONE, EventType.FINISHED),
    (Status.CALLED, Action.NO_SHOW): (Status.NO_SHOW, EventType.NO_SHOW),
    (Status.CALLED, Action.RETURN): (Status.WAITING, EventType.RETURNED),
    (Status.SERVING, Action.RETURN): (Status.WAITING, EventType.RETURNED),
    (Status.NO_SHOW, Action.RETURN): (Status.WAITING, EventType.RETURNED),
    **{(s, Action.TRANSFER): (Status.WAITING, EventType.TRANSFERRED) for s in _OPEN_SOURCES},
    (Status.WAITING, Action.CANCEL): (Status.CANCELLED, EventType.CANCELLED),
    (Status.CALLED, Action.CANCEL): (Status.CANCELLED, EventType.CANCELLED),
    **{(s, Action.CLOSE_DAY): (Status.CLOSED, EventType.CLOSED_AT_DAY_END) for s in _OPEN_SOURCES},
}


class TransitionError(ValueError):
    """The action is not allowed from the ticket's current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action.value} a ticket that is {status.value}")
        self.status = status
        self.action = action


def transition(status: Status, action: Action) -> tuple[Status, EventType]:
    """The status after `action` and the event to log, or TransitionError."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionError(status, action) from None


def allowed_actions(status: Status) -> list[Action]:
    """Actions a counter may offer for a ticket in `status` (the day-end sweep excluded)."""
    return [a for (s, a) in TRANSITIONS if s == status and a is not Action.CLOSE_DAY]


# --- What an action changes --------------------------------------------------------------


@dataclass(frozen=True)
class Lifecycle:
    """The part of a ticket its actions change. `service` and `counter` are whatever the
    caller identifies them by (ids in the database, names in the tests)."""

    status: Status
    service: Hashable
    counter: Hashable | None
    queued_at: datetime
    called_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """One transition: the ticket before and after, and the event the log records."""

    before: Lifecycle
    after: Lifecycle
    event: EventType

    @property
    def counter(self) -> Hashable | None:
        """The counter the event is logged at: the one that called, else the one that held
        the ticket (a return or a transfer frees the ticket from it)."""
        return self.after.counter if self.after.counter is not None else self.before.counter


def apply(
    ticket: Lifecycle,
    action: Action,
    now: datetime,
    *,
    counter: Hashable | None = None,
    service: Hashable | None = None,
) -> Step:
    """The ticket after `action` at `now`, or TransitionError.

    A call ties the ticket to `counter`; starting records when service began; a return
    sends it to the back of its line (queued anew at `now`), while a transfer to `service`
    keeps its place in time; any end (done, no-show, cancelled, closed) records `now`.
    """
    status, event = transition(ticket.status, action)
    changes: dict = {"status": status}
    if action is Action.CALL:
        if counter is None:
            raise ValueError("a call is made at a counter")
        changes.update(counter=counter, called_at=now, started_at=None)
    elif action is Action.START:
        changes["started_at"] = now
    elif action in (Action.RETURN, Action.TRANSFER):
        changes.update(counter=None, called_at=None, started_at=None, ended_at=None)
        if action is Action.RETURN:
            changes["queued_at"] = now
        else:
            if service is None or service == ticket.service:
                raise ValueError("a transfer goes to another service")
            changes["service"] = service
    elif status not in OPEN_STATUSES:
        changes["ended_at"] = now
    return Step(ticket, replace(ticket, **changes), event)


# --- How a visit ends ---------------------------------------------------------------------


class OutcomeError(ValueError):
    """A finish whose outcome or referral the rules do not accept; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def finish_record(
    outcome: str | None,
    referral: str | None,
    groups: Iterable[str],
    without_mediator: bool = False,
) -> dict[str, str | bool]:
    """What the `finished` event records, or OutcomeError.

    An external referral names one of EXTERNAL_AGENCIES; an internal one names a reason
    group of the centre (`groups`); any other outcome takes no referral. An empty referral
    is no referral (a form's empty field). `without_mediator`: staff say the visit needed
    a mediator or interpreter and had none (what the unmet-demand report counts).
    """
    referral = referral or None
    if outcome is None:
        raise OutcomeError("missing_outcome", "finish needs an outcome")
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise OutcomeError("bad_outcome", f"unknown outcome '{outcome}'") from None
    if chosen is Outcome.REFERRED_EXTERNAL:
        if referral not in EXTERNAL_AGENCIES:
            agencies = ", ".join(EXTERNAL_AGENCIES)
            raise OutcomeError("bad_referral", f"an external referral needs one of: {agencies}")
    elif chosen is Outcome.REFERRED_INTERNAL:
        if referral not in set(groups):
            raise OutcomeError("bad_referral", "an internal referral needs a reason group code")
    elif referral is not None:
        raise OutcomeError("bad_referral", "a referral is only recorded with a referred outcome")
    record: dict[str, str | bool] = {"outcome": chosen.value}
    if referral is not None:
        record["referral"] = referral
    if without_mediator:
        record["without_mediator"] = True
    return record


# --- A counter's shift --------------------------------------------------------------------


class CounterEventType(StrEnum):
    """What staff do to their counter, written to the append-only `counter_events`."""

    OPENED = "opened"
    PAUSED = "paused"
    RESUMED = "resumed"
    CLOSED = "closed"


class CounterState(StrEnum):
    AVAILABLE = "available"
    PAUSED = "paused"
    SIGNED_OUT = "signed_out"


STATE_AFTER = {
    CounterEventType.OPENED: CounterState.AVAILABLE,
    CounterEventType.RESUMED: CounterState.AVAILABLE,
    CounterEventType.PAUSED: CounterState.PAUSED,
    CounterEventType.CLOSED: CounterState.SIGNED_OUT,
}


def counter_state(last_event_today: CounterEventType | None) -> CounterState:
    """A counter's state is its latest event of the local day; none today: signed out."""
    return CounterState.SIGNED_OUT if last_event_today is None else STATE_AFTER[last_event_today]


def shift_for_call(state: CounterState) -> CounterEventType | None:
    """The shift event a call implies: a counter that calls is at work, however its page
    was opened, so a signed-out counter opens and a paused one resumes with the call.
    Staffing (the supervisor's view, the staffing forecast) then counts what happened."""
    return {
        CounterState.SIGNED_OUT: CounterEventType.OPENED,
        CounterState.PAUSED: CounterEventType.RESUMED,
        CounterState.AVAILABLE: None,
    }[state]


# --- A mediator's day --------------------------------------------------------------------


class MediatorEventType(StrEnum):
    """What a mediator (an intercultural mediator or interpreter) does, written to the
    append-only `mediator_events`. A mediator belongs to no counter: they join calls."""

    AVAILABLE = "available"  # signed in and free to join a call
    BUSY = "busy"  # at work but not free (a call, a phone interpretation, a break)
    JOINED = "joined"  # joined to one ticket's visit at a counter (the row names it)
    AWAY = "away"  # gone for the day, or for now


class MediatorState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


MEDIATOR_STATE_AFTER = {
    MediatorEventType.AVAILABLE: MediatorState.AVAILABLE,
    MediatorEventType.BUSY: MediatorState.BUSY,
    MediatorEventType.JOINED: MediatorState.BUSY,
    MediatorEventType.AWAY: MediatorState.AWAY,
}


def mediator_state(last_event_today: MediatorEventType | None) -> MediatorState:
    """Like a counter's: the latest event of the local day; none today: away.

    Only an available mediator counts for `Speakers.here`; an available or busy one is
    on duty, so tickets in their languages wait for them (within the maximum wait)."""
    if last_event_today is None:
        return MediatorState.AWAY
    return MEDIATOR_STATE_AFTER[last_event_today]


def needs_mediator(lang: str | None, caller: Iterable[str], by_phone: Iterable[str] = ()) -> bool:
    """Whether a visit in `lang`, called by someone who speaks `caller`, needs a mediator
    joined: not when the caller speaks it, nor when the centre covers it by phone."""
    return lang is not None and lang not in set(caller) and lang not in set(by_phone)


# --- Numbering -------------------------------------------------------------------------


def service_day(now_utc: datetime, timezone: str) -> date:
    """The site's local calendar day: numbering restarts and open tickets close at its end."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(ZoneInfo(timezone)).date()


def day_start_utc(day: date, timezone: str) -> datetime:
    """The UTC instant the site's local `day` begins (midnight is never skipped in Athens)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def status_link_open(day: date, now_utc: datetime, timezone: str) -> bool:
    """A ticket's status link works until the end of its own local day; after it, the
    status page and API answer as for a ticket that never was (what they told is of no
    use any more, and an old link in a phone's history opens nothing)."""
    return service_day(now_utc, timezone) <= day


def format_number(prefix: str, number: int) -> str:
    """'A' and 7 -> 'A007'; past 999 the number simply grows ('A1000')."""
    return f"{prefix}{number:03d}"


# --- Who is called next -----------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """What the policy needs to know of a waiting ticket. `lang`: the language the visitor
    chose at the kiosk (None: no language to match, anyone may serve them)."""

    id: int
    service: Hashable
    priority: bool
    queued_at: datetime
    lang: str | None = None


@dataclass(frozen=True)
class Speakers:
    """The languages that decide whom a counter may call.

    `here`: what the counter can serve now: the languages of the staff member calling,
    those of mediators free to join a call, and those the centre covers by phone
    interpretation. `on_duty`: the languages somebody working at the centre today could
    serve any ticket in (the mediators, free or not, who join any counter's call).
    `at_counters`: (service, language) for each language spoken by the staff of a counter
    at work that calls from that service.

    A ticket in a language of `here` is callable. One in a language nobody on duty could
    serve it in is callable too: every counter is then as good as another, and holding the
    visitor back would help nobody (a colleague who speaks it at a counter of other
    services never calls them). Only a ticket that somebody else on duty could serve is
    skipped, keeping its place for them.
    """

    here: frozenset[str] = frozenset()
    on_duty: frozenset[str] = frozenset()
    at_counters: frozenset[tuple[Hashable, str]] = frozenset()

    def serve(self, lang: str | None, service: Hashable = None) -> bool:
        if lang is None or lang in self.here:
            return True
        return lang not in self.on_duty and (service, lang) not in self.at_counters

    def kept(self, service: Hashable) -> frozenset[str]:
        """The languages a ticket of `service` waits in for somebody else (see serve)."""
        spoken = {lang for s, lang in self.at_counters if s == service}
        return (self.on_duty | spoken) - self.here

    @property
    def skips_some(self) -> bool:
        """Whether any language at all is kept for others (else all is callable)."""
        return bool(self.on_duty - self.here) or any(
            lang not in self.here for _, lang in self.at_counters
        )


ANYONE = Speakers()  # nobody's languages known: every ticket is callable anywhere


def serves_private(counter_private: bool, trained: bool) -> bool:
    """Whether a counter calls the tickets of private services now: only a private one
    (nobody else hears the visit), by a staff member trained for the sensitive reasons.
    Elsewhere such a service is as if the counter did not serve it."""
    return counter_private and trained


@dataclass(frozen=True)
class Policy:
    """Site settings that shape the calling order."""

    priority_max_in_row: int = 2
    # per service; None: its overdue tickets are only shown as an alert, not called first
    max_wait: Mapping[Hashable, timedelta | None] | None = None
    default_max_wait: timedelta = timedelta(minutes=45)

    def max_wait_for(self, service: Hashable) -> timedelta | None:
        if self.max_wait and service in self.max_wait:
            return self.max_wait[service]
        return self.default_max_wait


@dataclass(frozen=True)
class Choice:
    """The ticket to call, why, and the counter's priority streak after the call."""

    ticket: Waiting
    why: str  # "overdue", "priority" or "normal"
    streak: int


def _overdue(w: Waiting, now: datetime, policy: Policy) -> bool:
    limit = policy.max_wait_for(w.service)
    return limit is not None and now - w.queued_at >= limit


def _age(w: Waiting, now: datetime) -> float:
    return (now - w.queued_at).total_seconds()


def fcfs_key(w: Waiting) -> tuple[datetime, int]:
    """First come, first served: earlier queued first, the lower id on the same instant."""
    return (w.queued_at, w.id)


def heads(waiting: Iterable[Waiting], speakers: Speakers = ANYONE) -> list[Waiting]:
    """All that choose_next looks at: per (service, priority class) the oldest ticket, and
    the oldest the counter's `speakers` may serve (often the same one).

    choose_next(heads(w, sp), ..., sp) == choose_next(w, ..., sp) for any w (a property
    test checks it), so the transactions fetch only these few rows however long the
    queue is. (The oldest of a class is the only one that can be overdue first, whatever
    its language; the oldest callable one is the only one the weights can pick.)
    """
    oldest: dict[tuple[Hashable, bool], Waiting] = {}
    callable_: dict[tuple[Hashable, bool], Waiting] = {}
    for w in waiting:
        key = (w.service, w.priority)
        for best, fits in ((oldest, True), (callable_, speakers.serve(w.lang, w.service))):
            if fits and (key not in best or fcfs_key(w) < fcfs_key(best[key])):
                best[key] = w
    return list({w.id: w for w in [*oldest.values(), *callable_.values()]}.values())


def choose_next(
    waiting: Iterable[Waiting],
    weights: Mapping[Hashable, int],
    now: datetime,
    streak: int = 0,
    policy: Policy = Policy(),
    speakers: Speakers = ANYONE,
) -> Choice | None:
    """Pick the ticket a counter serving `weights` (service -> weight) should call.

    0. A ticket whose language the counter's `speakers` cannot serve is skipped, keeping
       its place (see Speakers), until it is overdue.
    1. A ticket that has waited past its service's maximum goes first, oldest first,
       whatever its language, so nobody starves whatever the weights, priorities and
       languages (unless the service's maximum is None: then passing it is only an alert
       for staff). A counter that calls a language it does not speak asks for a mediator.
    2. Otherwise priority tickets go first, unless the counter has already called
       `priority_max_in_row` of them in a row while normal tickets waited.
    3. Within the chosen class, each service's oldest ticket competes with
       weight x waiting time, so a heavier service is served more often without
       starving the lighter ones. Inside one service and class the order is first come,
       first served.
    """
    candidates = [
        w
        for w in waiting
        if weights.get(w.service, 0) > 0
        and (speakers.serve(w.lang, w.service) or _overdue(w, now, policy))
    ]
    if not candidates:
        return None
    normal_waits = any(not w.priority for w in candidates)

    overdue = [w for w in candidates if _overdue(w, now, policy)]
    if overdue:
        chosen, why = min(overdue, key=fcfs_key), "overdue"
    else:
        priority = [w for w in candidates if w.priority]
        if priority and (not normal_waits or streak < policy.priority_max_in_row):
            pool, why = priority, "priority"
        else:
            pool, why = [w for w in candidates if not w.priority], "normal"
        chosen = max(
            heads(pool),  # one class: each service's oldest
            key=lambda w: (
                weights[w.service] * _age(w, now),
                weights[w.service],
                -w.queued_at.timestamp(),
                -w.id,
            ),
        )
    # the streak counts priority calls that passed over waiting normal tickets
    passed_over = chosen.priority and normal_waits
    return Choice(chosen, why, streak + 1 if passed_over else 0)


# --- Position and estimated wait --------------------------------------------------------


def people_ahead(ticket: Waiting, waiting: Iterable[Waiting]) -> int:
    """How many tickets of the same service are expected to be called before this one.

    Priority tickets count ahead of a normal ticket; a priority ticket only has the
    earlier priority tickets ahead. Overdue reordering and other services are ignored:
    this is an estimate shown to visitors, not a promise.
    """
    ahead = 0
    for w in waiting:
        if w.service != ticket.service or w.id == ticket.id:
            continue
        if ticket.priority:
            ahead += w.priority and fcfs_key(w) < fcfs_key(ticket)
        else:
            ahead += w.priority or fcfs_key(w) < fcfs_key(ticket)
    return ahead


MIN_HISTORY = 3


def typical_service_seconds(recent: Sequence[float], default_s: float) -> float:
    """Median of recent service durations, or `default_s` when there are too few.

    The median shrugs off the forgotten 'finish' click that leaves one visit at hours.
    """
    usable = [s for s in recent if s > 0]
    if len(usable) < MIN_HISTORY:
        return default_s
    return float(statistics.median(usable))


def counters_for(
    lang: str | None,
    at_work: Sequence[frozenset[str]],
    mediators: Sequence[frozenset[str]],
    by_phone: frozenset[str],
    configured: int,
) -> int:
    """How many counters share the line ahead of a visitor in `lang`, for their estimate.

    `at_work`: the languages of the staff at each counter at work that calls from the
    ticket's service; `mediators`: those of each mediator on duty. Where only some of them
    can serve the language (Speakers), the visitor waits for those: the counters whose
    staff speak it, and one more per mediator who does (each joins one call at a time).
    Otherwise (no language, a phone language, all can or none can: it is called anywhere
    in turn) the service's `configured` counters, as for everyone.
    """
    if lang is None or lang in by_phone or not at_work:
        return configured
    speaking = sum(lang in langs for langs in at_work)
    helping = min(sum(lang in langs for langs in mediators), len(at_work) - speaking)
    capable = speaking + helping
    return configured if capable in (0, len(at_work)) else capable


def estimated_wait_seconds(ahead: int, typical_s: float, counters: int) -> int:
    """Seconds until called: the people ahead shared among the counters serving them."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * typical_s / max(counters, 1))
