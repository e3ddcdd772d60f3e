"""The simulated check-ins through the real ingestion path: the stored figures equal the ground truth."""

from datetime import UTC, datetime, time, timedelta
from statistics import fmean

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from trainquant.alerts.models import Alert
from trainquant.attendance.models import (
    AttendanceRecord,
    CheckinEvent,
    Device,
    ProxyCase,
)
from trainquant.org.models import Employee
from trainquant.simulate.attendance.generate import MEASURED_SINCE_DAYS, generate_checkins
from trainquant.simulate.attendance.load import load_attendance
from trainquant.simulate.institution.school import generate
from trainquant.simulate.load import load_school
from trainquant.simulate.training.generate import generate_training
from trainquant.simulate.training.load import load_training
from trainquant.training.models import TrainingSession

TODAY = NOW.date()
SECRET = "test-secret-key-for-the-simulation"


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


@pytest.fixture(scope="module")
def year(school):
    return generate_training(school, 2026)


@pytest.fixture(scope="module")
def stream(school, year):
    return generate_checkins(school, year)


@pytest.fixture
def loaded(db, school, year, stream):
    load_school(db, school, now=NOW)
    load_training(db, school, year, now=NOW)
    summary = load_attendance(db, year, stream, now=NOW, default_tz="Asia/Shanghai", secret_key=SECRET)
    db.flush()
    return summary


def _records(db) -> dict[tuple[str, str], AttendanceRecord]:
    q = (select(TrainingSession.code, Employee.employee_no, AttendanceRecord)
         .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
         .join(Employee, Employee.id == AttendanceRecord.employee_id))
    return {(code, no): rec for code, no, rec in db.execute(q)}


def test_stored_figures_equal_the_ground_truth_exactly(db, stream, loaded):
    assert loaded.verdicts["rejected"] == 0, loaded.rejected
    records = _records(db)
    assert set(records) == set(stream.truth)
    wrong = []
    for key, t in stream.truth.items():
        rec = records[key]
        got = (rec.attended_seconds, rec.scheduled_seconds)
        want = (t.attended_seconds, t.scheduled_seconds)
        if t.late_seconds is not None:
            got += (rec.late_seconds, rec.early_leave_seconds)
            want += (t.late_seconds, t.early_leave_seconds)
        if got != want:
            wrong.append((key, t.behaviour, got, want))
    assert not wrong, wrong[:10]
    # Every behaviour reached the database: the class cut from a stay, the forgotten checkout credited, the absent at zero.
    taught = [k for k, t in stream.truth.items() if t.behaviour == "teaches-while-checked-in"]
    assert taught and all("timetable-conflict" in records[k].flags for k in taught)
    assert all("no-checkout" in records[k].flags for k, t in stream.truth.items() if t.behaviour == "forgot-checkout")
    assert all(records[k].attended_seconds == 0 for k, t in stream.truth.items() if t.behaviour in ("absent", "elsewhere"))


def test_every_event_is_accepted_once_and_the_resent_batch_is_duplicate(db, stream, loaded):
    assert loaded.sent == len(stream.events)
    assert loaded.verdicts["accepted"] == stream.unique_events
    assert loaded.verdicts["duplicate"] == loaded.resent_duplicates == stream.resent_events > 0
    assert db.scalar(select(func.count()).select_from(CheckinEvent)) == stream.unique_events
    assert db.scalar(select(func.count()).select_from(Device)) == len(stream.devices)


def test_the_proxy_group_opens_a_case_and_counts_until_hr_confirms(db, stream, loaded):
    ids = dict(db.execute(select(Employee.employee_no, Employee.id)).all())
    cases = list(db.scalars(select(ProxyCase).where(ProxyCase.signal == "shared-device", ProxyCase.status == "open")))
    assert stream.proxy_groups
    records = _records(db)
    for g in stream.proxy_groups:
        sid = db.scalar(select(TrainingSession.id).where(TrainingSession.code == g.session_code))
        mine = [c for c in cases if c.session_id == sid]
        assert mine, g
        assert {ids[no] for no in g.absent} <= {int(e) for c in mine for e in c.employee_ids}
        for no in g.absent:
            t = stream.truth[(g.session_code, no)]
            assert t.real_seconds == 0 < t.attended_seconds == records[(g.session_code, no)].attended_seconds
    assert loaded.open_cases >= len(stream.proxy_groups)


def test_once_hr_confirms_the_proxied_are_absent_and_the_signer_keeps_their_time(db, stream, loaded):
    from trainquant.attendance.proxy.service import decide

    g = stream.proxy_groups[0]
    sid = db.scalar(select(TrainingSession.id).where(TrainingSession.code == g.session_code))
    for case in db.scalars(select(ProxyCase).where(ProxyCase.session_id == sid, ProxyCase.status == "open")).all():
        decide(db, case.id, "confirm", by="hr", note="同事代签到，已核实", now=NOW, default_tz="Asia/Shanghai")
    records = _records(db)
    for no in g.absent:
        assert records[(g.session_code, no)].attended_seconds == stream.truth[(g.session_code, no)].real_seconds == 0
    signer = stream.truth[(g.session_code, g.signer)]
    assert records[(g.session_code, g.signer)].attended_seconds == signer.attended_seconds == signer.real_seconds


def test_teachers_participation_is_the_truths_and_starts_near_the_case_schools_75_percent(db, year, stream, loaded):
    q = (select(AttendanceRecord.participation).join(Employee, Employee.id == AttendanceRecord.employee_id)
         .where(Employee.employee_no.like("T%")))
    teaching = [t.participation for t in stream.truth.values() if t.kind == "teaching"]
    assert fmean(db.scalars(q)) == pytest.approx(fmean(teaching), abs=1e-6)
    # Before the school began to measure (the case's "before"), about three places in four attended at the minimum.
    since = datetime.combine(TODAY - timedelta(days=MEASURED_SINCE_DAYS), time.min, UTC)
    ends = {s.code: s.ends_at for s in year.sessions}
    before = [t.participation >= 0.8 for (session, _), t in stream.truth.items() if t.kind == "teaching" and ends[session] < since]
    after = [t.participation >= 0.8 for (session, _), t in stream.truth.items() if t.kind == "teaching" and ends[session] >= since]
    assert 0.70 <= fmean(before) <= 0.80 < fmean(after)
    assert db.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "low-participation")) > 0


def test_loading_again_changes_nothing(db, year, stream, loaded):
    before = {k: (r.attended_seconds, r.late_seconds, r.early_leave_seconds) for k, r in _records(db).items()}
    cases = db.scalar(select(func.count()).select_from(ProxyCase))
    alerts = db.scalar(select(func.count()).select_from(Alert))
    again = load_attendance(db, year, stream, now=NOW, default_tz="Asia/Shanghai", secret_key=SECRET)
    assert again.verdicts["accepted"] == 0 and again.verdicts["duplicate"] == len(stream.events)
    assert again.devices == again.classes == again.new_cases == again.new_alerts == 0
    assert {k: (r.attended_seconds, r.late_seconds, r.early_leave_seconds) for k, r in _records(db).items()} == before
    assert db.scalar(select(func.count()).select_from(ProxyCase)) == cases
    assert db.scalar(select(func.count()).select_from(Alert)) == alerts
