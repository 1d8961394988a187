"""The front desk: everything kiosks, counters, displays and supervisors can do or read.

This is the one layer between the web and the queue. The REST API (`server/api/`) and
the counter pages' JSON (`counter/actions.py`) are thin adapters over these methods, so
a request means the same wherever it comes from: the same permission check, the same
refusals (`server.errors`, one shape and one status for each), the same announcement
after the commit. Each method checks who asks first, then reads what they sent, then
runs one queue transaction and publishes its news; printing and counter shifts are
announced from here like every other change.

`who` is the caller (a staff member or a device, see `server.auth`), or None when the
request carried no credential. `body` is the request's fields, read only once the caller
is known to be allowed, so that a stranger is told "not allowed" whatever they sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from printers import PrintResult

from . import accounts, alarms, auth, catalog, i18n, need_to_know, pairing, siteconfig
from .auth import Can, Principal
from .catalog import SiteInfo
from .db import Database
from .errors import Conflict, Forbidden, NotFound, TooMany, Unauthenticated
from .models import utcnow
from .printing import Printing, PrintStatus, ticket_device
from .queue import mediation, news, opening, reads, screens, transactions
from .queue.news import AlarmChanged, ConfigChanged, DeviceRevoked, News, Publish, QueueChanged
from .queue.reads import TicketView
from .queue.rules import Action, CounterEventType, MediatorEventType, MediatorState

Body = Callable[[], Mapping[str, Any]]

# A kiosk issues at most this many tickets in a window: at opening time a line of people
# takes one every ten seconds or more; a child pressing the buttons again and again is
# asked to wait instead of emptying the printer.
KIOSK_TICKETS = 8
KIOSK_WINDOW = timedelta(minutes=1)


def no_body() -> Mapping[str, Any]:
    return {}


def status_url(base: str, public_token: str) -> str:
    """The visitor's status page, the QR code's target: `base` is the address phones use."""
    return f"{base.rstrip('/')}/s/{public_token}"


@dataclass(frozen=True)
class Issued:
    """A new ticket, the address of its status page, and what its printer is doing."""

    ticket: TicketView
    status_url: str
    print_status: str


class FrontDesk:
    """One per app: the database, the kiosks' printers, and who hears about changes."""

    def __init__(
        self, db: Database, publish: Publish = news.nobody, opening_hours: bool = True
    ) -> None:
        """`opening_hours`: kiosks issue only while their site is open (False for
        demonstrations and tests, which run at any hour)."""
        self.db = db
        self._publish = publish
        self.opening_hours = opening_hours
        # a print's outcome, logged by the print queue's thread, is news like any other
        self.printing = Printing(db, notify=self._printed)

    def publish(self, item: News) -> None:
        """Hand committed news to the publisher (the realtime hub); it never blocks."""
        self._publish(item)

    def _printed(self, site_id: int) -> None:
        self.publish(QueueChanged(site_id))

    # --- who may ----------------------------------------------------------------------------

    def site(self, who: Principal | None, slug: str, capability: Can) -> SiteInfo:
        """The site, if it exists and `who` holds `capability` there."""
        site = catalog.current(self.db).require_site(slug)
        self._require(who, capability, site.id)
        return site

    @staticmethod
    def _require(who: Principal | None, capability: Can, site_id: int) -> Principal:
        if who is None:
            raise Unauthenticated("this needs a signed-in staff member or a device token")
        if not who.can(capability, site_id):
            raise Forbidden(f"not allowed to {capability.value} at this site")
        return who

    def _ticket_site(self, who: Principal | None, ticket_id: int) -> int:
        """The ticket's site id; NotFound, as for a missing one, to a caller of another site
        (so ids tell nothing about another centre's visitors)."""
        site_id = reads.ticket_site_id(self.db, ticket_id)
        if who is not None and site_id not in who.capabilities:
            raise NotFound(f"no ticket {ticket_id}")
        return site_id

    def _ticket_at(self, who: Principal | None, ticket_id: int, at_site: str | None) -> int:
        """The ticket's site id, once `who` may operate there (and, from a counter's page,
        once the ticket is of that counter's site)."""
        site_id = self._ticket_site(who, ticket_id)
        self._require(who, Can.OPERATE, site_id)
        if at_site is not None and catalog.current(self.db).require_site(at_site).id != site_id:
            raise NotFound(f"no ticket {ticket_id} at this site")
        return site_id

    # --- kiosks -----------------------------------------------------------------------------

    def issue_ticket(self, who: Principal | None, site: str, body: Body, base: str) -> Issued:
        """A ticket for the visitor at a kiosk (or at a counter, for someone who cannot use
        the kiosk), printed on the kiosk's printer if it has one."""
        found = self.site(who, site, Can.ISSUE)
        assert who is not None
        if who.device_id is not None:
            if not self.opening(who, site)["open"]:
                raise Conflict("the centre is closed now", "closed")
            self._within_kiosk_limit(who.device_id)
        fields = body()
        ticket = transactions.issue_ticket(
            self.db,
            site=site,
            service=fields["service"],
            reason=fields["reason"],
            lang=fields["lang"],
            priority=fields.get("priority", "none"),
            quiet=bool(fields.get("quiet", False)),
            device_id=who.device_id,
            user_id=who.user_id,
        )
        self.publish(QueueChanged(found.id))
        url = status_url(base, ticket.public_token)
        printed = self.printing.print_ticket(ticket.id, url, who.device_id)
        return Issued(ticket, url, printed)

    def _within_kiosk_limit(self, device_id: int) -> None:
        now = utcnow()
        recent = reads.issued_by_device(self.db, device_id, now - KIOSK_WINDOW)
        if len(recent) >= KIOSK_TICKETS:
            wait = recent[-KIOSK_TICKETS] + KIOSK_WINDOW - now
            raise TooMany(
                f"this kiosk issued {len(recent)} tickets in the last minute: wait a moment",
                int(wait.total_seconds()) + 1,
                "too_many_tickets",
            )

    def print_status(self, who: Principal | None, ticket_id: int) -> str:
        """'none', 'pending', 'printed', 'unconfirmed' or 'failed': for the kiosk that
        issued the ticket, and for staff of its site."""
        site_id = self._ticket_site(who, ticket_id)
        device = ticket_device(self.db, ticket_id)
        if who is None:
            raise Unauthenticated("this needs a signed-in staff member or a device token")
        if who.device_id is None or who.device_id != device:
            self._require(who, Can.OPERATE, site_id)
        return self.printing.status(ticket_id, device)

    # --- counters ---------------------------------------------------------------------------

    def call_next(
        self, who: Principal | None, site: str, counter: str, body: Body = no_body
    ) -> TicketView | None:
        """Call the next visitor to this counter; None when nobody waits for it."""
        found = self.site(who, site, Can.OPERATE)
        assert who is not None
        body()
        trained = found.id in who.trained_at
        done = transactions.call_next(
            self.db, site=site, counter=counter, user_id=who.user_id, trained=trained
        )
        ticket = done.ticket
        if ticket is not None:
            self.publish(news.of_action(Action.CALL, ticket, found.id))
            return self._as_known(who, found.id, ticket)
        # the shift a call opened changes the counters' view even when nobody was called;
        # a call at a counter already at work that found nobody changed nothing
        if done.shift is not None:
            self.publish(QueueChanged(found.id))
        return None

    def act(
        self,
        who: Principal | None,
        ticket_id: int,
        action: Action,
        body: Body = no_body,
        at_site: str | None = None,
    ) -> TicketView:
        """Recall, start, finish, no-show, return, transfer or cancel a ticket."""
        site_id = self._ticket_at(who, ticket_id, at_site)
        assert who is not None
        fields = body()
        ticket = transactions.act(
            self.db,
            ticket_id,
            action,
            user_id=who.user_id,
            outcome=fields.get("outcome"),
            referral=fields.get("referral"),
            without_mediator=bool(fields.get("without_mediator", False)),
            service=fields.get("service"),
            why=fields.get("why"),
        )
        self.publish(news.of_action(action, ticket, site_id))
        return self._as_known(who, site_id, ticket)

    def reprint(
        self, who: Principal | None, ticket_id: int, base: str, at_site: str | None = None
    ) -> None:
        """Print the ticket again on the printer of the kiosk that issued it."""
        self._ticket_at(who, ticket_id, at_site)
        ticket = reads.ticket(self.db, ticket_id)
        device = ticket_device(self.db, ticket_id)
        url = status_url(base, ticket.public_token)
        if self.printing.print_ticket(ticket_id, url, device) == PrintStatus.NONE:
            raise Conflict("the kiosk that issued this ticket has no printer", "no_printer")

    def shift(
        self, who: Principal | None, site: str, counter: str, event: CounterEventType
    ) -> None:
        """Open, pause, resume or close a counter's shift."""
        found = self.site(who, site, Can.OPERATE)
        assert who is not None
        transactions.record_shift(
            self.db, site=site, counter=counter, event=event, user_id=who.user_id
        )
        self.publish(QueueChanged(found.id))

    # --- silent alarms -------------------------------------------------------------------------

    def raise_alarm(
        self, who: Principal | None, site: str, counter: str, lang: str, body: Body = no_body
    ) -> dict[str, Any]:
        """A staff member at a counter asks for help: the site's staff pages hear it at once,
        and nothing public does."""
        found = self.site(who, site, Can.OPERATE)
        assert who is not None
        body()
        alarm = alarms.raise_alarm(self.db, found, counter, who.user_id)
        self.publish(AlarmChanged(found.id, alarm.id, alarm.counter, acknowledged=False))
        return _alarm(self.db, found, alarm, lang)

    def acknowledge_alarm(
        self, who: Principal | None, site: str, alarm_id: int, lang: str, body: Body = no_body
    ) -> dict[str, Any]:
        """A supervisor has seen to an alarm: it stops showing as open everywhere."""
        found = self.site(who, site, Can.REPORTS)
        assert who is not None
        body()
        alarm = alarms.acknowledge(self.db, found, alarm_id, who.user_id)
        self.publish(AlarmChanged(found.id, alarm_id, alarm.counter, acknowledged=True))
        return _alarm(self.db, found, alarm, lang)

    def alarms(self, who: Principal | None, site: str, lang: str) -> list[dict[str, Any]]:
        """The site's alarms of today, newest first: for the staff of the site."""
        found = self.site(who, site, Can.OPERATE)
        return _alarms(self.db, found, lang)

    # --- mediators ---------------------------------------------------------------------------

    def mediator_state(self, who: Principal | None, site: str, event: MediatorEventType) -> None:
        """A mediator says they are available, busy or away (leaving any call they joined)."""
        found = self.site(who, site, Can.MEDIATE)
        assert who is not None and who.user_id is not None
        mediation.set_state(self.db, site=site, user_id=who.user_id, event=event)
        self.publish(QueueChanged(found.id))

    def mediator_leaves(self, who: Principal) -> None:
        """A mediator signing out is away at every centre where they were not already."""
        cat = catalog.current(self.db)
        for site_id in who.site_ids:
            site = cat.site_by_id(site_id)
            if site is None or not who.can(Can.MEDIATE, site_id) or who.user_id is None:
                continue
            present = mediation.mediators(self.db, site)
            if any(m.user_id == who.user_id and m.state is not MediatorState.AWAY for m in present):
                self.mediator_state(who, site.slug, MediatorEventType.AWAY)

    def ask_mediator(
        self, who: Principal | None, ticket_id: int, at_site: str | None = None
    ) -> str:
        """The counter serving a ticket asks for a mediator (again: nothing new); the
        ticket's site, by its slug."""
        site_id = self._ticket_at(who, ticket_id, at_site)
        assert who is not None
        site = catalog.current(self.db).site_by_id(site_id)
        if site is None:
            raise NotFound(f"no ticket {ticket_id}")
        if mediation.ask(self.db, site=site.slug, ticket_id=ticket_id, user_id=who.user_id):
            self.publish(QueueChanged(site_id))
        return site.slug

    def accept_request(self, who: Principal | None, site: str, ticket_id: int) -> None:
        """A mediator takes a counter's request and is joined to that visit."""
        found = self.site(who, site, Can.MEDIATE)
        assert who is not None and who.user_id is not None
        mediation.accept(self.db, site=site, ticket_id=ticket_id, user_id=who.user_id)
        self.publish(QueueChanged(found.id))

    def mediator_board(self, who: Principal | None, site: str, lang: str) -> dict[str, Any]:
        """The site's mediators, the counters' requests, the waiting per language: for
        its counter staff and its mediators (not for displays: it names people)."""
        found = catalog.current(self.db).require_site(site)
        if who is None or not who.can(Can.MEDIATE, found.id):
            self._require(who, Can.OPERATE, found.id)
        return screens.mediator_board(self.db, found, lang)

    def mediator_screen(self, who: Principal | None, site: str, lang: str) -> dict[str, Any]:
        """A mediator's page: their state, the counters' requests, the waiting per language."""
        found = self.site(who, site, Can.MEDIATE)
        assert who is not None and who.user_id is not None
        return screens.mediator_screen(self.db, found, who.user_id, lang)

    # --- what may be read -------------------------------------------------------------------

    def sites(self, lang: str, ids: list[int] | None = None) -> list[dict[str, Any]]:
        return catalog.sites_in(catalog.current(self.db), lang, ids)

    def opening(self, who: Principal | None, site: str) -> dict[str, Any]:
        """Whether the site is open now, when it closes today, when it opens next."""
        found = self.site(who, site, Can.READ_SERVICES)
        now = utcnow()
        calendar = found.calendar
        if not self.opening_hours:
            return {"open": True, "closes_at": None, "opens_at": None}
        open_now = opening.is_open(calendar, now)
        return {
            "open": open_now,
            "closes_at": opening.closing_time(calendar, calendar.local_day(now))
            if open_now
            else None,
            "opens_at": None if open_now else opening.next_opening(calendar, now),
        }

    def services(self, who: Principal | None, site: str, lang: str) -> list[dict[str, Any]]:
        found = self.site(who, site, Can.READ_SERVICES)
        return catalog.services_in(catalog.current(self.db), found.id, lang)

    def counters(self, who: Principal | None, site: str, lang: str) -> list[dict[str, Any]]:
        found = self.site(who, site, Can.READ_COUNTERS)
        return catalog.counters_in(catalog.current(self.db), found.id, lang)

    def queue(self, who: Principal | None, site: str, lang: str) -> dict[str, Any]:
        """Waiting per service and who is at each counter; a display is not told of the
        private services (it shows the waiting room what it reads)."""
        found = self.site(who, site, Can.READ_QUEUE)
        summary = reads.queue_summary(self.db, found.id, lang)
        assert who is not None
        if who.kind != "staff":
            summary["services"] = [s for s in summary["services"] if not s["private"]]
        return summary

    def ticket(self, who: Principal | None, ticket_id: int) -> TicketView:
        site_id = self._ticket_at(who, ticket_id, None)
        assert who is not None
        return self._as_known(who, site_id, reads.ticket(self.db, ticket_id))

    def _as_known(self, who: Principal, site_id: int, ticket: TicketView) -> TicketView:
        """The ticket without its reason, unless `who` may know it (server/need_to_know.py)."""
        cat = catalog.current(self.db)
        if need_to_know.may_know_reason(self.db, cat, who, site_id, ticket.reason, ticket.counter):
            return ticket
        return replace(ticket, reason=None)

    def ticket_status(self, public_token: str) -> dict[str, Any]:
        """What the visitor's phone may know; the public token is the only credential."""
        return reads.ticket_status(self.db, public_token)

    def counter_screen(
        self, who: Principal | None, site: str, counter: str, lang: str
    ) -> dict[str, Any]:
        """A counter's workstation: its ticket, its shift, its waiting lists, print failures."""
        found = self.site(who, site, Can.OPERATE)
        counter_row = catalog.current(self.db).require_counter(found, counter)
        assert who is not None
        knows = need_to_know.may_know_sensitive(self.db, who, found.id, counter_row.slug)
        speaks = accounts.languages_of(self.db, who.user_id)
        trained = found.id in who.trained_at
        screen = screens.counter_screen(
            self.db, found, counter_row, lang, knows, speaks, trained=trained
        )
        open_alarms = [a for a in _alarms(self.db, found, lang) if a["acknowledged_at"] is None]
        return {"print_failures": self._failures(found), "alarms": open_alarms, **screen}

    def site_overview(self, who: Principal | None, site: str, lang: str) -> dict[str, Any]:
        """The supervisor's live view of a centre."""
        found = self.site(who, site, Can.REPORTS)
        overview = screens.site_overview(self.db, found, lang)
        return {
            **overview,
            "print_failures": self._failures(found),
            "alarms": _alarms(self.db, found, lang),
        }

    def _failures(self, site: SiteInfo) -> list[dict[str, Any]]:
        return [
            {
                "id": f.ticket_id,
                "number": f.number,
                "at": f.at,
                "status": f.status,
                "reason": f.reason,
                "error": f.error,
            }
            for f in self.printing.failures(site.id, screens.day_start(site))
        ]

    # --- administration ---------------------------------------------------------------------

    def configure(self, who: Principal | None, data: dict[str, Any]) -> dict[str, int]:
        """Apply a configuration document (see `server.siteconfig`) on behalf of `who`.

        The sites it names must be theirs to configure; a new site, or a change to the
        reasons every site shares, needs an administrator of every site. The document is
        checked, written and logged in one transaction (ConfigError lists its problems),
        then every open kiosk, display and counter page of the sites it touched is told.
        """
        if who is None:
            raise Unauthenticated("this needs a signed-in staff member")
        siteconfig.require_valid(data)
        cat = catalog.current(self.db)
        known = set(cat.sites)
        every_site = [site.id for site in cat.sites.values()]
        administrator = who.can_everywhere(Can.MANAGE, every_site)
        for entry in data["sites"]:
            found = cat.site(entry["slug"])
            if found is None and not administrator:
                raise Forbidden("only an administrator of every site may add a site")
            if found is not None:
                self._require(who, Can.CONFIGURE, found.id)
        shared = "reasons" in data and _reasons(data) != _reasons(siteconfig.export(self.db))
        if shared and not administrator:
            raise Forbidden("only an administrator of every site may change the visit reasons")
        if data.get("staff") and not administrator:  # people work at several centres
            raise Forbidden("only an administrator of every site may set people's languages")
        counts = siteconfig.load_data(self.db, data, who.actor)
        cat = catalog.current(self.db)
        added = [cat.require_site(e["slug"]).id for e in data["sites"] if e["slug"] not in known]
        if added:  # whoever administered every site administers the new ones too
            accounts.extend_administrators(self.db, every_site, added, who.actor)
        touched = every_site if shared else [cat.require_site(e["slug"]).id for e in data["sites"]]
        self.publish(ConfigChanged(tuple(sorted(set(touched)))))
        return counts

    def revoke_device(self, who: Principal | None, site: str, name: str) -> int:
        """Take a kiosk's or display's token back: its next request is refused and its open
        connections are closed at once."""
        found = self.site(who, site, Can.CONFIGURE)
        assert who is not None
        device_ids = auth.revoke_devices(self.db, found.slug, name, who.actor)
        for device_id in device_ids:
            self.publish(DeviceRevoked(device_id))
        return len(device_ids)

    def request_pairing(self, kind: str, site: str, secret: str) -> pairing.State:
        """A page without a token asks to be paired (or how its request stands)."""
        return pairing.request(self.db, kind, site, secret)

    def pair_device(self, who: Principal | None, site: str, code: str, kind: str, name: str) -> int:
        """Approve the kiosk or display showing `code` as a device of `site`."""
        found = self.site(who, site, Can.CONFIGURE)
        assert who is not None
        return pairing.approve(self.db, code, found.slug, kind, name, who.actor)

    def devices(self, who: Principal | None, site: str) -> list[dict[str, Any]]:
        """The site's kiosks and displays still in service, and those waiting to be paired."""
        found = self.site(who, site, Can.CONFIGURE)
        return auth.devices_of(self.db, found.id)

    def set_printer(
        self, who: Principal | None, site: str, device_id: int, url: str | None
    ) -> None:
        """Give a kiosk of the site a printer (its URL), or take it away (None)."""
        found = self.site(who, site, Can.CONFIGURE)
        assert who is not None
        self._kiosk(found, device_id)
        self.printing.configure(device_id, url, who.actor, found.id)

    def test_printer(
        self, who: Principal | None, site: str, device_id: int, lang: str
    ) -> PrintResult:
        """Print a sample ticket in `lang` on a kiosk's printer, now."""
        found = self.site(who, site, Can.CONFIGURE)
        assert who is not None
        self._kiosk(found, device_id)
        return self.printing.test(device_id, lang, who.actor, found.id)

    def kiosk_printer(self, who: Principal | None, site: str, device_id: int) -> dict[str, Any]:
        """A kiosk, its printer's URL, and what its latest prints did."""
        found = self.site(who, site, Can.CONFIGURE)
        kiosk = self._kiosk(found, device_id)
        return {**kiosk, "history": self.printing.history(device_id)}

    def _kiosk(self, site: SiteInfo, device_id: int) -> dict[str, Any]:
        kiosk = next((d for d in auth.devices_of(self.db, site.id) if d["id"] == device_id), None)
        if kiosk is None or kiosk["kind"] != auth.DeviceKind.KIOSK:
            raise NotFound(f"no kiosk {device_id} at this site")
        return kiosk


def _alarm(db: Database, site: SiteInfo, a: alarms.Alarm, lang: str) -> dict[str, Any]:
    counter = catalog.current(db).counter(site.id, a.counter)
    return {
        "id": a.id,
        "counter": a.counter,
        "counter_label": i18n.label(counter.labels, lang) if counter else a.counter,
        "raised_at": a.raised_at,
        "raised_by": a.raised_by,
        "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by,
    }


def _alarms(db: Database, site: SiteInfo, lang: str) -> list[dict[str, Any]]:
    return [_alarm(db, site, a, lang) for a in alarms.today(db, site)]


def _reasons(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The taxonomy as the tables keep it, for comparing two documents."""
    return [{"sensitive": False, **reason} for reason in data.get("reasons", [])]
