"""Guessing passwords: five failures lock an account for a quarter of an hour, twenty lock
an address; while locked even the right password is refused; the lockout is audited."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from server import auth, signin_limits
from server.app import create_app
from server.db import Database
from server.models import AuditEntry, SigninFailure, StaffToken, User
from tests.conftest import PASSWORD
from tests.test_counter_pages import csrf_of

FROM = {"REMOTE_ADDR": "192.0.2.7"}


def _api_sign_in(app: Flask, username: str, password: str, address: str = "192.0.2.7"):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _locks(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.execute(
            select(AuditEntry.action, AuditEntry.target).where(AuditEntry.action == "signin.locked")
        ).all()
    return [tuple(row) for row in rows]


def test_five_wrong_passwords_lock_the_account_then_it_opens_again(
    app: Flask, db: Database
) -> None:
    for _ in range(signin_limits.PER_ACCOUNT):
        assert _api_sign_in(app, "eleni", "not-the-password").status_code == 401
    locked = _api_sign_in(app, "eleni", PASSWORD)
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    # from another address too: the account itself is locked
    assert _api_sign_in(app, "eleni", PASSWORD, "198.51.100.3").status_code == 429
    assert _locks(db) == [("signin.locked", "users/eleni")]
    with db.read() as s:
        assert s.query(StaffToken).count() == 0

    # a quarter of an hour later (the failures aged by hand) the right password works
    with db.write() as s:
        for failure in s.scalars(select(SigninFailure)):
            failure.at -= timedelta(minutes=16)
    assert _api_sign_in(app, "eleni", PASSWORD).status_code == 200
    with db.read() as s:
        assert s.scalar(select(SigninFailure.id).where(SigninFailure.username == "eleni")) is None


def test_an_unknown_username_is_locked_like_a_real_one(app: Flask, db: Database) -> None:
    for _ in range(signin_limits.PER_ACCOUNT):
        assert _api_sign_in(app, "nobody-here", "whatever-it-is").status_code == 401
    assert _api_sign_in(app, "nobody-here", "whatever-it-is").status_code == 429


def test_one_address_trying_many_accounts_is_locked(app: Flask, db: Database) -> None:
    for n in range(signin_limits.PER_ADDRESS):
        assert _api_sign_in(app, f"guess-{n}", "not-the-password").status_code == 401
    assert _api_sign_in(app, "eleni", PASSWORD).status_code == 429  # this address is paused
    assert _api_sign_in(app, "eleni", PASSWORD, "198.51.100.3").status_code == 200  # not others
    assert ("signin.locked", "addresses/192.0.2.7") in _locks(db)


def test_the_sign_in_page_says_when_to_try_again(app: Flask, db: Database) -> None:
    client = app.test_client()
    client.environ_base.update(FROM)
    csrf = csrf_of(client.get("/signin").get_data(as_text=True))
    form = {"username": "eleni", "password": "not-the-password", "csrf_token": csrf}
    for _ in range(signin_limits.PER_ACCOUNT):
        assert client.post("/signin", data=form).status_code == 401
    locked = client.post("/signin", data=form | {"password": PASSWORD, "lang": "el"})
    assert locked.status_code == 429
    assert "Πάρα πολλές αποτυχημένες προσπάθειες" in locked.get_data(as_text=True)
    assert client.get("/counter/thess-east").status_code == 302  # not signed in


def test_a_page_session_id_is_not_an_api_bearer_token(app: Flask, db: Database) -> None:
    """The cookie holds the id of a page session: copied into an Authorization header, it
    opens nothing; and an API token set as the page session opens no page."""
    session_id, _ = auth.grant_token(db, _user_id(db, "eleni"), kind=auth.PAGE)
    api_token, _ = auth.grant_token(db, _user_id(db, "eleni"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {session_id}"}
    assert client.get("/api/v1/sites/thess-east/queue", headers=headers).status_code == 401
    with client.session_transaction() as session:
        session[auth.SESSION_KEY] = api_token
    assert client.get("/counter/thess-east").status_code == 302
    with client.session_transaction() as session:
        session[auth.SESSION_KEY] = session_id
    assert client.get("/counter/thess-east").status_code == 200


def _user_id(db: Database, username: str) -> int:
    with db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_behind_a_proxy_each_client_is_locked_by_its_own_address(db: Database) -> None:
    """With SEIRA_PROXIES=1 the address is the one nginx passes on: one client guessing is
    paused, the others behind the same proxy are not. Without it, the header is ignored
    (a client could name any address to escape its lockout)."""
    behind = create_app(db, TESTING=True, PROXIES="1")

    def sign_in(app: Flask, client_address: str, username: str, password: str) -> int:
        return (
            app.test_client()
            .post(
                "/api/v1/auth/token",
                json={"username": username, "password": password},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the proxy
                headers={"X-Forwarded-For": client_address},
            )
            .status_code
        )

    for n in range(signin_limits.PER_ADDRESS):
        assert sign_in(behind, "203.0.113.9", f"guess-{n}", "not-the-password") == 401
    assert sign_in(behind, "203.0.113.9", "eleni", PASSWORD) == 429
    assert sign_in(behind, "203.0.113.10", "eleni", PASSWORD) == 200
    assert ("signin.locked", "addresses/203.0.113.9") in _locks(db)
    direct = create_app(db, TESTING=True)  # no proxy: X-Forwarded-For says nothing
    for n in range(signin_limits.PER_ADDRESS):
        assert sign_in(direct, f"203.0.113.{100 + n}", f"other-{n}", "not-the-password") == 401
    assert sign_in(direct, "203.0.113.200", "eleni", PASSWORD) == 429  # all came from 127.0.0.1
