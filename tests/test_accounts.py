"""Staff accounts kept in the browser: a temporary password shown once, one's own password
chosen at the first sign-in, resets and disabling that end sessions at once, and each
supervisor managing only the people of their own sites."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import accounts, auth, credentials
from server.db import Database
from server.errors import Forbidden
from server.models import AuditEntry, User
from tests.conftest import PASSWORD
from tests.test_counter_pages import csrf_of, signed_in


def _temporary(page: str) -> str:
    found = re.search(r'class="temporary-password" lang="en"><code>([^<]+)</code>', page)
    assert found, "no temporary password on the page"
    return found.group(1)


def _sign_in(app: Flask, username: str, password: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = csrf_of(client.get("/signin").get_data(as_text=True))
    response = client.post(
        "/signin", data={"username": username, "password": password, "csrf_token": token}
    )
    return client, response.headers.get("Location", "")


def _id(db: Database, username: str) -> int:
    with db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_a_new_person_must_choose_a_password_at_first_sign_in(app: Flask, db: Database) -> None:
    boss, csrf = signed_in(app, "maria")  # supervisor of thess-east
    page = boss.post(
        "/admin/thess-east/staff", data={"username": "petros", "role": "staff", "csrf_token": csrf}
    ).get_data(as_text=True)
    temporary = _temporary(page)
    assert len(temporary) == 23  # four groups of five
    assert temporary not in boss.get("/admin/thess-east/staff").get_data(as_text=True)

    client, went = _sign_in(app, "petros", temporary)
    assert went == "/"
    for path in ("/", "/counter/thess-east", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/password")
    api = app.test_client().post(
        "/api/v1/auth/token", json={"username": "petros", "password": temporary}
    )
    assert api.status_code == 403
    assert api.get_json()["error"]["code"] == "password_change_required"

    form = client.get("/password").get_data(as_text=True)
    csrf = csrf_of(form)
    for new, repeat, field in [
        ("petros-2026", "petros-2026", "new"),  # contains the username
        ("short", "short", "new"),
        ("password1234", "password1234", "new"),  # a common one with digits added
        ("a-good-long-one", "another-one", "repeat"),
    ]:
        refused = client.post(
            "/password",
            data={"current": temporary, "new": new, "repeat": repeat, "csrf_token": csrf},
        )
        assert refused.status_code == 422
        assert f'id="err-{field}"' in refused.get_data(as_text=True)
    wrong = client.post(
        "/password",
        data={
            "current": "not-it",
            "new": "a-good-long-one",
            "repeat": "a-good-long-one",
            "csrf_token": csrf,
        },
    )
    assert 'id="err-current">Ο τρέχων κωδικός δεν είναι σωστός.' in wrong.get_data(as_text=True)
    done = client.post(
        "/password",
        data={
            "current": temporary,
            "new": "a-good-long-one",
            "repeat": "a-good-long-one",
            "csrf_token": csrf,
        },
    )
    assert done.status_code == 302
    assert client.get("/counter/thess-east").status_code == 200
    with pytest.raises(auth.AuthError):
        auth.sign_in(db, "petros", temporary)
    auth.sign_in(db, "petros", "a-good-long-one")
    with db.read() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == "users/petros")
        ).all()
    assert actions[:3] == ["user.added", "role.changed", "signin"]
    assert "user.password_changed" in actions


def test_reset_and_disable_end_the_sessions_at_once(app: Flask, db: Database) -> None:
    eleni, _ = signed_in(app, "eleni")
    assert eleni.get("/counter/thess-east").status_code == 200
    boss, csrf = signed_in(app, "maria")
    page = boss.post(
        f"/admin/thess-east/staff/{_id(db, 'eleni')}/reset", data={"csrf_token": csrf}
    ).get_data(as_text=True)
    temporary = _temporary(page)
    assert eleni.get("/counter/thess-east").status_code == 302  # the old session is over
    with pytest.raises(auth.AuthError):
        auth.sign_in(db, "eleni", PASSWORD)

    client, _ = _sign_in(app, "eleni", temporary)
    assert client.get("/").headers["Location"].startswith("/password")
    boss.post(
        f"/admin/thess-east/staff/{_id(db, 'eleni')}/active",
        data={"active": "0", "csrf_token": csrf},
    )
    assert client.get("/password").status_code == 302  # disabled: signed out
    with pytest.raises(auth.AuthError):
        auth.sign_in(db, "eleni", temporary)
    listed = boss.get("/admin/thess-east/staff").get_data(as_text=True)
    assert 'data-user="eleni"' in listed and "badge alert" in listed


def test_a_supervisor_manages_only_their_own_people_and_no_higher_role(
    app: Flask, db: Database
) -> None:
    maria = auth.authenticate(db, auth.grant_token(db, _id(db, "maria"))[0])
    assert maria is not None
    east, west = 1, 2
    with pytest.raises(Forbidden):
        accounts.create(db, maria, "boss", east, "admin")
    with pytest.raises(Forbidden):
        accounts.create(db, maria, "someone", west, "staff")
    nikos = accounts.person(db, _id(db, "nikos"))  # staff of thess-west
    assert not accounts.may_manage(maria, db, nikos)
    with pytest.raises(Forbidden):
        accounts.reset_password(db, maria, nikos.id)
    assert not accounts.may_manage(maria, db, accounts.person(db, _id(db, "maria")))  # herself
    auth.add_user(db, "both", PASSWORD, "staff", "thess-east")
    auth.add_user(db, "both", PASSWORD, "staff", "thess-west")
    assert not accounts.may_manage(maria, db, accounts.person(db, _id(db, "both")))

    client, csrf = signed_in(app, "maria")
    page = client.get("/admin/thess-east/staff").get_data(as_text=True)
    assert '<option value="admin"' not in page
    refused = client.post(
        f"/admin/thess-east/staff/{_id(db, 'both')}/reset", data={"csrf_token": csrf}
    )
    assert refused.status_code == 403
    taken = client.post(
        "/admin/thess-east/staff", data={"username": "eleni", "role": "staff", "csrf_token": csrf}
    )
    assert taken.status_code == 422 and "Αυτό το όνομα χρήστη" in taken.get_data(as_text=True)
    bad = client.post(
        "/admin/thess-east/staff",
        data={"username": "Eleni Papadopoulou", "role": "staff", "csrf_token": csrf},
    )
    assert bad.status_code == 422
    changed = client.post(
        f"/admin/thess-east/staff/{_id(db, 'eleni')}/role",
        data={"role": "supervisor", "csrf_token": csrf},
    )
    assert changed.status_code == 302
    assert accounts.person(db, _id(db, "eleni")).roles == {east: "supervisor"}


def test_signing_out_ends_the_session_even_for_a_copy_of_the_cookie(
    app: Flask, db: Database
) -> None:
    eleni, csrf = signed_in(app, "eleni")
    copy = app.test_client()
    with eleni.session_transaction() as original, copy.session_transaction() as stolen:
        stolen.update(original)  # a cookie saved before signing out
    assert copy.get("/counter/thess-east").status_code == 200
    assert eleni.post("/signout", data={"csrf_token": csrf}).status_code == 302
    assert copy.get("/counter/thess-east").status_code == 302  # sent to sign in
    with db.read() as s:
        assert "signout" in s.scalars(select(AuditEntry.action)).all()


@pytest.mark.parametrize(
    ("username", "password", "problem"),
    [
        ("eleni", "12345678", credentials.TOO_SHORT),
        ("eleni", "eight-chars", credentials.TOO_SHORT),
        ("eleni", " " * 12, credentials.BLANK),
        ("eleni", "Eleni-at-the-desk", credentials.HAS_USERNAME),
        ("eleni", "qwerty123456", credentials.COMMON),
        ("eleni", "Password1234!", credentials.COMMON),
        ("eleni", "1q2w3e4r5t6y", credentials.COMMON),
        ("eleni", "tea-by-the-window", None),
    ],
)
def test_the_password_rule(username: str, password: str, problem: str | None) -> None:
    assert credentials.password_problem(username, password) == problem


@pytest.mark.parametrize("username", ["", "Eleni", "el eni", "-eleni", "a" * 65, "ελένη"])
def test_a_username_is_lowercase_letters_digits_and_dashes(db: Database, username: str) -> None:
    assert credentials.username_problem(username) is not None
    with pytest.raises(auth.AuthError):
        auth.add_user(db, username, "tea-by-the-window", "staff", "thess-east")


def test_a_supervisor_sets_the_languages_a_person_speaks(app: Flask, db: Database) -> None:
    boss, csrf = signed_in(app, "maria")  # supervisor of thess-east
    eleni = _id(db, "eleni")
    url = f"/admin/thess-east/staff/{eleni}/languages"
    page = boss.get("/admin/thess-east/staff").get_data(as_text=True)
    assert f'action="{url}"' in page
    saved = boss.post(url, data={"languages": ["fa", "el"], "csrf_token": csrf})
    assert saved.status_code == 302
    with db.read() as s:
        assert s.scalar(select(User.languages).where(User.id == eleni)) == ["el", "fa"]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.languages")).one()
    assert (entry.before, entry.after) == ({"languages": ["el"]}, {"languages": ["el", "fa"]})
    page = boss.get("/admin/thess-east/staff").get_data(as_text=True)
    row = page[page.index('data-user="eleni"') :]
    assert '<option value="fa" lang="fa" selected>فارسی</option>' in row[: row.index("</tr>")]
    for refused in ({"languages": ["fa", "xx"]}, {}):
        answer = boss.post(url, data={**refused, "csrf_token": csrf})
        assert answer.status_code == 422
        assert 'id="languages-error"' in answer.get_data(as_text=True)
    with db.read() as s:
        assert s.scalar(select(User.languages).where(User.id == eleni)) == ["el", "fa"]
