"""Tables: the configuration of centres, people and devices, tickets, and the event log.

Tickets hold the current state for fast queue queries; the `events` table is the
append-only history that reports are computed from. Codes are stored, never translated
text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC, refuses naive input: no local time leaks in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, date: Date}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict[str, Any]]
    address: Mapped[dict[str, Any]]
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, Any]]
    priority_max_in_row: Mapped[int] = mapped_column(Integer, default=2)
    # reasons (groups or single items) this site does not offer, whatever its services cover
    reasons_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    # days the centre is closed: [{"from": "2026-12-24", "to": "2026-12-26"}, ...]
    closures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # information messages for its displays, each a label table per language
    messages: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # days a ticket keeps what points to one visit before it is anonymised (0: the day only)
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    # languages the centre covers by phone interpretation: any counter may call them
    phone_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    services: Mapped[list[Service]] = relationship(
        back_populates="site", order_by="Service.position"
    )
    counters: Mapped[list[Counter]] = relationship(
        back_populates="site", order_by="Counter.position"
    )


class Reason(Base):
    """A visit reason; a group has no parent. Codes are stable: reports key on them."""

    __tablename__ = "reasons"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("reasons.code"))
    pictogram: Mapped[str] = mapped_column(String(64))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    labels: Mapped[dict[str, Any]]
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceReason(Base):
    """Which reasons a service covers (groups expanded to their children at load time)."""

    __tablename__ = "service_reasons"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"), primary_key=True)


class Service(Base):
    """A queue of a site, with its own ticket prefix and numbering."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("site_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    slug: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(1))
    labels: Mapped[dict[str, Any]]
    max_wait_min: Mapped[int] = mapped_column(Integer, default=45)
    # past max_wait_min: "call_first" (and an alert) or "alert" (only an alert for staff)
    when_overdue: Mapped[str] = mapped_column(String(16), default="call_first")
    default_service_min: Mapped[int] = mapped_column(Integer, default=10)
    # private: called only at private counters by staff trained for the sensitive reasons
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    # the slug of another service of the site whose numbers (and prefix) its tickets take,
    # so that a ticket's number does not tell which of the two it is for
    numbers_from: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship(back_populates="services")
    reason_links: Mapped[list[ServiceReason]] = relationship(cascade="all, delete-orphan")


class CounterService(Base):
    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)


class Counter(Base):
    """A desk that calls visitors. `priority_streak` feeds the engine's priority ratio."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("site_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    slug: Mapped[str] = mapped_column(String(64))
    labels: Mapped[dict[str, Any]]
    priority_streak: Mapped[int] = mapped_column(Integer, default=0)
    # a room or desk where nobody else hears the visit: the only kind that serves private
    # services
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship(back_populates="counters")
    service_links: Mapped[list[CounterService]] = relationship(cascade="all, delete-orphan")


class User(Base):
    """A staff account: a username and a password hash, nothing personal."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # a new or reset account chooses its own password before anything else
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the languages its holder speaks with visitors (codes of server/i18n.py): who calls
    # whom (server/queue/rules.py, Speakers)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["el"])

    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")


