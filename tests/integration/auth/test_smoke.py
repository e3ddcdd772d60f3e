from tests.conftest import make_user, login


def test_login_and_me(client, db):
    make_user(db, username="boss", role="admin")
    db.commit()
    login(client, "boss")
    me = client.get("/api/v1/me").json()
    assert me["role"] == "admin"
