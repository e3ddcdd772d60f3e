from tests.conftest import login, make_user


def test_login_and_me(client, db):
    make_user(db, username="boss", role="admin")
    db.commit()
    login(client, "boss")
    me = client.get("/api/v1/me").json()
    assert me["role"] == "admin"


def test_an_api_key_is_recognised_and_its_last_use_recorded_once_a_minute(client, db, clock):
    from sqlalchemy import select

    from tests.conftest import make_api_key
    from trainquant.auth.models import ApiKey

    key = make_api_key(db, scopes=["org:read"])
    db.commit()

    def last_used():
        db.expire_all()
        return db.scalar(select(ApiKey.last_used_at))

    def call(token=key):
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    assert last_used() is None
    assert call() == 200 and last_used() == clock.now()
    first = clock.now()
    clock.advance(seconds=30)
    assert call() == 200 and last_used() == first  # not rewritten within the minute
    clock.advance(seconds=31)
    assert call() == 200 and last_used() == clock.now()
    assert call(key[:-2] + "xx") == 401 and call("nonsense") == 401
