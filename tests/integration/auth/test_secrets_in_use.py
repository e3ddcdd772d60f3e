"""A session cookie signed with a key from the source code (the old built-in one) logs nobody in."""

from __future__ import annotations

import base64
import json

from itsdangerous import TimestampSigner

from tests.conftest import make_user

OLD_BUILT_IN_KEY = "dev-insecure-secret-key-change-me"


def forged_cookie(secret: str, uid: int) -> str:
    data = base64.b64encode(json.dumps({"uid": uid, "epoch": 0}).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_cookie_signed_with_the_old_built_in_key_is_refused(client, db):
    admin = make_user(db, username="boss", role="admin")
    db.commit()
    client.cookies.set("tq_session", forged_cookie(OLD_BUILT_IN_KEY, admin.id))
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/apikeys", json={"name": "mine", "scopes": ["users:admin"]}).status_code == 401


def test_a_cookie_signed_with_the_apps_own_key_works(client, app, db):
    admin = make_user(db, username="boss", role="admin")
    db.commit()
    client.cookies.set("tq_session", forged_cookie(app.state.settings.secret_key, admin.id))
    assert client.get("/api/v1/me").status_code == 200
