"""JSON routes of the training effect report (``/api/v1/reports``); the pages and exports use the same service."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter

from trainquant.analytics import effect, rules
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, ReadSession, require

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
ReportsRead = Annotated[Principal, require("reports:read")]


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def figures_json(f: effect.Figures) -> dict:
    p = f.participation
    return {
        "enrolled": p.enrolled, "approved": p.approved, "rejected": p.rejected, "waitlisted": p.waitlisted,
        "requested": p.requested, "cancelled": p.cancelled, "completed": p.completed, "attended": p.attended,
        "attendance_measured": p.measured, "participation": _ratio(p.participation), "attendance_rate": _ratio(p.attendance_rate),
        "assessments": [
            {"kind": s.kind, "count": s.count, "mean": None if s.mean is None else round(s.mean, 3), "min": s.min, "max": s.max,
             "judged": s.judged, "passed": s.passed, "pass_rate": _ratio(s.pass_rate)}
            for s in f.assessments
        ],
        "pass_rate": _ratio(f.pass_rate),
        "indicators": [
            {"indicator": i.indicator, "met": i.met, "not_met": i.not_met, "no_data": i.no_data, "share_met": _ratio(i.share_met)}
            for i in f.indicators
        ],
        "cost": _money(f.cost),
        "currency": "CNY" if f.cost is not None else None,
    }


def row_json(r: effect.Row) -> dict:
    return {"code": r.code, "title": r.title, "starts_at": r.starts_at.isoformat() if r.starts_at else None, **figures_json(r.figures)}


@router.get("/programs/{code}")
def program_report(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock) -> dict:
    rep = effect.program_report(db, code, principal.scope, now=clock.now())
    return {"program_code": rep.program.code, "title": rep.program.title, **figures_json(rep.figures),
            "sessions": [row_json(r) for r in rep.sessions]}


@router.get("/sessions/{code}")
def session_report(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock) -> dict:
    rep = effect.session_report(db, code, principal.scope, now=clock.now())
    return {
        "session_code": rep.session.code, "program_code": rep.session.program.code, "starts_at": rep.session.starts_at.isoformat(),
        **figures_json(rep.figures),
        "people": [
            {"employee_no": p["employee"].employee_no, "name": p["employee"].name, "status": p["status"],
             "participation": _ratio(p["participation"]), "attended": p["attended"],
             "scores": [{"kind": a.kind_code, "score": a.score, "passed": a.passed} for a in p["assessments"]]}
            for p in rep.people
        ],
    }


@router.get("/employees/{employee_no}")
def employee_report(employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock) -> dict:
    rep = effect.employee_report(db, employee_no, principal.scope, now=clock.now())
    return {
        "employee_no": rep.employee.employee_no, "name": rep.employee.name, "department_code": rep.employee.department.code,
        **figures_json(rep.figures),
        "trainings": [
            {"program_code": t["program"].code, "program_title": t["program"].title, "session_code": t["session"].code,
             "starts_at": t["session"].starts_at.isoformat(), "status": t["status"], "participation": _ratio(t["participation"]),
             "attended": t["attended"]}
            for t in rep.trainings
        ],
        "assessment_results": [
            {"kind": a.kind_code, "assessed_on": a.assessed_on.isoformat(), "score": a.score, "passed": a.passed,
             "program_code": a.program.code if a.program else None}
            for a in rep.assessments
        ],
        "indicator_status": [
            {"indicator": r.indicator.code, "name": r.version.name, "status": r.evaluation.status, "value": r.evaluation.value,
             "threshold": r.evaluation.threshold, "period_end": r.evaluation.period_end.isoformat()}
            for r in rep.indicators
        ],
    }


@router.get("/departments/{code}")
def department_report(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock) -> dict:
    rep = effect.department_report(db, code, principal.scope, now=clock.now())
    return {"department_code": rep.department.code, "name": rep.department.name, **figures_json(rep.figures),
            "programs": [row_json(r) for r in rep.programs]}


__all__ = ["router", "rules"]
