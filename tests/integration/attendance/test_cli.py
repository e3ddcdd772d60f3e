"""``trainquant attendance refresh`` works off batches left pending (after a crash, say)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import NOW
from trainquant.attendance.checkin.pending import pending_count
from trainquant.attendance.checkin.service import ingest_for_later
from trainquant.attendance.models import AttendanceRecord, Device
from trainquant.cli.main import app
from trainquant.config import Settings
from trainquant.db import make_sessionmaker, unit_of_work
from trainquant.org.models import Department, Employee, Site
from trainquant.training.models import Program, TrainingSession

START = NOW - timedelta(days=1)


def test_refresh_turns_pending_batches_into_figures_and_then_has_nothing_to_do(cli_engine):
    factory = make_sessionmaker(cli_engine)
    with unit_of_work(factory) as db:
        dep, site = Department(code="T", name="教学部", kind="teaching"), Site(code="BJ", name="北京", timezone="Asia/Shanghai")
        db.add_all([dep, site])
        db.flush()
        db.add(Employee(employee_no="T1", name="李雷", department_id=dep.id, status="active", created_at=NOW, updated_at=NOW))
        prog = Program(code="P", title="培训", kind="offline", level="foundation", target_kinds=[], tags=[], eligibility={}, planned_hours=2, created_at=NOW)
        db.add(prog)
        db.flush()
        db.add(TrainingSession(code="S1", program_id=prog.id, sequence=1, starts_at=START, ends_at=START + timedelta(hours=2), site_id=site.id,
                               checkin_methods=["face"], created_at=NOW))
        db.add(Device(device_id="ZK-1", kind="zkteco", site_id=site.id, active=True))
    with unit_of_work(factory) as db:  # answered, then the process died before the drain
        punches = [{"event_id": f"e{k}", "employee_no": "T1", "session": "S1", "kind": kind, "at": (START + timedelta(minutes=m)).isoformat(),
                    "method": "face", "device_id": "ZK-1"} for k, (kind, m) in enumerate([("in", 0), ("out", 60)])]
        ingest_for_later(db, punches, source="api", principal=None, now=NOW, settings=Settings(env="test"))
    with unit_of_work(factory) as db:
        assert pending_count(db) == 1

    runner = CliRunner()
    got = runner.invoke(app, ["attendance", "refresh"])
    assert got.exit_code == 0, got.output
    assert "1 pending batch" in got.output
    with unit_of_work(factory) as db:
        assert pending_count(db) == 0
        assert db.scalar(select(AttendanceRecord.attended_seconds)) == 3600
        assert db.scalar(select(func.count()).select_from(AttendanceRecord)) == 1

    again = runner.invoke(app, ["attendance", "refresh"])
    assert again.exit_code == 0 and "nothing pending" in again.output
