"""Failed log-ins are limited per account and per client address, with growing waits; refusals are
recorded for administrators; an unknown name is answered exactly like a wrong password."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, login, make_user


@pytest.fixture
def people(db):
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="admin")
    make_user(db, username="zhangwei", role="hr")
    db.commit()


def attempt(client: TestClient, username: str, password: str):
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False)


def test_the_account_is_locked_after_five_failures_even_for_the_right_password(client, people):
    for _ in range(5):
        assert attempt(client, "hr", "wrong-guess").status_code == 401
    locked = attempt(client, "hr", "wrong-guess")
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "登录失败次数过多" in locked.text
    right = attempt(client, "hr", PASSWORD)
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert attempt(client, "boss", PASSWORD).status_code == 303  # another account is not affected


def test_the_lock_ends_with_its_window_and_the_next_one_is_longer(client, clock, people):
    for _ in range(5):
        attempt(client, "hr", "wrong-guess")
    wait = int(attempt(client, "hr", PASSWORD).headers["Retry-After"])
    clock.advance(seconds=wait)
    assert attempt(client, "hr", PASSWORD).status_code == 303
    client.cookies.clear()
    for _ in range(5):  # ten failures within a quarter hour: the 15-minute window is exhausted
        assert attempt(client, "hr", "wrong-guess").status_code == 401
    longer = attempt(client, "hr", PASSWORD)
    assert longer.status_code == 429 and int(longer.headers["Retry-After"]) > 60
    clock.advance(seconds=61)
    assert attempt(client, "hr", PASSWORD).status_code == 429  # the minute is over, the quarter hour is not


def test_the_account_limit_ignores_case_and_spaces(client, people):
    for name in ("hr", "HR", " Hr ", "hR", "hr "):
        attempt(client, name, "wrong-guess")
    assert attempt(client, "hr", PASSWORD).status_code == 429


def test_one_address_trying_many_names_is_limited(client, people):
    for i in range(20):
        assert attempt(client, f"guess{i}", "wrong-guess").status_code == 401
    blocked = attempt(client, "hr", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) <= 60


def test_an_unknown_name_is_answered_like_a_wrong_password(client, people, monkeypatch):
    from trainquant.auth import service

    verified = []

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, hash_, password):
            verified.append(hash_)
            return real.verify(hash_, password)

    real = service._hasher
    monkeypatch.setattr(service, "_hasher", CountingHasher())

    def answer(username):
        resp = attempt(client, username, "wrong-guess")
        return resp.status_code, re.sub(re.escape(username), "NAME", resp.text), sorted(resp.headers)

    assert answer("zhangwei") == answer("wangfang")
    assert len(verified) == 2  # an argon2 verification each: the dummy hash for the unknown name
    for _ in range(4):
        attempt(client, "wangfang", "wrong-guess")
        attempt(client, "zhangwei", "wrong-guess")
    known, unknown = attempt(client, "zhangwei", "x" * 9), attempt(client, "wangfang", "x" * 9)
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]


def test_refusals_are_recorded_and_shown_to_admins_only(client, db, people):
    from trainquant.auth.models import LoginFailure

    attempt(client, "hr", "wrong-guess")
    attempt(client, "nobody", "wrong-guess")
    for _ in range(4):
        attempt(client, "hr", "wrong-guess")
    attempt(client, "hr", PASSWORD)  # throttled
    rows = db.scalars(select(LoginFailure).order_by(LoginFailure.id)).all()
    assert [(r.username, r.known_user, r.reason) for r in rows] == (
        [("hr", True, "wrong-password"), ("nobody", False, "wrong-password")] + [("hr", True, "wrong-password")] * 4 + [("hr", True, "throttled")]
    )
    assert rows[0].client_address == "testclient" and rows[0].at is not None

    token = login(client, "boss")
    page = client.get("/api/v1/login-failures", params={"page_size": 2}).json()
    assert page["total"] == 7 and len(page["items"]) == 2
    assert page["items"][0]["reason"] == "throttled"  # newest first
    only = client.get("/api/v1/login-failures", params={"username": "nobody"}).json()
    assert [i["known_user"] for i in only["items"]] == [False]
    assert token
    with TestClient(client.app) as other:
        login(other, "zhangwei")
        assert other.get("/api/v1/login-failures").status_code == 403


def test_an_inactive_users_refusal_is_recorded_as_such(client, db, people):
    from trainquant.auth.models import LoginFailure, User

    db.execute(User.__table__.update().where(User.username == "zhangwei").values(is_active=False))
    db.commit()
    wrong = attempt(client, "wangfang", PASSWORD)
    inactive = attempt(client, "zhangwei", PASSWORD)
    assert inactive.status_code == wrong.status_code == 401
    assert inactive.text.replace("zhangwei", "NAME") == wrong.text.replace("wangfang", "NAME")
    assert db.scalars(select(LoginFailure.reason).order_by(LoginFailure.id)).all() == ["wrong-password", "inactive"]


def test_admins_see_failed_logins_on_a_page(client, people):
    attempt(client, "wangfang", "wrong-guess")
    login(client, "boss")
    page = client.get("/admin/login-failures")
    assert page.status_code == 200 and "登录失败记录" in page.text
    assert "wangfang" in page.text and 'data-reason="wrong-password"' in page.text
    assert 'href="/admin/login-failures"' in page.text  # in the admin's navigation
    with TestClient(client.app) as other:
        login(other, "zhangwei")
        assert other.get("/admin/login-failures").status_code == 403
        assert 'href="/admin/login-failures"' not in other.get("/").text


def test_the_nightly_housekeeping_deletes_refusals_older_than_the_keep_days(app, db, session_factory, clock, people):
    from datetime import timedelta

    from trainquant.auth.models import LoginFailure
    from trainquant.jobs.tasks import Jobs

    old = clock.now() - timedelta(days=400)
    db.add_all([
        LoginFailure(at=old, username="ghost", user_id=None, known_user=False, client_address="10.0.0.1", reason="wrong-password"),
        LoginFailure(at=clock.now() - timedelta(days=10), username="ghost", user_id=None, known_user=False, client_address="10.0.0.1", reason="wrong-password"),
    ])
    db.commit()
    jobs = Jobs(app.state.settings, lambda: session_factory, clock.now, immediate=True)
    assert jobs._housekeeping() == 1
    kept = db.scalars(select(LoginFailure.at)).all()
    assert kept == [clock.now() - timedelta(days=10)]
