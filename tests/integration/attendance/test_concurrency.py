"""Concurrent requests against one real server on a SQLite file: API batches and terminal uploads at
the same time all land. (A request waiting for SQLite's write lock on the event loop used to stall
the request holding it until the busy timeout, and one of them got 503.)"""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx

from tests.conftest import NOW, make_api_key, make_department, make_employee, make_site
from tests.e2e.live import live_server
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import CheckinEvent, Device
from trainquant.db import make_sessionmaker, unit_of_work
from trainquant.org.models import ExternalId

START = NOW - timedelta(hours=3)


def _school(engine) -> str:
    with unit_of_work(make_sessionmaker(engine)) as db:
        dep = make_department(db, code="TEACH")
        site = make_site(db, code="BJ")
        for i in range(200):
            emp = make_employee(db, employee_no=f"T{i:03d}", department=dep, site=site)
            db.add(ExternalId(employee_id=emp.id, system="device_pin", external_id=str(1000 + i)))
        session = make_session(db, program=make_program(db, code="CI"), code="CI-1", starts_at=START, hours=2, site=site)
        session.venue_id = site.venues[0].id
        session.checkin_methods = ["face", "fingerprint"]
        for sn in ("ZK-A", "ZK-B"):
            db.add(Device(device_id=sn, kind="zkteco", venue_id=site.venues[0].id, site_id=site.id, active=True))
        return make_api_key(db, scopes=["attendance:write"])


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
