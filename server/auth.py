"""Who is asking, and what they may do: staff accounts, device tokens and capabilities.

Passwords are hashed with scrypt (slow on purpose). Bearer tokens, for staff and devices
alike, are 256-bit random strings, so a single SHA-256 suffices to store them safely and
costs microseconds per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, bus, catalog, credentials, i18n, signin_limits
from .cache import TTLCache
from .db import Database
from .errors import NotFound
from .models import Device, Membership, StaffToken, User, utcnow

STAFF_TOKEN_LIFETIME = timedelta(hours=12)
# Where a staff page's session keeps the id of its sign-in (a StaffToken of kind "page"):
# the pages and the counter's Socket.IO connection share its expiry and its revocation.
SESSION_KEY = "staff_session"
# What a staff token is for: the API's bearer header, or a page session's cookie. Neither
# opens the other, so the id a cookie carries is no bearer token for the API.
API = "api"
PAGE = "page"
# Resolved tokens are remembered this long, so a kiosk's or a counter's every request
# does not cost three queries (a counter calls every 10-30 s: a shorter time missed most).
# Every revocation, sign-out and change of an account is announced to every process,
# which forgets them all at once (forget_tokens); this time bounds only how long a staff
# token outlives its expiry, and a change made behind the server's back (in the database).
PRINCIPAL_TTL_S = 60.0


@cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so that the time a
    refusal takes does not tell which usernames exist. Made on first use: it is slow."""
    return generate_password_hash("seira-timing-equaliser")


class Role(StrEnum):
    STAFF = "staff"
    MEDIATOR = "mediator"  # an intercultural mediator or interpreter: joins calls, no counter
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"


class Can(StrEnum):
    """Capabilities checked by the API, always against one site."""

    READ_SERVICES = "read_services"  # services and reasons, as the kiosk shows them
    ISSUE = "issue"  # take a ticket
    READ_COUNTERS = "read_counters"
    READ_QUEUE = "read_queue"  # waiting counts and who is served where
    OPERATE = "operate"  # call next and act on tickets
    REPORTS = "reports"
    CONFIGURE = "configure"  # the site's own hours, services, counters, devices and staff
    MANAGE = "manage"  # what every site shares: the reason taxonomy, new sites, the audit log
    MEDIATE = "mediate"  # say one is free to interpret, and join visits at counters


