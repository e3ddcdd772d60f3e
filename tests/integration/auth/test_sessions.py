"""Ending a session ends it on the server: a copy of the cookie taken before logout, a password change or
an administrator's "sign out everywhere" no longer works for the API, the pages or changes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import PASSWORD, login, make_user

NEW_PASSWORD = "a-much-longer-passphrase"


@pytest.fixture
def people(db):
    make_user(db, username="boss", role="admin")
    make_user(db, username="hr", role="hr")
    db.commit()


def captured(client: TestClient, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """Log in and copy the cookie and CSRF token, as someone with access to the browser could."""
    token = login(client, username, password)
    return client.cookies.get("tq_session"), token


def assert_dead(app, cookie: str, token: str) -> None:
    with TestClient(app) as thief:
        thief.cookies.set("tq_session", cookie)
        assert thief.get("/api/v1/me").status_code == 401
        page = thief.get("/employees", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        change = thief.post("/api/v1/departments", json={"code": "X", "name": "X", "kind": "other"}, headers={"X-CSRF-Token": token})
        assert change.status_code == 401
        form = thief.post("/departments", data={"code": "Y", "name": "Y", "kind": "other", "csrf_token": token}, follow_redirects=False)
        assert form.status_code == 303 and form.headers["location"].startswith("/login")


def assert_alive(app, cookie: str) -> None:
    with TestClient(app) as other:
        other.cookies.set("tq_session", cookie)
        assert other.get("/api/v1/me").status_code == 200


def test_logout_ends_every_copy_of_the_cookie(app, client, people):
    cookie, token = captured(client, "hr")
    assert_alive(app, cookie)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert_dead(app, cookie, token)


def test_logout_ends_the_users_other_sessions_too(app, client, people):
    with TestClient(app) as laptop:
        cookie, token = captured(laptop, "hr")
    _, mine = captured(client, "hr")
    client.post("/logout", data={"csrf_token": mine})
    assert_dead(app, cookie, token)


def test_a_password_change_ends_other_sessions_and_keeps_the_one_that_changed(app, client, people):
    with TestClient(app) as laptop:
        old_cookie, old_token = captured(laptop, "hr")
    token = login(client, "hr")
    page = client.get("/account/password")
    assert page.status_code == 200 and 'name="current_password"' in page.text
    changed = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert changed.status_code == 200 and 'data-testid="changed"' in changed.text
    assert client.get("/api/v1/me").json()["name"] == "hr"  # the changing session was re-issued
    assert_dead(app, old_cookie, old_token)
    with TestClient(app) as fresh:
        assert fresh.get("/login").status_code == 200
        login(fresh, "hr", NEW_PASSWORD)


def test_the_password_page_refuses_a_wrong_current_password_and_short_or_differing_new_ones(app, client, people):
    token = login(client, "hr")

    def change(current, new, again):
        return client.post("/account/password", data={"csrf_token": token, "current_password": current, "new_password": new, "new_password_again": again})

    assert change("wrong-password", NEW_PASSWORD, NEW_PASSWORD).status_code == 422
    assert change(PASSWORD, "short", "short").status_code == 422
    assert change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x").status_code == 422
    same = change(PASSWORD, PASSWORD, PASSWORD)
    assert same.status_code == 422 and "新密码不能与当前密码相同" in same.text
    assert client.get("/api/v1/me").status_code == 200  # nothing changed, nobody signed out


def test_the_json_password_change_ends_other_sessions(app, client, people):
    with TestClient(app) as laptop:
        old_cookie, old_token = captured(laptop, "hr")
    token = login(client, "hr")
    wrong = client.post("/api/v1/me/password", json={"current_password": "nope-nope", "new_password": NEW_PASSWORD}, headers={"X-CSRF-Token": token})
    assert wrong.status_code == 403 and wrong.json()["type"].endswith("/wrong-password")
    done = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers={"X-CSRF-Token": token})
    assert done.status_code == 204
    assert client.get("/api/v1/me").status_code == 200
    assert_dead(app, old_cookie, old_token)


def test_an_admin_signs_a_user_out_everywhere(app, client, db, people):
    from sqlalchemy import select

    from trainquant.auth.models import User

    with TestClient(app) as victim:
        cookie, token = captured(victim, "hr")
    admin_token = login(client, "boss")
    hr_id = db.scalar(select(User.id).where(User.username == "hr"))
    assert client.post(f"/api/v1/users/{hr_id}/signout", headers={"X-CSRF-Token": admin_token}).status_code == 204
    assert client.post("/api/v1/users/999999/signout", headers={"X-CSRF-Token": admin_token}).status_code == 404
    assert_dead(app, cookie, token)
    assert client.get("/api/v1/me").status_code == 200  # the admin's own session is untouched


def test_only_an_admin_may_sign_others_out(client, db, people):
    from sqlalchemy import select

    from trainquant.auth.models import User

    token = login(client, "hr")
    boss_id = db.scalar(select(User.id).where(User.username == "boss"))
    assert client.post(f"/api/v1/users/{boss_id}/signout", headers={"X-CSRF-Token": token}).status_code == 403


def test_the_cli_signs_a_user_out_everywhere(cli_engine):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tests.conftest import NOW
    from trainquant.auth.models import User
    from trainquant.auth.service import create_user
    from trainquant.cli.main import app as cli

    with Session(cli_engine) as db:
        create_user(db, username="hr", password=PASSWORD, role="hr", now=NOW)
        db.commit()
    result = CliRunner().invoke(cli, ["user", "signout", "hr"])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["user", "signout", "nobody"]).exit_code == 1
    with Session(cli_engine) as db:
        assert db.scalar(select(User.session_epoch).where(User.username == "hr")) == 1


def test_guessing_the_current_password_is_throttled_like_logging_in(client, people):
    token = login(client, "hr")
    for _ in range(5):
        wrong = client.post("/api/v1/me/password", json={"current_password": "guess-guess", "new_password": NEW_PASSWORD}, headers={"X-CSRF-Token": token})
        assert wrong.status_code == 403
    locked = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers={"X-CSRF-Token": token})
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 60
    page = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert page.status_code == 429 and "Retry-After" in page.headers
