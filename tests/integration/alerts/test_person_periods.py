"""One low-participation alert per person per month, listing its sessions; reopened by a new session,
left by a session made good; bulk handling in scope; the inbox page and its workbook in both languages;
migration 0024 merging the alerts raised one per session."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time

import pytest
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from tests.conftest import NOW
from tests.integration.alerts.conftest import SH, enrol
from tests.integration.training.conftest import make_session
from trainquant.alerts.models import Alert
from trainquant.attendance.models import AttendanceRecord
from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.migrate import alembic_config, upgrade


def _held(db, school, code, day, shares, *, hour=14):
    """A two-hour session on ``day`` with each person's share of it attended (no punches: stored figures)."""
    s = make_session(db, program=school["program"], code=code, starts_at=datetime.combine(day, time(hour), SH), hours=2,
                     site=school["site"], sequence=int(code.rsplit("-", 1)[1]) + 10)
    for person, share in shares.items():
        enrol(db, s, person)
        db.add(AttendanceRecord(session_id=s.id, employee_id=person.id, attended_seconds=int(7200 * share), scheduled_seconds=7200,
                                participation=share, late_seconds=int(7200 * (1 - share)) if share else 0, early_leave_seconds=0,
                                away=[], flags=[] if share else ["absent"], events=2 if share else 0, computed_at=NOW))
    db.commit()
    return s


def _check(hr, first="2026-07-01", last="2026-08-31"):
    got = hr.post("/api/v1/alerts/check", json={"period_start": first, "period_end": last})
    assert got.status_code == 200, got.text
    return got.json()


def _mine(hr, no):
    return sorted((a for a in hr.get("/api/v1/alerts", params={"page_size": 200}).json()["items"] if a["employee_no"] == no),
                  key=lambda a: a["period_start"])


@pytest.fixture
def august(db, school):
    t3, t4 = school["t"][2], school["t"][3]
    _held(db, school, "AUG-1", date(2026, 8, 12), {t3: 0.0, t4: 1.0})
    _held(db, school, "AUG-2", date(2026, 8, 19), {t3: 0.5, t4: 0.5})
    _held(db, school, "JUL-1", date(2026, 7, 29), {t3: 0.25})
    return school


def test_one_alert_per_person_and_month_listing_its_sessions(august, db):
    hr = august["clients"]["hr"]
    assert _check(hr)["low_participation"] == 3  # T3 in July, T3 in August, T4 in August
    july, aug = _mine(hr, "T3")
    assert (july["period_start"], july["period_end"], [i["code"] for i in july["sessions"]]) == ("2026-07-01", "2026-07-31", ["JUL-1"])
    assert (aug["period_start"], aug["period_end"]) == ("2026-08-01", "2026-08-31")
    assert [(i["code"], i["participation"], i["cause"]) for i in aug["sessions"]] == [("AUG-1", 0.0, "absent"), ("AUG-2", 0.5, "late")]
    # 60 of 240 minutes over the two; absent lost 120 minutes, late 60: absent is the month's cause.
    assert (aug["value"], aug["threshold"], aug["cause"], aug["session_code"]) == (0.25, 0.8, "absent", "AUG-2")
    assert _check(hr)["low_participation"] == 0  # again: nothing new
    assert db.scalar(select(func.count(Alert.id)).where(Alert.kind == "low-participation")) == 3


def test_a_new_session_reopens_a_handled_alert_and_a_made_good_one_leaves_it(august, db):
    hr = august["clients"]["hr"]
    _check(hr)
    aug = _mine(hr, "T3")[1]
    assert hr.post(f"/api/v1/alerts/{aug['id']}/acknowledge").status_code == 200
    _held(db, august, "AUG-3", date(2026, 8, 26), {august["t"][2]: 0.1})
    assert _check(hr)["low_participation"] == 1  # the acknowledged alert, open again: HR did not see AUG-3
    again = _mine(hr, "T3")[1]
    assert (again["id"], again["status"], again["handled_by"]) == (aug["id"], "open", None)
    assert [i["code"] for i in again["sessions"]] == ["AUG-1", "AUG-2", "AUG-3"]
    # AUG-1's late check-ins arrive: T3 was there all along.
    db.execute(text("UPDATE attendance_records SET attended_seconds = 7200, participation = 1.0, flags = '[]' "
                    "WHERE employee_id = :e AND session_id = (SELECT id FROM training_sessions WHERE code = 'AUG-1')"), {"e": august["t"][2].id})
    db.commit()
    _check(hr)
    assert [i["code"] for i in _mine(hr, "T3")[1]["sessions"]] == ["AUG-2", "AUG-3"]
    # The July alert's one session made good: nothing is left to follow up.
    db.execute(text("UPDATE attendance_records SET attended_seconds = 7200, participation = 1.0 "
                    "WHERE session_id = (SELECT id FROM training_sessions WHERE code = 'JUL-1')"))
    db.commit()
    _check(hr)
    july = _mine(hr, "T3")[0]
    assert (july["status"], july["handled_by"], july["sessions"]) == ("resolved", "system", [])


