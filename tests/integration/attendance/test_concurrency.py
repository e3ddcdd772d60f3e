"""Concurrent requests against one real server on a SQLite file: API batches and terminal uploads at
the same time all land. (A request waiting for SQLite's write lock on the event loop used to stall
the request holding it until the busy timeout, and one of them got 503.)"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx

from tests.conftest import NOW, make_api_key, make_department, make_employee, make_site
from tests.e2e.live import live_server
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import CheckinEvent, Device
from trainquant.db import make_sessionmaker, unit_of_work
from trainquant.org.models import ExternalId
from trainquant.training.models import Enrolment

START = NOW - timedelta(hours=3)


def _school(engine, scopes=("attendance:write",)) -> str:
    with unit_of_work(make_sessionmaker(engine)) as db:
        dep = make_department(db, code="TEACH")
        site = make_site(db, code="BJ")
        people = []
        for i in range(200):
            emp = make_employee(db, employee_no=f"T{i:03d}", department=dep, site=site)
            db.add(ExternalId(employee_id=emp.id, system="device_pin", external_id=str(1000 + i)))
            people.append(emp)
        session = make_session(db, program=make_program(db, code="CI"), code="CI-1", starts_at=START, hours=2, site=site)
        db.add_all([Enrolment(session_id=session.id, employee_id=e.id, status="approved", source="hr", created_at=START, updated_at=START)
                    for e in people])
        session.venue_id = site.venues[0].id
        session.checkin_methods = ["face", "fingerprint"]
        for sn in ("ZK-A", "ZK-B"):
            db.add(Device(device_id=sn, kind="zkteco", venue_id=site.venues[0].id, site_id=site.id, active=True))
        return make_api_key(db, scopes=list(scopes))


def test_api_batches_and_terminal_uploads_at_the_same_time_all_land(cli_engine):
    key = _school(cli_engine)
    answers: list[tuple[str, int, str]] = []

    def api_client(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            for b in range(3):
                events = [{"event_id": f"c{n}-b{b}-{i}", "employee_no": f"T{i % 200:03d}", "session": "CI-1", "kind": "in",
                           "at": (START + timedelta(minutes=i % 120)).isoformat(), "method": "face", "device_id": "ZK-A"} for i in range(400)]
                r = c.post("/api/v1/attendance/events", json={"events": events})
                answers.append(("api", r.status_code, r.text[:200]))

    def terminal(sn: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            for b in range(3):
                local = START + timedelta(hours=8, minutes=b)  # the terminal's own clock, Shanghai
                body = "".join(f"{1000 + i}\t{local:%Y-%m-%d %H:%M}:{i % 60:02d}\t0\t15\t0\t0\n" for i in range(50))
                r = c.post("/iclock/cdata", params={"SN": sn, "table": "ATTLOG", "Stamp": str(b)}, content=body)
                answers.append((sn, r.status_code, r.text[:200]))

    with live_server(cli_engine.url.render_as_string(hide_password=False), NOW) as base:
        threads = [threading.Thread(target=api_client, args=(n,)) for n in range(3)] + [threading.Thread(target=terminal, args=(sn,)) for sn in ("ZK-A", "ZK-B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    assert len(answers) == 15
    assert [a for a in answers if a[1] != 200 or (a[0] != "api" and not a[2].startswith("OK"))] == []
    with make_sessionmaker(cli_engine)() as db:
        stored = db.query(CheckinEvent).filter(CheckinEvent.verdict == "accepted").count()
    assert stored == 3 * 3 * 400 + 2 * 3 * 50


def test_a_slow_upload_does_not_hold_the_write_lock_while_it_arrives(cli_engine):
    """An import whose file trickles in must not keep check-ins waiting: the lock is taken only to store."""
    key = _school(cli_engine, scopes=("attendance:write", "import:write"))
    boundary = "tq-slow-upload"
    csv = "employee_no,name,department_code\r\nT999,新同事,TEACH\r\n".encode()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"new.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    uploading, checked_in, finished = threading.Event(), threading.Event(), {}

    def slow_body():
        yield head + csv[:10]
        uploading.set()
        # The rest of the file stays on its way until the check-in has its answer (or for 20 s, when a
        # lock taken on arrival keeps the check-in waiting behind this upload).
        finished["answered_while_uploading"] = checked_in.wait(20)
        yield csv[10:] + tail

    def upload():
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            r = c.post("/api/v1/imports/employees", content=slow_body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"})
            finished["upload"] = (time.monotonic(), r.status_code)

    def check_in():
        assert uploading.wait(10)
        event = {"event_id": "during-upload", "employee_no": "T001", "session": "CI-1", "kind": "in", "at": START.isoformat(), "method": "face", "device_id": "ZK-A"}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            r = c.post("/api/v1/attendance/events", json=event)
            finished["check_in"] = (time.monotonic(), r.status_code)
        checked_in.set()

    with live_server(cli_engine.url.render_as_string(hide_password=False), NOW) as base:
        threads = [threading.Thread(target=upload), threading.Thread(target=check_in)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert finished["check_in"][1] == 200 and finished["upload"][1] in (200, 201)
    assert finished["answered_while_uploading"]  # answered while the file was still arriving
    assert finished["check_in"][0] < finished["upload"][0]
