"""How many wrong passwords a sign-in takes before it pauses: per account and per address.

Five failures for one username within a quarter of an hour lock that username for the rest
of the quarter; twenty from one address lock that address, so one machine cannot try many
accounts either. While locked, no password is checked at all (a right one would tell the
guesser nothing, and costs a slow hash). The start of each lockout is in the audit log. A
successful sign-in forgets the account's failures; rows older than the window go on the
next failure. Failures count for unknown usernames too, so a lockout tells nothing about
which usernames exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit
from .errors import TooMany
from .models import SigninFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20


class LockedOut(TooMany):
    """Too many failures: sign-in is paused for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.minutes = max(1, -(-retry_after // 60))
        message = f"too many failed sign-ins: try again in {self.minutes} minutes"
        super().__init__(message, retry_after, "too_many_attempts")


def _failures(s: Session, column: object, value: str, now: datetime) -> list[datetime]:
    """The times of recent failures with this username or address, newest first."""
    return list(
        s.scalars(
            select(SigninFailure.at)
            .where(column == value, SigninFailure.at > now - WINDOW)
            .order_by(SigninFailure.at.desc())
        )
    )


def check(s: Session, username: str, address: str, now: datetime) -> None:
    """Raise LockedOut if this username or this address has failed too often lately."""
    waits = []
    for column, value, limit in (
        (SigninFailure.username, username, PER_ACCOUNT),
        (SigninFailure.address, address, PER_ADDRESS),
    ):
        times = _failures(s, column, value, now)
        if len(times) >= limit:
            waits.append(times[limit - 1] + WINDOW - now)
    if waits:
        raise LockedOut(int(max(waits).total_seconds()) + 1)


def failed(s: Session, username: str, address: str, now: datetime) -> None:
    """Count a failure; when it starts a lockout, say so in the audit log."""
    s.execute(delete(SigninFailure).where(SigninFailure.at <= now - WINDOW))
    s.add(SigninFailure(username=username, address=address, at=now))
    s.flush()
    for column, value, limit, target in (
        (SigninFailure.username, username, PER_ACCOUNT, f"users/{username}"),
        (SigninFailure.address, address, PER_ADDRESS, f"addresses/{address}"),
    ):
        if len(_failures(s, column, value, now)) == limit:
            after = {"minutes": int(WINDOW.total_seconds() // 60)}
            who = audit.Actor(username[:200])
            audit.record(s, who, "signin.locked", target[:200], None, after)


def succeeded(s: Session, username: str) -> None:
    """A right password forgets the account's failures (not the address's)."""
    s.execute(delete(SigninFailure).where(SigninFailure.username == username))
