"""The settings pages for admins: API keys (shown once, working at once, refused once revoked) and users with their roles."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, login, make_user


def test_a_key_is_made_shown_once_used_and_revoked_on_the_page(app, client, db):
    make_user(db, username="root", role="admin")
    make_user(db, username="hr", role="hr")
    db.commit()
    token = login(client, "root")
    page = client.get("/admin/api-keys").text
    assert "还没有 API 密钥" in page and "查看出勤数据和签到记录" in page  # the scopes, described
    refused = client.post("/admin/api-keys", data={"csrf_token": token, "name": "门禁", "scopes": []})
    assert refused.status_code == 422 and "请选择密钥的权限范围" in refused.text
    made = client.post("/admin/api-keys", data={"csrf_token": token, "name": "海淀考勤机", "scopes": ["org:read", "attendance:write"]})
    key = re.search(r'data-testid="key">([^<]+)<', made.text).group(1)
    assert made.status_code == 200 and "它不会再次显示" in made.text
    assert key not in client.get("/admin/api-keys").text  # once only
    with TestClient(app) as robot:
        assert robot.get("/api/v1/departments", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        key_id = re.search(r'data-key="(\d+)"', client.get("/admin/api-keys").text).group(1)
        revoked = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}, follow_redirects=False)
        assert revoked.status_code == 303
        assert robot.get("/api/v1/departments", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "已于" in client.get("/admin/api-keys").text
    with TestClient(app) as other:
        login(other, "hr")
        assert other.get("/admin/api-keys").status_code == 403


def test_users_are_added_with_their_role_and_signed_out_on_the_page(app, client, db):
    from sqlalchemy import select

    from tests.conftest import make_department, make_employee
    from trainquant.auth.models import User

    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    make_employee(db, employee_no="B1", department=teach, name="周主任")
    make_user(db, username="root", role="admin")
    db.commit()
    token = login(client, "root")
    assert "用户与角色" in client.get("/admin/users").text
    no_scope = client.post("/admin/users", data={"csrf_token": token, "username": "boss", "password": "long-enough-1", "role": "manager"})
    assert no_scope.status_code == 422 and "经理需要指定部门" in no_scope.text
    short = client.post("/admin/users", data={"csrf_token": token, "username": "boss", "password": "x", "role": "manager"})
    assert short.status_code == 422 and "密码至少" in short.text
    made = client.post("/admin/users", data={"csrf_token": token, "username": "boss", "password": "long-enough-1", "role": "manager",
                                             "employee_no": "B1", "department_code": "TEACH"}, follow_redirects=False)
    assert made.status_code == 303
    page = client.get("/admin/users").text
    row = page[page.index('data-user="boss"'):].split("</tr>")[0]
    assert "经理" in row and "周主任" in row and "教学部" in row
    taken = client.post("/admin/users", data={"csrf_token": token, "username": "boss", "password": "long-enough-1", "role": "employee"})
    assert taken.status_code == 409 and "该用户名已被使用" in taken.text
    with TestClient(app) as boss:
        login(boss, "boss", "long-enough-1")
        assert boss.get("/").status_code == 200
        user_id = db.scalar(select(User.id).where(User.username == "boss"))
        assert client.post(f"/admin/users/{user_id}/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        assert boss.get("/", follow_redirects=False).status_code == 303  # back to the login page


def test_a_role_is_changed_and_a_user_deactivated_on_the_page_but_no_admin_locks_the_school_out(app, client, db):
    from sqlalchemy import select

    from tests.conftest import make_department, make_employee
    from trainquant.auth.models import User

    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    person = make_employee(db, employee_no="T1", department=teach, name="李雷")
    make_user(db, username="root", role="admin")
    make_user(db, username="lei", role="employee", employee=person)
    db.commit()
    ids = dict(db.execute(select(User.username, User.id)).all())
    token = login(client, "root")
    post = lambda uid, **data: client.post(f"/admin/users/{uid}", data={"csrf_token": token, **data}, follow_redirects=False)  # noqa: E731
    # a manager needs a department: refused, and nothing changed
    refused = post(ids["lei"], role="manager", department_code="")
    assert refused.status_code == 422 and "经理需要指定部门" in refused.text
    db.expire_all()
    assert db.get(User, ids["lei"]).role == "employee"
    assert post(ids["lei"], role="manager", department_code="TEACH").status_code == 303
    db.expire_all()
    lei = db.get(User, ids["lei"])
    assert (lei.role, lei.department_id) == ("manager", teach.id)
    with TestClient(app) as them:
        login(them, "lei")
        assert them.get("/approvals").status_code == 200  # a manager's page, from their next request
        assert post(ids["lei"], active="0").status_code == 303
        assert them.get("/", follow_redirects=False).status_code == 303  # signed out at once
    from trainquant.auth.service import check_credentials

    db.expire_all()
    assert check_credentials(db, username="lei", password=PASSWORD).reason == "inactive"  # the right password, refused
    row = client.get("/admin/users").text.split('data-user="lei"')[1].split("</tr>")[0]
    assert "已停用" in row and 'data-testid="reactivate"' in row
    assert post(ids["lei"], active="1").status_code == 303
    # the only administrator can neither deactivate nor demote themselves
    me = post(ids["root"], active="0")
    assert me.status_code == 422 and "不能停用自己" in me.text
    assert post(ids["root"], role="hr").status_code == 422
    db.expire_all()
    assert db.get(User, ids["root"]).is_active and db.get(User, ids["root"]).role == "admin"


def test_the_last_active_administrator_stays_one_through_the_api(client, db):
    from sqlalchemy import select

    from trainquant.auth.models import User

    make_user(db, username="root", role="admin")
    make_user(db, username="other", role="admin")
    db.commit()
    ids = dict(db.execute(select(User.username, User.id)).all())
    client.headers["X-CSRF-Token"] = login(client, "root")
    root = client
    assert root.patch(f"/api/v1/users/{ids['other']}", json={"is_active": False}).status_code == 200
    # "other" is inactive now; root is the last active administrator, and an API key could not remove them either
    assert root.patch(f"/api/v1/users/{ids['root']}", json={"role": "hr"}).json()["code"] == "user-self-lockout"
    body = root.patch(f"/api/v1/users/{ids['other']}", json={"is_active": True, "role": "hr"}).json()
    assert (body["is_active"], body["role"]) == (True, "hr")
    bad = root.patch(f"/api/v1/users/{ids['other']}", json={"role": "boss"})
    assert bad.status_code == 422
    assert root.patch("/api/v1/users/999999", json={"is_active": False}).status_code == 404