def test_bulk_handling_stays_in_scope_and_skips_with_reasons(august, db):
    c = august["clients"]
    _check(c["hr"])
    db.add(Alert(kind="low-participation", fingerprint="lp:x", employee_id=august["m"][0].id, department_id=august["mkt"].id,
                 cause="late", detail="", suggestion={}, sessions=[], status="open", created_at=NOW))
    db.commit()
    items = c["hr"].get("/api/v1/alerts").json()["items"]
    marketing = db.scalar(select(Alert.id).where(Alert.fingerprint == "lp:x"))
    teaching = sorted(a["id"] for a in items if a["department_code"] == "TEACH")
    assert len(teaching) == 4 and marketing in {a["id"] for a in items}  # T3 July and August, T4 August, the department's pattern
    first = c["boss"].post("/api/v1/alerts/bulk", json={"action": "acknowledge", "ids": [teaching[0]]}).json()
    assert first == {"done": [teaching[0]], "skipped": []}
    got = c["boss"].post("/api/v1/alerts/bulk", json={"action": "acknowledge", "ids": [*teaching, marketing]}).json()
    assert got["done"] == teaching[1:]
    assert sorted((s["id"], s["reason"]) for s in got["skipped"]) == sorted([(teaching[0], "already-acknowledged"), (marketing, "not-found")])
    # By filter: every open alert of marketing, as its manager.
    by_filter = c["mboss"].post("/api/v1/alerts/bulk", json={"action": "resolve", "filter": {"status": "open", "department": "MKT"}}).json()
    assert by_filter == {"done": [marketing], "skipped": []}
    assert c["boss"].post("/api/v1/alerts/bulk", json={"action": "resolve", "filter": {"department": "MKT"}}).status_code == 403
    bad = c["hr"].post("/api/v1/alerts/bulk", json={"action": "acknowledge"})
    assert bad.status_code == 422 and bad.json()["code"] == "alert-bulk-target"
    assert c["hr"].post("/api/v1/alerts/bulk", json={"action": "archive", "ids": [1]}).status_code == 422
    assert c["t1"].post("/api/v1/alerts/bulk", json={"action": "acknowledge", "ids": [1]}).status_code == 403


def test_the_inbox_page_speaks_both_languages_and_managers_see_their_team(august):
    c = august["clients"]
    _check(c["hr"])
    zh = c["boss"].get("/alerts").text
    assert 'data-testid="bulk"' in zh and 'data-testid="check"' not in zh  # a manager handles, HR runs the checks
    assert "08-12 14:00：出勤 0 / 120 分钟，0%（最低 80%）；损失最多：缺勤，120 分钟" in zh
    assert "attended" not in zh
    en = c["boss"].get("/alerts", params={"lang": "en"}).text
    assert "08-12 14:00: attended 0 of 120 min, 0% (minimum 80%); most time lost: Absent, 120 min" in en
    assert c["mboss"].get("/alerts").text.count('data-alert="') == 0
    assert c["t1"].get("/alerts").status_code == 403
    # Filter by department, and bulk-acknowledge what it shows, from the page.
    page = c["hr"].get("/alerts", params={"department": "TEACH"}).text
    assert page.count('data-alert="') == 4  # T3 July and August, T4 August, the department's pattern
    done = c["hr"].post("/alerts/bulk", data={"action": "acknowledge", "every": "1", "status": "open", "department": "TEACH"},
                        follow_redirects=False)
    assert done.status_code == 303 and "done=4" in done.headers["location"] and "department=TEACH" in done.headers["location"]
    after = c["hr"].get(done.headers["location"]).text
    assert 'data-testid="bulk-done"' in after and after.count('data-alert="') == 0  # nothing open left in TEACH


