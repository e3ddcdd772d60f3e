"""What one sender sends never costs another: idempotency keys per sender, strict event bodies, deep
JSON and times at the calendar's edge refused per event or per body, junk deduplicated and capped."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import NOW, login, make_api_key, make_department, make_employee
from tests.integration.attendance.test_ingest_api import ev, post
from trainquant.attendance.models import CheckinEvent

URL = "/api/v1/attendance/events"


def _as(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _verdicts(body: dict) -> list[tuple]:
    return [(r["status"], r["reason_code"]) for r in body["results"]]


def _stored(db, **where) -> int:
    stmt = select(func.count(CheckinEvent.id))
    for k, v in where.items():
        stmt = stmt.where(getattr(CheckinEvent, k) == v)
    return db.scalar(stmt)


# ---------------------------------------------------------------- idempotency keys are their sender's


def test_two_api_keys_event_ids_are_their_own_and_a_retry_is_a_duplicate(client, school, db):
    """Client A's event "1001" made client B's "1001" (another person) a duplicate, silently dropped."""
    other = make_api_key(db, scopes=["attendance:write"], name="other-system")
    db.commit()
    mine = post(client, [ev(0, "in", event_id="1001")])
    theirs = client.post(URL, json={"events": [ev(0, "in", employee_no="T2", event_id="1001")]}, headers=_as(other)).json()
    assert _verdicts(mine) == _verdicts(theirs) == [("accepted", None)]
    again = post(client, [ev(0, "in", event_id="1001")])
    assert _verdicts(again) == [("duplicate", "duplicate")] and again["results"][0]["id"] == mine["results"][0]["id"]
    again = client.post(URL, json={"events": [ev(0, "in", employee_no="T2", event_id="1001")]}, headers=_as(other)).json()
    assert again["results"][0]["id"] == theirs["results"][0]["id"] and again["results"][0]["status"] == "duplicate"
    origins = sorted(db.scalars(select(CheckinEvent.origin)))
    assert len(set(origins)) == 2 and all(o.startswith("apikey:") for o in origins)
    assert {r.employee_ref for r in db.scalars(select(CheckinEvent))} == {"T1", "T2"}


def test_a_logged_in_user_is_the_sender_of_their_events(app, school, db):
    with TestClient(app) as c:
        csrf = login(c, "t1")
        got = c.post(URL, json={"events": [ev(0, "in", event_id="phone-1")]}, headers={"X-CSRF-Token": csrf}).json()
        assert _verdicts(got) == [("accepted", None)]
        again = c.post(URL, json={"events": [ev(0, "in", event_id="phone-1")]}, headers={"X-CSRF-Token": csrf}).json()
        assert _verdicts(again) == [("duplicate", "duplicate")]
    (event,) = db.scalars(select(CheckinEvent))
    assert event.origin.startswith("user:") and event.dedup_key == f"{event.origin}|phone-1"


def _old_api_row(db, *, key: str, employee, raw: dict) -> CheckinEvent:
    """An event stored before origins were recorded, as migration 0009 leaves it."""
    from trainquant.attendance.models import LegacyEventKey

    row = CheckinEvent(dedup_key=key, source="api", origin="api", received_at=NOW, employee_id=employee.id, employee_ref=employee.employee_no,
                       kind=raw["kind"], method=raw["method"], verdict="accepted", raw=raw)
    db.add(row)
    db.flush()
    db.add(LegacyEventKey(dedup_key=key, event_id=row.id, employee_id=employee.id))
    db.commit()
    return row


def test_an_event_stored_before_origins_is_still_a_duplicate_of_its_retry_about_the_same_person(client, school, db):
    from trainquant.attendance.checkin.keys import record_hash

    other = make_api_key(db, scopes=["attendance:write"], name="other-system")
    old = _old_api_row(db, key="api:1001", employee=school["t1"], raw=ev(0, "in", event_id="1001"))
    without_id = {k: v for k, v in ev(30, "out").items() if k != "event_id"}
    old_hashed = _old_api_row(db, key=f"api:h:{record_hash(without_id)}", employee=school["t1"], raw=without_id)
    got = post(client, [ev(0, "in", event_id="1001"), without_id])
    assert [(r["status"], r["id"]) for r in got["results"]] == [("duplicate", old.id), ("duplicate", old_hashed.id)]
    # Any key's retry (which one sent it was not recorded); about another person it is another event.
    assert client.post(URL, json=ev(0, "in", event_id="1001"), headers=_as(other)).json()["results"][0]["id"] == old.id
    theirs = client.post(URL, json=ev(0, "in", employee_no="T2", event_id="1001"), headers=_as(other)).json()
    assert _verdicts(theirs) == [("accepted", None)]
    assert _stored(db) == 3


# ---------------------------------------------------------------- bodies refused before any work


def _deep_body(depth: int) -> bytes:
    """An events body nesting ``depth`` levels: body, events list, event, evidence, then lists."""
    event = orjson.dumps({**ev(0, "in"), "evidence": {"x": 0}})
    inner = b"[" * (depth - 4) + b"]" * (depth - 4)
    return b'{"events": [' + event.replace(b'{"x":0}', b'{"x":' + inner + b"}") + b"]}"


@pytest.mark.parametrize("depth", [256, 300, 1024, 1025, 5000])
def test_json_nested_deeper_than_any_event_is_a_422(client, school, db, depth):
    resp = client.post(URL, content=_deep_body(depth), headers={"content-type": "application/json"})
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    assert _stored(db) == 0


def test_evidence_nested_a_little_is_fine(client, school, db):
    resp = client.post(URL, content=_deep_body(24), headers={"content-type": "application/json"})
    assert _verdicts(resp.json()) == [("accepted", None)]


@pytest.mark.parametrize("depth", [256, 1024])
def test_a_deep_platform_export_is_a_422(client, school, db, depth):
    hr = make_api_key(db, scopes=["attendance:manage"], name="hr-import")
    db.commit()
    body = b'{"errcode": 0, "checkindata": [{"userid": "u", "notes": ' + b"[" * (depth - 3) + b"]" * (depth - 3) + b"}]}"
    resp = client.post("/api/v1/attendance/imports/wecom", content=body, headers={**_as(hr), "content-type": "application/json"})
    assert resp.status_code == 422 and _stored(db) == 0


# ---------------------------------------------------------------- one bad event never blocks the others


EDGES = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:00:00+00:00"]


def test_times_at_the_calendars_edges_are_rejected_per_event_naming_at(client, school, db):
    batch = [ev(0, "in"), *(ev(1, "in", event_id=f"edge-{i}", at=at) for i, at in enumerate(EDGES)), ev(120, "out")]
    got = post(client, batch)
    assert _verdicts(got) == [("accepted", None), *[("rejected", "invalid")] * len(EDGES), ("accepted", None)]
    assert all(r["reason"].startswith("at:") for r in got["results"][1:-1])
    single = client.post(URL, json=ev(2, "in", event_id="edge-single", at=EDGES[0]))
    assert single.status_code == 200 and _verdicts(single.json()) == [("rejected", "invalid")]
    assert _stored(db, verdict="accepted") == 2


def test_numbers_and_booleans_sent_as_other_types_are_rejected_naming_the_field(client, school, db):
    geo = {"method": "geo", "device_id": None, "lat": school["venue"].latitude, "lng": school["venue"].longitude, "accuracy_m": 10}
    got = post(client, [
        ev(0, "in", event_id="s1", **{**geo, "lat": str(school["venue"].latitude)}),
        ev(0, "in", event_id="s2", **{**geo, "accuracy_m": True}),
        ev(0, "in", event_id="s3", **{**geo, "lng": "116.4"}),
        ev(0, "in", event_id="s4", **{**geo, "accuracy_m": "10"}),
        ev(1, "in", event_id="ok", **{**geo, "accuracy_m": 10}),  # a whole number is a number
    ])
    assert _verdicts(got) == [("rejected", "invalid")] * 4 + [("accepted", None)]
    assert [r["reason"].split(":")[0] for r in got["results"][:4]] == ["lat", "accuracy_m", "lng", "accuracy_m"]


def test_identifiers_with_control_characters_are_rejected_per_event(client, school, db):
    got = post(client, [ev(0, "in", employee_no="T\u00001", event_id="nul-1"), ev(0, "in", event_id="nul\u0000"), ev(1, "in")])
    assert _verdicts(got) == [("rejected", "invalid"), ("rejected", "invalid"), ("accepted", None)]
    assert got["results"][0]["reason"].startswith("employee_no:") and got["results"][1]["event_id"] == "nul\u0000"


# ---------------------------------------------------------------- junk cannot grow the database without bound


def test_a_rejected_record_sent_again_is_answered_as_a_repeat_of_the_stored_rejection(client, school, db):
    junk = {"kind": "sideways", "note": "no event id"}
    got = post(client, [junk, ev(5, "in", employee_no="NOBODY", event_id="x1"), junk, ev(0, "in")])
    first = got["results"][0]["id"]
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [
        ("rejected", "invalid"), ("rejected", "unknown-employee"), ("duplicate", "invalid"), ("accepted", None)]
    assert got["results"][2]["id"] == first and got["results"][2]["reason"].startswith("given twice in this batch and rejected: ")
    again = post(client, [ev(5, "in", employee_no="NOBODY", event_id="x1"), junk])
    assert _verdicts(again) == [("duplicate", "unknown-employee"), ("duplicate", "invalid")]
    assert [r["id"] for r in again["results"]] == [got["results"][1]["id"], first]
    assert _stored(db, verdict="rejected") == 2
    # Once the cause is fixed, the same record is accepted.
    make_employee(db, employee_no="NOBODY", department=make_department(db, code="LATE"), name="新来的")
    db.commit()
    assert _verdicts(post(client, [ev(5, "in", employee_no="NOBODY", event_id="x1")])) == [("accepted", None)]


def test_past_a_senders_hourly_allowance_rejections_are_answered_but_not_stored(client, school, db, app, clock, caplog):
    from trainquant.attendance.models import RejectionsPerHour

    app.state.settings = app.state.settings.model_copy(update={"rejected_per_source_per_hour": 3})
    nobody = [ev(5, "in", employee_no=f"NOBODY{i}", event_id=f"n{i}") for i in range(5)]
    got = post(client, [*nobody, ev(0, "in")])
    assert _verdicts(got) == [("rejected", "unknown-employee")] * 3 + [("rejected", "rejected-cap")] * 2 + [("accepted", None)]
    assert got["rejected_not_stored"] == 2 and [r["id"] for r in got["results"][3:5]] == [None, None]
    assert "unknown-employee" in got["results"][3]["reason"]
    assert any("not stored" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert _stored(db, verdict="rejected") == 3
    # The rest of the hour: refused again (a repeat of a stored one is still a repeat); another sender has its own allowance.
    again = post(client, nobody[2:])
    assert _verdicts(again) == [("duplicate", "unknown-employee")] + [("rejected", "rejected-cap")] * 2
    other = make_api_key(db, scopes=["attendance:write"], name="other-system")
    db.commit()
    assert _verdicts(client.post(URL, json=nobody[4], headers=_as(other)).json()) == [("rejected", "unknown-employee")]
    counts = {(h.origin, h.stored, h.refused) for h in db.scalars(select(RejectionsPerHour))}
    assert len(counts) == 2 and {c[1:] for c in counts} == {(3, 4), (1, 0)}
    # HR/IT see who tried, per hour.
    hr = make_api_key(db, scopes=["attendance:manage"], name="it")
    db.commit()
    shown = client.get("/api/v1/attendance/rejections-per-hour", headers=_as(hr)).json()
    assert shown["total"] == 2 and {(i["origin"], i["stored"], i["refused"]) for i in shown["items"]} == counts
    capped = counts - {c for c in counts if c[2] == 0}
    events = client.get("/api/v1/attendance/events", params={"origin": next(iter(capped))[0], "verdict": "rejected"}, headers=_as(hr)).json()
    assert events["total"] == 3 and {i["origin"] for i in events["items"]} == {next(iter(capped))[0]}
    clock.at = NOW + timedelta(hours=1)
    assert _verdicts(post(client, nobody[3:4])) == [("rejected", "unknown-employee")]
    assert _stored(db, verdict="rejected") == 5
