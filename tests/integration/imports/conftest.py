"""An HR user logged in through the real form, and the organisation the import files refer to."""

from __future__ import annotations

import pytest

from tests.conftest import login, make_department, make_site, make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["工号", "姓名", "部门", "岗位", "入职日期", "状态", "时薪", "上级工号", "校区", "邮箱", "标签", "考勤机编号"]


@pytest.fixture
def org(db):
    root = make_department(db, code="ROOT", kind="other", name="总部")
    make_department(db, code="IELTS", kind="teaching", parent=root, name="雅思组")
    make_department(db, code="MKT", kind="marketing", parent=root, name="市场部")
    make_site(db, code="BJ")
    db.commit()
    return root


@pytest.fixture
def hr(client, db, org):
    make_user(db, username="hr", role="hr")
    db.commit()
    client.headers["X-CSRF-Token"] = login(client, "hr")
    return client


def upload(client, kind: str, content: bytes, filename: str = "staff.xlsx", mode: str | None = None):
    data = {"mode": mode} if mode else {}
    mime = XLSX if filename.endswith(".xlsx") else "text/csv"
    return client.post(f"/api/v1/imports/{kind}", files={"file": (filename, content, mime)}, data=data)


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status and body["detail"] and body["title"]
    return body


def staff_rows(n: int = 3, *, start: int = 1) -> list[list]:
    rows = [HEADER]
    for i in range(start, start + n):
        rows.append([f"T{i:03d}", f"老师{i}", "IELTS" if i % 2 else "市场部", "讲师", "2024-09-01", "在职", "120.50", None, "BJ",
                     f"t{i}@school.cn", "新教师、雅思", str(1000 + i)])
    return rows
