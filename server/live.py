"""Queue transactions followed by their realtime news: what the API and the pages call.

Each function runs one store transaction and, only after it committed, tells the hub,
so a client never hears of a change that a rollback undid. The hub is optional: scripts
and the CLI use the store directly.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from . import catalog, store
from .db import Database
from .engine import Action
from .realtime import Hub
from .store import TicketView


def _hub() -> Hub | None:
    return current_app.extensions.get("seira.hub")


def _site_id(db: Database, ticket: TicketView) -> int:
    site = catalog.current(db).site(ticket.site)
    return site.id if site else 0


def issue_ticket(db: Database, **fields: Any) -> TicketView:
    ticket = store.issue_ticket(db, **fields)
    hub = _hub()
    if hub is not None:
        hub.queue_changed(_site_id(db, ticket))
    return ticket


def call_next(db: Database, *, site: str, counter: str, user_id: int | None) -> TicketView | None:
    ticket = store.call_next(db, site=site, counter=counter, user_id=user_id)
    hub = _hub()
    if hub is not None and ticket is not None:
        hub.called(ticket, _site_id(db, ticket))
    return ticket


def act(db: Database, ticket_id: int, action: Action, **fields: Any) -> TicketView:
    ticket = store.act(db, ticket_id, action, **fields)
    hub = _hub()
    if hub is not None:
        if action is Action.RECALL:
            hub.called(ticket, _site_id(db, ticket))
        else:
            hub.ticket_changed(ticket, _site_id(db, ticket))
    return ticket
