"""Staff accounts as an admin or supervisor keeps them: people, their roles per site, new
and reset passwords, disabled accounts.

A new or reset account gets a temporary password, shown once to whoever made it, and
must choose its own at its next sign-in (`must_change_password`); until then it can do
nothing else. Resetting or disabling an account ends all its sessions at once. Who may
manage whom is one rule (`may_manage`): an administrator of every site manages everyone;
a supervisor manages the people whose every role is at sites they configure, and grants
no role above their own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, catalog, i18n
from .auth import AuthError, Can, Principal, Role, forget_tokens
from .credentials import password_problem, username_problem
from .db import Database
from .errors import Forbidden, Invalid, NotFound, Refused
from .models import Membership, StaffToken, User

RANK = {Role.MEDIATOR: 0, Role.STAFF: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}
TEMPORARY_GROUPS = 4  # of five letters and digits: about 98 bits, read out in a breath


def temporary_password() -> str:
    """Easy to read out and type once: four groups of five letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join(
        "".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(TEMPORARY_GROUPS)
    )


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    active: bool
    must_change_password: bool
    roles: dict[int, str]  # site id -> role
    trained_at: frozenset[int] = frozenset()  # sites where it may see sensitive reasons
    languages: tuple[str, ...] = ("el",)  # spoken with visitors: who their counter calls


def _as_person(user: User) -> Person:
    roles = {m.site_id: m.role for m in user.memberships}
    trained = frozenset(m.site_id for m in user.memberships if m.trained)
    return Person(
        user.id,
        user.username,
        user.active,
        user.must_change_password,
        roles,
        trained,
        tuple(user.languages or ()),
    )


def people(db: Database, site_ids: list[int]) -> list[Person]:
    """Everyone with a role at one of these sites, by username."""
    with db.read() as s:
        users = s.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.site_id.in_(site_ids))
            .distinct()
            .order_by(User.username)
        ).all()
        return [_as_person(u) for u in users]


def _administrator(who: Principal, db: Database) -> bool:
    return who.can_everywhere(Can.MANAGE, [s.id for s in catalog.current(db).sites.values()])


def _role_at(who: Principal, site_id: int) -> Role | None:
    capabilities = who.capabilities.get(site_id, frozenset())
    if Can.MANAGE in capabilities:
        return Role.ADMIN
    if Can.CONFIGURE in capabilities:
        return Role.SUPERVISOR
    return Role.STAFF if capabilities else None


def may_grant(who: Principal, db: Database, site_id: int, role: str) -> bool:
    """Whether `who` may give `role` at this site: a role no higher than their own there,
    and only where they configure."""
    if _administrator(who, db):
        return True
    own = _role_at(who, site_id)
    if own is None or not who.can(Can.CONFIGURE, site_id):
        return False
    return RANK[Role(role)] <= RANK[own]


def may_manage(who: Principal, db: Database, person: Person) -> bool:
    """Whether `who` may reset, disable or change the roles of `person`."""
    if _administrator(who, db):
        return True
    if person.id == who.user_id:
        return False  # nobody locks themselves out, or raises their own role
    return bool(person.roles) and all(
        who.can(Can.CONFIGURE, site_id) and may_grant(who, db, site_id, role)
        for site_id, role in person.roles.items()
    )


def languages_of(db: Database, user_id: int | None) -> frozenset[str]:
    """The languages a staff member speaks with visitors (none for a device or script)."""
    if user_id is None:
        return frozenset()
    with db.read() as s:
        return frozenset(s.scalar(select(User.languages).where(User.id == user_id)) or ())


def person(db: Database, user_id: int) -> Person:
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return _as_person(user)


def _require(who: Principal, db: Database, target: Person) -> None:
    if not may_manage(who, db, target):
        raise Forbidden("not allowed to manage this account")


def create(db: Database, who: Principal, username: str, site_id: int, role: str) -> str:
    """A new account with a role at one site; returns its temporary password."""
    username = username.strip()
    problem = username_problem(username)
    if problem:
        raise Refused(problem, "bad_username")
    if role not in set(Role):
        raise Refused(f"unknown role '{role}'", "bad_role")
    if not may_grant(who, db, site_id, role):
        raise Forbidden("not allowed to give this role here")
    password = temporary_password()
    with db.write() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise Refused("this username is taken", "username_taken", status=409)
        user = User(
            username=username,
            password_hash=generate_password_hash(password),
            must_change_password=True,
        )
        s.add(user)
        s.flush()
        s.add(Membership(user_id=user.id, site_id=site_id, role=role))
        target = f"users/{username}"
        audit.record(s, who.actor, "user.added", target, site_id=site_id)
        audit.record(s, who.actor, "role.changed", target, None, {"role": role}, site_id)
    return password


def set_role(db: Database, who: Principal, user_id: int, site_id: int, role: str | None) -> None:
    """Give `role` at the site, or (None) take the person's role there away."""
    target = person(db, user_id)
    _require(who, db, target)
    if role is not None and (role not in set(Role) or not may_grant(who, db, site_id, role)):
        raise Forbidden("not allowed to give this role here")
    before = target.roles.get(site_id)
    if before == role:
        return
    with db.write() as s:
        membership = s.get(Membership, (user_id, site_id))
        if role is None and membership is not None:
            s.delete(membership)
        elif membership is None:
            s.add(Membership(user_id=user_id, site_id=site_id, role=role))
        else:
            membership.role = role
        old = None if before is None else {"role": before}
        new = None if role is None else {"role": role}
        audit.record(s, who.actor, "role.changed", f"users/{target.username}", old, new, site_id)
        s.execute(delete(StaffToken).where(StaffToken.user_id == user_id))  # sign in again
    forget_tokens()


