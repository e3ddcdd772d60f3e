"""Attendance figures over JSON: per session, per employee, and a forced recompute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import select

from trainquant.attendance.models import AttendanceRecord
from trainquant.attendance.schemas import AttendanceRead
from trainquant.attendance.service import recompute, session_pairs
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.org.models import Employee
from trainquant.org.service import get_employee
from trainquant.training.lookups import get_session
from trainquant.training.models import TrainingSession

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"])
Read = Annotated[Principal, require("attendance:read")]
Manage = Annotated[Principal, require("attendance:manage")]


def _read(rec: AttendanceRecord, session_code: str | None = None, employee_no: str | None = None) -> AttendanceRead:
    return AttendanceRead(
        session_id=rec.session_id, session_code=session_code, employee_id=rec.employee_id, employee_no=employee_no,
        attended_minutes=round(rec.attended_seconds / 60, 2), scheduled_minutes=round(rec.scheduled_seconds / 60, 2),
        participation=rec.participation, late_minutes=round(rec.late_seconds / 60, 2),
        early_leave_minutes=round(rec.early_leave_seconds / 60, 2), away=rec.away, flags=rec.flags, events=rec.events,
    )


@router.get("/sessions/{code}", response_model=list[AttendanceRead])
def session_attendance(code: str, db: ReadSession, principal: Read):
    s = get_session(db, code)
    rows = db.execute(
        select(AttendanceRecord, Employee.employee_no, Employee.department_id)
        .join(Employee, Employee.id == AttendanceRecord.employee_id)
        .where(AttendanceRecord.session_id == s.id)
        .order_by(Employee.employee_no)
    ).all()
    return [_read(r, s.code, no) for r, no, dep in rows if principal.scope.allows(department_id=dep, employee_id=r.employee_id)]


@router.post("/sessions/{code}/recompute", response_model=list[AttendanceRead])
def recompute_session(code: str, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    s = get_session(db, code)
    recompute(db, session_pairs(db, s.id), now=clock.now(), default_tz=settings.default_timezone)
    rows = db.execute(
        select(AttendanceRecord, Employee.employee_no).join(Employee, Employee.id == AttendanceRecord.employee_id)
        .where(AttendanceRecord.session_id == s.id).order_by(Employee.employee_no)
    ).all()
    return [_read(r, s.code, no) for r, no in rows]


@router.get("/employees/{employee_no}", response_model=list[AttendanceRead])
def employee_attendance(employee_no: str, db: ReadSession, principal: Read):
    emp = get_employee(db, employee_no, principal.scope)
    rows = db.execute(
        select(AttendanceRecord, TrainingSession.code)
        .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
        .where(AttendanceRecord.employee_id == emp.id)
        .order_by(TrainingSession.starts_at.desc())
    ).all()
    return [_read(r, code, emp.employee_no) for r, code in rows]
