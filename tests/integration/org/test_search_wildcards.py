"""Search text is matched literally: ``%`` and ``_`` are characters, not SQL LIKE wildcards."""

from __future__ import annotations

from tests.conftest import login, make_department, make_employee, make_user


def test_employee_search_matches_percent_and_underscore_literally(client, db):
    dep = make_department(db, code="TEACH")
    make_employee(db, employee_no="A001", department=dep, name="李雷")
    make_employee(db, employee_no="B_02", department=dep, name="韩梅梅")
    make_employee(db, employee_no="C003", department=dep, name="王芳 100%")
    make_user(db, username="hr", role="hr")
    db.commit()
    login(client, "hr")

    def found(q: str) -> list[str]:
        return sorted(e["employee_no"] for e in client.get("/api/v1/employees", params={"q": q}).json()["items"])

    assert found("%") == ["C003"]
    assert found("_") == ["B_02"]
    assert found("\\") == []
    assert found("B_0") == ["B_02"]
    assert found("A0") == ["A001"]


def test_the_contains_helper_escapes_its_own_escape_character(db):
    from sqlalchemy import literal, select

    from trainquant.db import contains_text

    assert db.scalar(select(contains_text(literal("a\\b"), "\\"))) == 1
    assert db.scalar(select(contains_text(literal("ab"), "\\"))) == 0
    assert db.scalar(select(contains_text(literal("A\\%B"), "a\\%"))) == 1
    assert db.scalar(select(contains_text(literal("AxB"), "a_b"))) == 0