def set_trained(db: Database, who: Principal, user_id: int, site_id: int, trained: bool) -> None:
    """Mark a person as trained (or not) for the sensitive visit reasons at a site, where
    they then see those reasons on every ticket (server/need_to_know.py)."""
    target = person(db, user_id)
    _require(who, db, target)
    if site_id not in target.roles:
        raise NotFound("this person has no role at this centre")
    if (site_id in target.trained_at) == trained:
        return
    with db.write() as s:
        membership = s.get(Membership, (user_id, site_id))
        assert membership is not None
        membership.trained = trained
        target_name = f"users/{target.username}"
        before, after = {"trained": not trained}, {"trained": trained}
        audit.record(s, who.actor, "user.trained", target_name, before, after, site_id)
    forget_tokens()


def set_languages(db: Database, who: Principal, user_id: int, languages: list[str]) -> None:
    """The languages a person speaks with visitors (codes of server/i18n.py, in the
    kiosk's order). A ticket in one of them waits for them, or another speaker, while they
    are at a counter (server/queue/rules.py, Speakers). Invalid ("bad_lang") if a code is
    unknown or none is given."""
    target = person(db, user_id)
    _require(who, db, target)
    try:
        chosen = i18n.spoken(languages)
    except ValueError as exc:
        raise Invalid(str(exc), "bad_lang") from None
    if list(target.languages) == chosen:
        return
    with db.write() as s:
        user = s.get(User, user_id)
        assert user is not None
        user.languages = chosen
        before, after = {"languages": list(target.languages)}, {"languages": chosen}
        for site_id in sorted(target.roles):
            audit.record(
                s, who.actor, "user.languages", f"users/{target.username}", before, after, site_id
            )


def reset_password(db: Database, who: Principal, user_id: int) -> str:
    """A new temporary password; every session of the account ends now."""
    target = person(db, user_id)
    _require(who, db, target)
    password = temporary_password()
    with db.write() as s:
        user = s.get(User, user_id)
        assert user is not None
        user.password_hash = generate_password_hash(password)
        user.must_change_password = True
        s.execute(delete(StaffToken).where(StaffToken.user_id == user_id))
        audit.record(s, who.actor, "user.password_reset", f"users/{target.username}")
    forget_tokens()
    return password


def set_active(db: Database, who: Principal, user_id: int, active: bool) -> None:
    """Disable an account (its sessions end at once), or enable it again."""
    target = person(db, user_id)
    _require(who, db, target)
    if target.active == active:
        return
    with db.write() as s:
        user = s.get(User, user_id)
        assert user is not None
        user.active = active
        if not active:
            s.execute(delete(StaffToken).where(StaffToken.user_id == user_id))
        audit.record(
            s,
            who.actor,
            "user.enabled" if active else "user.disabled",
            f"users/{target.username}",
            {"active": not active},
            {"active": active},
        )
    forget_tokens()


def extend_administrators(
    db: Database, site_ids: list[int], new_site_ids: list[int], actor: audit.Actor
) -> None:
    """Give the administrators of all of `site_ids` the admin role at the new sites, so that
    adding a centre never takes away anyone's "every site"."""
    with db.write() as s:
        rows = s.execute(select(Membership.user_id, Membership.site_id, Membership.role)).all()
        held: dict[int, set[int]] = {}
        for user_id, site_id, role in rows:
            if role == Role.ADMIN:
                held.setdefault(user_id, set()).add(site_id)
        names = dict(s.execute(select(User.id, User.username)).all())
        for user_id, sites in held.items():
            if not set(site_ids) <= sites:
                continue
            for site_id in new_site_ids:
                if s.get(Membership, (user_id, site_id)) is None:
                    s.add(Membership(user_id=user_id, site_id=site_id, role=Role.ADMIN))
                    audit.record(
                        s,
                        actor,
                        "role.changed",
                        f"users/{names[user_id]}",
                        None,
                        {"role": Role.ADMIN.value},
                        site_id,
                    )
    forget_tokens()


def change_own_password(db: Database, user_id: int, current: str, new: str) -> None:
    """The person's own choice, after proving the current one; clears must_change and
    ends every session of the account (the page signs in again with the new one)."""
    with db.write() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise AuthError("no such account")
        if not check_password_hash(user.password_hash, current):
            raise AuthError("the current password is not right")
        problem = password_problem(user.username, new)
        if problem:
            raise AuthError(problem)
        if check_password_hash(user.password_hash, new):
            raise AuthError("choose a password other than the one you have")
        user.password_hash = generate_password_hash(new)
        user.must_change_password = False
        s.execute(delete(StaffToken).where(StaffToken.user_id == user_id))  # every session
        audit.record(
            s,
            audit.Actor(user.username, user.id),
            "user.password_changed",
            f"users/{user.username}",
        )
    forget_tokens()
