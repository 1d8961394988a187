"""Pairing a kiosk or display without copying a token: a short code on its screen, an
approval in the admin area.

The page makes its own secret (256 random bits, kept in the browser's storage) and asks
to be paired with it. The server keeps only the secret's SHA-256 and gives the page a
short code to show. An admin who approves the code turns that hash into a device: from
then on the page's secret *is* its device token, so no credential ever travels from the
server to the device, and nothing an onlooker reads off the screen lets them act as it.
A code lasts LIFETIME; the page asks again for a new one when it runs out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, auth, catalog
from .auth import DeviceKind
from .db import Database
from .errors import Conflict, NotFound, Refused
from .models import Device, Pairing, Site, utcnow

ALPHABET = "ACDEFHJKMNPRTWXY3479"  # nothing that reads as another character
CODE_LENGTH = 6
LIFETIME = timedelta(minutes=15)
MAX_PENDING = 50  # pairing requests waiting at once, across the server
MIN_SECRET = 32  # characters of the page's secret


class TooMany(Refused):
    status = 429
    code = "too_many_pairings"


@dataclass(frozen=True)
class Pending:
    """A request waiting for an admin: what its screen shows, where it asks to go."""

    code: str
    kind: str
    site: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class State:
    """What the waiting page is told: still pending (with its code) or paired."""

    status: str  # "pending" | "approved"
    code: str | None = None
    expires_at: datetime | None = None
    device: dict[str, str] | None = None


def shown(code: str) -> str:
    """'K7HPRT' as the screen shows it: 'K7H-PRT'."""
    return f"{code[:3]}-{code[3:]}"


def normalised(typed: str) -> str:
    """What an admin typed, without dashes, spaces or case: 'k7h prt' -> 'K7HPRT'."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def request(db: Database, kind: str, site: str, secret: str) -> State:
    """Ask to be paired, or ask how the request stands: the same secret gives the same
    answer, so a page reloaded while waiting keeps its code."""
    if kind not in set(DeviceKind):
        raise Refused(f"unknown kind '{kind}'", "bad_kind")
    if len(secret) < MIN_SECRET:
        raise Refused(f"the secret needs at least {MIN_SECRET} characters", "bad_secret")
    site_id = catalog.current(db).require_site(site).id
    digest = auth.token_hash(secret)
    now = utcnow()
    with db.write() as s:
        device = s.scalar(select(Device).where(Device.token_hash == digest))
        if device is not None:
            if device.revoked_at is not None:
                raise Conflict("this secret belonged to a revoked device", "revoked")
            return State("approved", device=_described(s, device))
        pairing = s.scalar(select(Pairing).where(Pairing.secret_hash == digest))
        if pairing is not None and pairing.expires_at > now:
            return State("pending", shown(pairing.code), pairing.expires_at)
        if pairing is not None:
            s.delete(pairing)  # run out: a new code below
            s.flush()
        waiting = s.scalar(
            select(func.count()).select_from(Pairing).where(Pairing.expires_at > now)
        )
        if (waiting or 0) >= MAX_PENDING:
            raise TooMany("too many devices are waiting to be paired; try again later")
        taken = set(s.scalars(select(Pairing.code)))
        code = _new_code()
        while code in taken:
            code = _new_code()
        pairing = Pairing(
            code=code,
            secret_hash=digest,
            kind=kind,
            site_id=site_id,
            created_at=now,
            expires_at=now + LIFETIME,
        )
        s.add(pairing)
        return State("pending", shown(code), pairing.expires_at)


def _described(s: Session, device: Device) -> dict[str, str]:
    site = s.get(Site, device.site_id)
    return {"kind": device.kind, "site": site.slug if site else "", "name": device.name}


def pending(db: Database, site_ids: list[int]) -> list[Pending]:
    """Requests still waiting for one of these sites, oldest first."""
    now = utcnow()
    with db.read() as s:
        rows = s.execute(
            select(Pairing, Site.slug)
            .join(Site, Site.id == Pairing.site_id)
            .where(Pairing.site_id.in_(site_ids), Pairing.expires_at > now)
            .order_by(Pairing.created_at)
        ).all()
    return [Pending(shown(p.code), p.kind, slug, p.created_at, p.expires_at) for p, slug in rows]


def approve(
    db: Database, typed_code: str, site: str, kind: str, name: str, actor: audit.Actor
) -> int:
    """Turn a waiting request into a device of `site`, in one transaction; its id."""
    if kind not in set(DeviceKind):
        raise Refused(f"unknown kind '{kind}'", "bad_kind")
    name = name.strip()
    if not name or len(name) > 64:
        raise Refused("a device needs a name of 1 to 64 characters", "bad_name")
    site_id = catalog.current(db).require_site(site).id
    with db.write() as s:
        pairing = s.scalar(
            select(Pairing).where(
                Pairing.code == normalised(typed_code), Pairing.expires_at > utcnow()
            )
        )
        if pairing is None:
            raise NotFound("no device is waiting with this code", "unknown_code")
        device = Device(
            site_id=site_id,
            kind=DeviceKind(kind),
            name=name,
            token_hash=pairing.secret_hash,
            settings={},
        )
        s.add(device)
        s.delete(pairing)
        s.flush()
        audit.record(
            s,
            actor,
            "device.paired",
            f"{site}/devices/{name}",
            None,
            {"kind": kind, "name": name, "code": shown(pairing.code)},
            site_id,
        )
        device_id = device.id
    auth.forget_tokens()  # a page that asked with its secret before is known now
    return device_id
