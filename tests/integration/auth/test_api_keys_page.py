"""The API keys page: a key is shown once, works at once, and stops working when revoked; admins only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import login, make_user


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