def test_the_inbox_workbook_follows_the_language(august):
    hr = august["clients"]["hr"]
    _check(hr)
    for lang, header, sheet, word in (("zh_CN", "工号", "参与度预警", "缺勤"), ("en", "Employee no.", "Participation alerts", "Absent")):
        resp = hr.get("/alerts/export.xlsx", params={"lang": lang, "department": "TEACH"})
        assert resp.status_code == 200
        book = load_workbook(io.BytesIO(resp.content))
        rows = list(book[sheet].iter_rows(values_only=True))
        assert header in rows[0] and len(rows) == 1 + 4
        assert any(word in (r[rows[0].index("详情" if lang == "zh_CN" else "Detail")] or "") for r in rows[1:])


def test_migration_0024_merges_the_alerts_raised_per_session(tmp_path):
    from sqlalchemy.orm import Session

    from tests.conftest import make_department, make_employee
    from tests.integration.training.conftest import make_program

    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    upgrade(engine)
    with Session(engine) as db:
        emp = make_employee(db, employee_no="E1", department=make_department(db, code="D"))
        program = make_program(db, code="P")
        starts = (datetime(2026, 8, 3, 6, tzinfo=SH), datetime(2026, 8, 20, 6, tzinfo=SH), datetime(2026, 9, 2, 6, tzinfo=SH))
        sessions = [make_session(db, program=program, code=f"P-{i}", starts_at=at, hours=2, sequence=i) for i, at in enumerate(starts, 1)]
        for i, s in enumerate(sessions, 1):
            db.add(AttendanceRecord(session_id=s.id, employee_id=emp.id, attended_seconds=1800 * i, scheduled_seconds=7200, participation=0.25 * i,
                                    late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=1, computed_at=NOW))
        db.commit()
        ids = (emp.id, emp.department_id, [s.id for s in sessions])
    eid, did, sids = ids
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0023")
        for n, (sid, status, by) in enumerate(zip(sids, ("acknowledged", "open", "resolved"), ("hr", None, "hr"), strict=True), 1):
            conn.execute(text("INSERT INTO alerts (kind, fingerprint, employee_id, department_id, session_id, value, threshold, cause, "
                              "detail, suggestion, status, created_at, handled_by, handled_at) VALUES ('low-participation', :f, :e, :d, :s, :v, 0.8, "
                              ":c, 'x', :g, :st, '2026-09-03 00:00:00', :b, :h)"),
                         {"f": f"lp:{sid}:{eid}", "e": eid, "d": did, "s": sid, "v": 0.25 * n, "c": "absent" if n == 1 else "late",
                          "g": '{"lost_minutes": {"late": 60.0}}' if n == 2 else "{}", "st": status, "b": by, "h": "2026-09-03 00:00:00" if by else None})
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT fingerprint, status, handled_by, session_id, value, period_start, sessions FROM alerts ORDER BY id")).all()
    got = [(f, st, by, sid, v, str(ps), [i["code"] for i in json.loads(items)]) for f, st, by, sid, v, ps, items in rows]
    # August's two (one acknowledged, one open) are one open alert: 1,800 + 3,600 of 14,400 s = 0.375.
    assert got == [(f"lp:{eid}:2026-08", "open", None, sids[1], 0.375, "2026-08-01", ["P-1", "P-2"]),
                   (f"lp:{eid}:2026-09", "resolved", "hr", sids[2], 0.75, "2026-09-01", ["P-3"])]
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0023")
        back = conn.execute(text("SELECT fingerprint, session_id, status FROM alerts ORDER BY session_id")).all()
    # Each session has its own row again (the merged status is what each part gets back).
    assert back == [(f"lp:{sids[0]}:{eid}", sids[0], "open"), (f"lp:{sids[1]}:{eid}", sids[1], "open"), (f"lp:{sids[2]}:{eid}", sids[2], "resolved")]
    engine.dispose()