class Membership(Base):
    """A user's role at one site: staff, supervisor or admin."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    # trained to handle the sensitive visit reasons, so may see them on any ticket here
    trained: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffToken(Base):
    """What a sign-in hands out, kept only as its SHA-256: an API bearer token ("api"), or
    the id a staff page's session cookie carries ("page"), which the API does not take."""

    __tablename__ = "staff_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SigninFailure(Base):
    """A refused sign-in, kept for the lockout window only: by username and by address."""

    __tablename__ = "signin_failures"
    __table_args__ = (
        Index("ix_signin_failures_username_at", "username", "at"),
        Index("ix_signin_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class Device(Base):
    """A kiosk or display of one site, known by the SHA-256 of its token."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Pairing(Base):
    """A kiosk or display waiting to be approved: the code on its screen and the hash of the
    secret it made for itself, which becomes its device token once approved."""

    __tablename__ = "pairings"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))  # where the page asked from
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class TicketNumber(Base):
    """The last number given per service and local day: the row that makes numbers gap-free."""

    __tablename__ = "ticket_numbers"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """A visit. Once `anonymised` (server/retention.py), only what reports need is left:
    no number, no public token, its times moved back to the start of its local hour."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("origin_service_id", "service_day", "number"),
        Index("ix_tickets_site_status", "site_id", "status", "service_id"),
        Index("ix_tickets_service_status_ended", "service_id", "status", "ended_at"),
        # the waiting line of one service and day, in order: heads and people ahead
        Index("ix_tickets_queue", "service_id", "service_day", "status", "priority", "queued_at"),
        Index("ix_tickets_counter_status", "counter_id", "status"),
        # a kiosk's tickets of the last minute, for its issuing limit
        Index("ix_tickets_device_issued", "device_id", "issued_at"),
        # what the retention sweep looks for: a site's tickets not yet anonymised, by day
        Index("ix_tickets_retention", "site_id", "anonymised", "service_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    # The service whose numbering gave the number; a transfer keeps number and code.
    origin_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"))
    lang: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    number: Mapped[int | None] = mapped_column(Integer)  # None once anonymised
    code: Mapped[str | None] = mapped_column(String(16))  # what the visitor holds: "A023"
    service_day: Mapped[date]
    public_token: Mapped[str | None] = mapped_column(String(43), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    # never called aloud: the visitor asked so, or the service is private
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    issued_at: Mapped[datetime]
    queued_at: Mapped[datetime]
    called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship()


class Event(Base):
    """One transition of one ticket. Append-only: the database refuses deletes, and every
    update but one: anonymising the row once (`anonymised` set, codes and links kept)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_site_at", "site_id", "at"),
        Index("ix_events_ticket", "ticket_id", "id"),
        Index("ix_events_service_type_at", "service_id", "type", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)


class PendingPrint(Base):
    """A print job whose outcome is not logged yet, and the server process holding it:
    kept so that the job of a process that died is taken over (server/print_jobs.py).
    Deleted in the transaction that logs the outcome; never more than a few rows."""

    __tablename__ = "pending_prints"
    __table_args__ = (Index("ix_pending_prints_seen_at", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    status_url: Mapped[str] = mapped_column(String(300))  # the ticket's QR code
    owner: Mapped[str] = mapped_column(String(300))  # "host:pid" of the process holding it
    state: Mapped[str] = mapped_column(String(8))  # "queued", then "sending"
    queued_at: Mapped[datetime]
    seen_at: Mapped[datetime]  # renewed by its holder at every housekeeping pass


class CounterEvent(Base):
    """A counter opened, paused, resumed or closed by a staff member: staffing as it was.

    Append-only like `events`; the counter workstation writes it and the staffing report
    reads who was present per hour from it.
    """

    __tablename__ = "counter_events"
    __table_args__ = (
        Index("ix_counter_events_site_at", "site_id", "at"),
        # a counter's state at an instant: its latest event at or before it
        Index("ix_counter_events_counter_at", "counter_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(16))  # opened | paused | resumed | closed
    at: Mapped[datetime]


class MediatorEvent(Base):
    """A mediator became available, busy or away, or joined a visit (`ticket_id`, at
    `counter_id`): what the calling engine reads of who can interpret now, and what the
    unmet-demand report reads of how many there were. Append-only like `events`."""

    __tablename__ = "mediator_events"
    __table_args__ = (
        Index("ix_mediator_events_site_at", "site_id", "at"),
        Index("ix_mediator_events_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(16))  # available | busy | joined | away
    at: Mapped[datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))


class AlarmEvent(Base):
    """A silent alarm raised at a counter, or its acknowledgement by a supervisor
    (`alarm_id`: the row that raised it). Append-only like `events`: an alarm is open
    while no acknowledgement names it (server/alarms.py)."""

    __tablename__ = "alarm_events"
    __table_args__ = (Index("ix_alarm_events_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    type: Mapped[str] = mapped_column(String(16))  # raised | acknowledged
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_events.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]


class AuditEntry(Base):
    """One change to configuration, accounts or devices, or a sign-in: who, what, when.

    Append-only like `events`. `action` is a code ("service.changed", "signin.failed"),
    `target` names what changed by its stable slugs ("thess-east/services/general"), and
    `before`/`after` hold the old and new values as the configuration document writes
    them. Never a visitor's data: the log is about staff and configuration.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_site_at", "site_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)


class Recording(Base):
    """A phrase read aloud by an interpreter, for a language the speech engine cannot say.

    `key` names the phrase, never the visitor: a kiosk prompt by its English source text,
    a reason tile as `reason:<code>`, and the words of a call as `call:ticket`,
    `call:counter`, `letter:<A>` and `number:<n>`. The audio is WAV, 16 kHz mono 16 bit,
    so that recordings join into one announcement without converting anything.
    """

    __tablename__ = "recordings"

    lang: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    audio: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