_STAFF = {Can.READ_SERVICES, Can.ISSUE, Can.READ_COUNTERS, Can.READ_QUEUE, Can.OPERATE}
ROLE_CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.MEDIATOR: frozenset({Can.READ_QUEUE, Can.MEDIATE}),
    Role.STAFF: frozenset(_STAFF),
    Role.SUPERVISOR: frozenset(_STAFF | {Can.REPORTS, Can.CONFIGURE}),
    Role.ADMIN: frozenset(_STAFF | {Can.REPORTS, Can.CONFIGURE, Can.MANAGE}),
}
DEVICE_CAPABILITIES: dict[str, frozenset[Can]] = {
    DeviceKind.KIOSK: frozenset({Can.READ_SERVICES, Can.ISSUE}),
    DeviceKind.DISPLAY: frozenset({Can.READ_SERVICES, Can.READ_COUNTERS, Can.READ_QUEUE}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a staff user or a device, with capabilities per site id."""

    kind: str  # "staff" or a DeviceKind
    name: str
    user_id: int | None = None
    device_id: int | None = None
    capabilities: dict[int, frozenset[Can]] = field(default_factory=dict)
    must_change_password: bool = False  # a staff member who may do nothing else yet
    trained_at: frozenset[int] = frozenset()  # sites where it may see sensitive reasons

    def can(self, capability: Can, site_id: int) -> bool:
        return capability in self.capabilities.get(site_id, frozenset())

    @property
    def site_ids(self) -> list[int]:
        return sorted(self.capabilities)

    def can_everywhere(self, capability: Can, site_ids: Iterable[int]) -> bool:
        """Whether it holds `capability` at every one of these sites (and there are some):
        what a change that every site shares needs."""
        ids = list(site_ids)
        return bool(ids) and all(self.can(capability, site_id) for site_id in ids)

    @property
    def actor(self) -> audit.Actor:
        """Who this is, as the audit log names them."""
        return audit.Actor(self.name, self.user_id)


class AuthError(ValueError):
    """Bad credentials or bad account data."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _site_id(db: Database, slug: str) -> int:
    try:
        return catalog.current(db).require_site(slug).id
    except NotFound as exc:
        raise AuthError(exc.message) from None


def add_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    site: str,
    actor: audit.Actor = audit.COMMAND_LINE,
    languages: list[str] | None = None,
) -> int:
    """Create the user, or set the password and add the role if the username exists; with
    `languages`, also the languages the person speaks with visitors (else kept, or Greek
    for a new user)."""
    if role not in set(Role):
        raise AuthError(f"unknown role '{role}': one of {', '.join(Role)}")
    try:
        chosen = None if languages is None else i18n.spoken(languages)
    except ValueError as exc:
        raise AuthError(str(exc)) from None
    problem = credentials.username_problem(username) or credentials.password_problem(
        username, password
    )
    if problem:
        raise AuthError(problem)
    with db.write() as s:
        site_id = _site_id(db, site)
        user = s.scalar(select(User).where(User.username == username))
        target = f"users/{username}"
        if user is None:
            user = User(username=username, password_hash="")
            s.add(user)
            audit.record(s, actor, "user.added", target, site_id=site_id)
        else:
            audit.record(s, actor, "user.password_set", target, site_id=site_id)
        user.password_hash = generate_password_hash(password)
        user.active = True
        s.flush()
        membership = s.get(Membership, (user.id, site_id))
        if membership is None:
            s.add(Membership(user_id=user.id, site_id=site_id, role=role))
            audit.record(s, actor, "role.changed", target, None, {"role": role}, site_id)
        elif membership.role != role:
            before = {"role": membership.role}
            membership.role = role
            audit.record(s, actor, "role.changed", target, before, {"role": role}, site_id)
        if chosen is not None and chosen != user.languages:
            before = {"languages": user.languages or ["el"]}
            user.languages = chosen
            audit.record(s, actor, "user.languages", target, before, {"languages": chosen}, site_id)
        return user.id


def add_device(
    db: Database,
    site: str,
    kind: str,
    name: str,
    settings: dict | None = None,
    actor: audit.Actor = audit.COMMAND_LINE,
) -> str:
    """Register a kiosk or display and return its token; only the token's hash is kept."""
    token = new_token()
    with db.write() as s:
        site_id = _site_id(db, site)
        s.add(
            Device(
                site_id=site_id,
                kind=DeviceKind(kind),
                name=name,
                token_hash=token_hash(token),
                settings=settings or {},
            )
        )
        after = {"kind": str(kind), "name": name, **({"settings": settings} if settings else {})}
        audit.record(s, actor, "device.added", f"{site}/devices/{name}", None, after, site_id)
    return token


def revoke_devices(
    db: Database, site: str, name: str, actor: audit.Actor = audit.COMMAND_LINE
) -> list[int]:
    """Revoke every live device of that name at the site (re-registering replaces a token);
    returns their ids."""
    now = utcnow()
    with db.write() as s:
        site_id = _site_id(db, site)
        devices = s.scalars(
            select(Device).where(
                Device.site_id == site_id, Device.name == name, Device.revoked_at.is_(None)
            )
        ).all()
        for device in devices:
            device.revoked_at = now
            audit.record(
                s,
                actor,
                "device.revoked",
                f"{site}/devices/{name}",
                {"kind": device.kind},
                None,
                site_id,
            )
    forget_tokens()
    return [device.id for device in devices]


def devices_of(db: Database, site_id: int) -> list[dict[str, Any]]:
    """A site's devices in service, newest first: name, kind, printer, since when."""
    with db.read() as s:
        rows = s.scalars(
            select(Device)
            .where(Device.site_id == site_id, Device.revoked_at.is_(None))
            .order_by(Device.created_at.desc(), Device.id.desc())
        ).all()
    return [
        {
            "id": d.id,
            "name": d.name,
            "kind": d.kind,
            "printer": (d.settings or {}).get("printer"),
            "created_at": d.created_at,
        }
        for d in rows
    ]


def sign_in(
    db: Database, username: str, password: str, address: str = "", kind: str = API
) -> tuple[str, datetime, Principal]:
    """Check a password and hand out a token of `kind`: an API bearer token, or a page
    session's id. Too many failures lately, for the username or the address, pause it
    (signin_limits.LockedOut) before any password is checked."""
    now = utcnow()
    with db.read() as s:
        signin_limits.check(s, username, address, now)
        user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        check_password_hash(_dummy_hash(), password)
    if user is None or not check_password_hash(user.password_hash, password):
        with db.write() as s:
            who = audit.Actor(username[:200], user.id if user else None)
            audit.record(s, who, "signin.failed", f"users/{username}"[:200])
            signin_limits.failed(s, username[:200], address, now)
        raise AuthError("wrong username or password")
    token, expires = grant_token(db, user.id, audit.Actor(user.username, user.id), kind)
    return token, expires, _staff_principal(db, user)


def grant_token(
    db: Database, user_id: int, signed_in: audit.Actor | None = None, kind: str = API
) -> tuple[str, datetime]:
    """A new token of `kind` for a user whose identity is already established.

    With `signed_in`, the sign-in it is for is logged in the same transaction, and the
    account's failed attempts are forgotten."""
    token = new_token()
    expires = utcnow() + STAFF_TOKEN_LIFETIME
    with db.write() as s:
        s.add(
            StaffToken(token_hash=token_hash(token), user_id=user_id, expires_at=expires, kind=kind)
        )
        if signed_in is not None:
            audit.record(s, signed_in, "signin", f"users/{signed_in.name}")
            signin_limits.succeeded(s, signed_in.name)
    return token, expires


def _staff_principal(db: Database, user: User) -> Principal:
    with db.read() as s:
        memberships = s.execute(
            select(Membership.site_id, Membership.role, Membership.trained).where(
                Membership.user_id == user.id
            )
        ).all()
    return Principal(
        kind="staff",
        name=user.username,
        user_id=user.id,
        # until it has chosen its own password, an account may do nothing at all
        capabilities={}
        if user.must_change_password
        else {site_id: ROLE_CAPABILITIES[role] for site_id, role, _ in memberships},
        must_change_password=user.must_change_password,
        trained_at=frozenset(site_id for site_id, _, trained in memberships if trained),
    )


_principals: TTLCache[tuple[str, str, str], Principal | None] = TTLCache(PRINCIPAL_TTL_S)


def sign_out(db: Database, token: str) -> None:
    """Sign out: this token and every other session and API token of the same person are
    refused from now on, wherever they were copied to, and the sign-out is in the audit
    log. (A front desk signs out at the end of a shift; a forgotten session elsewhere
    should end with it.)"""
    digest = token_hash(token)
    with db.write() as s:
        row = s.get(StaffToken, digest)
        if row is None:
            return
        user = s.get(User, row.user_id)
        s.execute(delete(StaffToken).where(StaffToken.user_id == row.user_id))
        if user is not None:
            audit.record(
                s, audit.Actor(user.username, user.id), "signout", f"users/{user.username}"
            )
    forget_tokens()


def forget_tokens() -> None:
    """Drop remembered principals, after a revocation: here and in every other process
    (server/bus.py), so that a token signed out on one is refused by all at once."""
    bus.announce("tokens")


bus.on("tokens", lambda _value: _principals.forget())


def authenticate(db: Database, token: str, kind: str = API) -> Principal | None:
    """The principal a token stands for, or None if it is unknown, revoked or old. An API
    bearer token is a device's or a staff member's of kind "api"; a page session's id
    (kind "page") stands for its staff member on the pages and their socket only."""
    digest = token_hash(token)
    return _principals.get((db.url, kind, digest), lambda: _lookup(db, digest, kind))


def _lookup(db: Database, digest: str, kind: str) -> Principal | None:
    with db.read() as s:
        device = (
            s.scalar(select(Device).where(Device.token_hash == digest, Device.revoked_at.is_(None)))
            if kind == API
            else None
        )
        if device is not None:
            return Principal(
                kind=device.kind,
                name=device.name,
                device_id=device.id,
                capabilities={device.site_id: DEVICE_CAPABILITIES[device.kind]},
            )
        user = s.scalar(
            select(User)
            .join(StaffToken, StaffToken.user_id == User.id)
            .where(
                StaffToken.token_hash == digest,
                StaffToken.kind == kind,
                StaffToken.expires_at > utcnow(),
                User.active.is_(True),
            )
        )
    return None if user is None else _staff_principal(db, user)
