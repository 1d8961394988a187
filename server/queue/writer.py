"""Writing a new ticket: its number, its row and its `issued` event, in one transaction.

The number is taken in the same write transaction as the ticket (an upsert of the
service's counter for the day), so numbers are gap-free in the order tickets are written,
however many kiosks issue at once, and a ticket that fails to be written takes none.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from ..catalog import ServiceInfo
from . import sql
from .rules import EventType, Priority, Status, format_number

Row = dict[str, Any]  # a ticket row as column -> value


@dataclass(frozen=True)
class NewTicket:
    """A ticket checked and ready to be numbered and written."""

    site_id: int
    service: ServiceInfo
    day: date
    reason: str
    lang: str
    priority: Priority
    device_id: int | None
    user_id: int | None
    now: datetime
    quiet: bool = False  # never called aloud


def write_ticket(conn: Connection, new: NewTicket) -> Row:
    """Inside the caller's write transaction: number the ticket, insert it, log `issued`.

    The number comes from the service's own numbering, or from the one it takes its
    numbers from (a private service's tickets look like any of the other's)."""
    params = {"service_id": new.service.numbered_by or new.service.id, "day": new.day}
    number = int(conn.execute(sql.TAKE_NUMBER[conn.dialect.name], params).scalar_one())
    ticket: Row = {
        "site_id": new.site_id,
        "service_id": new.service.id,
        "origin_service_id": new.service.id,
        "reason_code": new.reason,
        "lang": new.lang,
        "priority": new.priority.value,
        "number": number,
        "code": format_number(new.service.prefix, number),
        "service_day": new.day,
        "public_token": secrets.token_urlsafe(16),
        "status": Status.WAITING.value,
        "quiet": new.quiet,
        "counter_id": None,
        "device_id": new.device_id,
        "issued_at": new.now,
        "queued_at": new.now,
        "called_at": None,
        "started_at": None,
        "ended_at": None,
    }
    ticket["id"] = int(conn.execute(sql.INSERT_TICKET, ticket).scalar_one())
    conn.execute(
        sql.INSERT_EVENT,
        {
            "ticket_id": ticket["id"],
            "site_id": new.site_id,
            "service_id": new.service.id,
            "type": EventType.ISSUED.value,
            "at": new.now,
            "counter_id": None,
            "user_id": new.user_id,
            "payload": {"reason": new.reason, "lang": new.lang, "priority": new.priority.value},
        },
    )
    return ticket
