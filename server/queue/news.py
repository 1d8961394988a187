"""What a change to the queue (or to the configuration and devices it runs on) announces
once it is committed, and to whom it matters.

A transaction's result becomes one piece of news; the front desk hands it to a publisher
(the realtime hub, in the server) only after the commit, so nobody hears of a change that
a rollback undid. What each audience then receives is the hub's business (see
docs/realtime.md): a call is announced on the displays and reaches the ticket's phone, a
ticket's change reaches its phone, and every piece of news refreshes the site's summary
for counters and displays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .reads import TicketView
from .rules import Action


@dataclass(frozen=True)
class Called:
    """A ticket was called or recalled: the waiting room must hear it."""

    ticket: TicketView
    site_id: int


@dataclass(frozen=True)
class TicketChanged:
    """A ticket moved on (started, finished, returned, ...): its own page must know."""

    ticket: TicketView
    site_id: int


@dataclass(frozen=True)
class QueueChanged:
    """Something else changed a site's queue or counters: a ticket issued, a shift, a print."""

    site_id: int


@dataclass(frozen=True)
class ConfigChanged:
    """Services, reasons, labels, hours or messages of these sites changed: every open
    kiosk, display and counter page of them reads its configuration again."""

    site_ids: tuple[int, ...]


@dataclass(frozen=True)
class DeviceRevoked:
    """A kiosk or display may no longer connect: its open connections are closed."""

    device_id: int


@dataclass(frozen=True)
class AlarmChanged:
    """A silent alarm was raised at a counter, or acknowledged: the site's staff pages
    must know at once, and nobody else (no display, kiosk or phone)."""

    site_id: int
    alarm_id: int
    counter: str
    acknowledged: bool


News = Called | TicketChanged | QueueChanged | ConfigChanged | DeviceRevoked | AlarmChanged
Publish = Callable[[News], None]


def of_action(action: Action, ticket: TicketView, site_id: int) -> News:
    """A call or recall is announced as a call; every other action as the ticket's change."""
    if action in (Action.CALL, Action.RECALL):
        return Called(ticket, site_id)
    return TicketChanged(ticket, site_id)


def nobody(_news: News) -> None:
    """The publisher where nobody listens (the command line, scripts)."""
