"""Training data going out: events written with their change, signed deliveries with a stable id,
a receiver down for a while and a TrainQuant restart survived, dead deliveries replayed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee
from tests.integration.indicators.conftest import ensure_assessment_kind
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import AttendanceRecord
from trainquant.integrations.outbox import service
from trainquant.integrations.outbox.models import Delivery, OutboxEvent
from trainquant.simulate.systems.receiver import Receiver

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def fast(settings):
    return settings.model_copy(update={"outbox_backoff_s": 10.0, "outbox_backoff_max_s": 60.0, "outbox_max_attempts": 4})


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def hub(db, client, clock, receiver):
    clock.at = NOW
    dep = make_department(db, code="TEACH")
    make_employee(db, employee_no="T1", department=dep, name="李雷")
    ensure_assessment_kind(db, "trial_lecture")
    key = make_api_key(db, scopes=["integrations:manage", "assessments:write"], name="it")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    assert client.post("/api/v1/integrations/connectors", json={"name": "tp-main", "system": "teaching_platform"}).status_code == 201
    resp = client.post("/api/v1/integrations/subscriptions", json={"connector": "tp-main", "url": receiver.url,
                                                                   "events": ["assessment.recorded", "training.completed"]})
    assert resp.status_code == 201, resp.text
    receiver.inbox.secret = resp.json()["secret"]
    assert "secret" not in client.get("/api/v1/integrations/subscriptions").json()[0]
    return client


def record(client, score: float = 88.0):
    resp = client.post("/api/v1/assessments", json={"employee_no": "T1", "kind": "trial_lecture", "assessed_on": "2026-08-30", "score": score})
    assert resp.status_code == 201, resp.text
    return resp.json()


def deliveries(db) -> list[Delivery]:
    db.expire_all()
    return list(db.scalars(select(Delivery).order_by(Delivery.id)))


def test_an_assessment_goes_out_signed_with_its_delivery_id(hub, db, session_factory, fast, clock, receiver):
    recorded = record(hub)
    [d] = deliveries(db)
    assert d.status == "pending"
    got = service.deliver_due(session_factory, settings=fast, clock=clock.now)
    assert got == {"delivered": 1, "retry": 0, "dead": 0}
    assert receiver.inbox.wait_for(1)
    body = receiver.inbox.kept[d.delivery_id]
    assert body["event"] == "assessment.recorded" and body["delivery_id"] == d.delivery_id
    assert body["data"] == {"employee_no": "T1", "kind": "trial_lecture", "assessed_on": "2026-08-30", "score": recorded["score"],
                            "passed": recorded["passed"], "program_code": None, "session_code": None}
    assert receiver.inbox.refused == 0
    [d] = deliveries(db)
    assert (d.status, d.attempts, d.last_status) == ("delivered", 1, 200)
    assert service.deliver_due(session_factory, settings=fast, clock=clock.now) == {"delivered": 0, "retry": 0, "dead": 0}


def test_nothing_is_kept_for_an_event_nobody_subscribed_to(db, clock):
    assert service.publish(db, "indicator.met", "indicator.met:1:1:2026-09-01", {"x": 1}, occurred_at=NOW, now=NOW) is None
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_a_receiver_down_for_a_while_and_a_restart_of_trainquant(hub, db, session_factory, fast, clock, receiver):
    record(hub, 80)
    record(hub, 90)
    receiver.inbox.failing = True
    assert service.deliver_due(session_factory, settings=fast, clock=clock.now) == {"delivered": 0, "retry": 2, "dead": 0}
    first = deliveries(db)
    assert all(d.last_status == 503 and d.next_attempt_at > NOW for d in first)
    # Not due yet: nothing is posted before the backoff has passed.
    assert service.deliver_due(session_factory, settings=fast, clock=clock.now)["retry"] == 0
    receiver.stop()  # now not even listening
    clock.at = NOW + timedelta(minutes=2)
    assert service.deliver_due(session_factory, settings=fast, clock=clock.now) == {"delivered": 0, "retry": 2, "dead": 0}
    assert all("ConnectError" in (d.last_error or "") for d in deliveries(db))
    receiver.inbox.failing = False
    receiver.start()
    # TrainQuant restarted meanwhile: a sender that claimed one delivery died before posting it.
    with session_factory() as s, s.begin():
        claimed = service._claim(s, NOW + timedelta(minutes=5), limit=1)
    assert len(claimed) == 1
    clock.at = NOW + timedelta(minutes=5)
    restarted = fast.model_copy()
    assert service.deliver_due(session_factory, settings=restarted, clock=clock.now)["delivered"] == 1  # the other one; this is leased
    clock.at = NOW + timedelta(minutes=7)  # the dead sender's lease has run out
    assert service.deliver_due(session_factory, settings=restarted, clock=clock.now)["delivered"] == 1
    assert receiver.inbox.wait_for(2)
    assert len(receiver.inbox.kept) == 2 and receiver.inbox.repeats == 0
    assert [(d.status, d.attempts) for d in deliveries(db)] == [("delivered", 3), ("delivered", 3)]


def test_a_dead_delivery_is_kept_and_replayed_with_the_same_id(hub, db, session_factory, fast, clock, receiver):
    record(hub)
    receiver.inbox.failing = True
    for minute in range(fast.outbox_max_attempts):
        clock.at = NOW + timedelta(minutes=2 * minute)
        service.deliver_due(session_factory, settings=fast, clock=clock.now)
    [d] = deliveries(db)
    assert (d.status, d.attempts) == ("dead", fast.outbox_max_attempts)
    log = hub.get("/api/v1/integrations/deliveries?status=dead").json()
    assert log["total"] == 1 and log["items"][0]["last_status"] == 503
    receiver.inbox.failing = False
    assert hub.post(f"/api/v1/integrations/deliveries/{d.delivery_id}/replay").json()["status"] == "pending"
    assert service.deliver_due(session_factory, settings=fast, clock=clock.now)["delivered"] == 1
    # Replayed once more after it arrived: the receiver recognises the id and keeps it once.
    assert hub.post(f"/api/v1/integrations/deliveries/{d.delivery_id}/replay").status_code == 200
    service.deliver_due(session_factory, settings=fast, clock=clock.now)
    assert len(receiver.inbox.kept) == 1 and receiver.inbox.repeats == 1
    assert hub.post("/api/v1/integrations/deliveries/nope/replay").status_code == 404


def test_completions_are_collected_once_from_settled_figures(hub, db, session_factory, clock):
    from trainquant.org.models import Employee

    t1 = db.scalar(select(Employee).where(Employee.employee_no == "T1"))
    program = make_program(db, code="INTERACT")
    ended = make_session(db, program=program, code="INTERACT-1", starts_at=NOW - timedelta(days=2))
    later = make_session(db, program=program, code="INTERACT-2", starts_at=NOW + timedelta(days=2), sequence=2)
    for s, part in ((ended, 0.9), (later, 1.0)):
        db.add(AttendanceRecord(session_id=s.id, employee_id=t1.id, attended_seconds=int(7200 * part), scheduled_seconds=7200, participation=part,
                                late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.commit()
    assert service.collect_completions(db, now=NOW) == 1  # the session not yet over is not a completion
    assert service.collect_completions(db, now=NOW) == 0
    [event] = db.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "training.completed"))
    assert event.payload["session_code"] == "INTERACT-1" and event.payload["attended_minutes"] == 108


def test_subscriptions_refuse_what_they_cannot_deliver(hub):
    assert hub.post("/api/v1/integrations/subscriptions", json={"connector": "tp-main", "url": "ftp://x", "events": ["indicator.met"]}).status_code == 422
    assert hub.post("/api/v1/integrations/subscriptions", json={"connector": "tp-main", "url": "http://x", "events": ["x.y"]}).status_code == 422
    assert hub.post("/api/v1/integrations/subscriptions", json={"connector": "nobody", "url": "http://x", "events": ["indicator.met"]}).status_code == 404
