"""JSON routes of the training effect report (``/api/v1/reports``); the pages and exports use the same service."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from trainquant.analytics import effect, exemplar, rules
from trainquant.analytics.filters import Days
from trainquant.analytics.impact import service as impact
from trainquant.analytics.models import DepartmentTemplate
from trainquant.analytics.roi import service as roi
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.org.schemas import Code
from trainquant.org.service import get_department, get_employee
from trainquant.org.tree import department_subtree
from trainquant.schemas import StrictInput

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
        "share_met": _ratio(rules.share_met(f.indicators)),
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


@router.get("/departments/{code}", summary="A department's training figures (its sub-departments included), in a term or between days; "
            "its programs' costs are the part its approved places carry")
def department_report(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, choice: Days) -> dict:
    rep = effect.department_report(db, code, principal.scope, now=clock.now(), narrow=choice.narrow())
    return {"department_code": rep.department.code, "name": rep.department.name, **figures_json(rep.figures),
            "days": {"from": choice.days.start.isoformat() if choice.days.start else None,
                     "to": choice.days.end.isoformat() if choice.days.end else None},
            "cost_allocated": True, "programs": [row_json(r) for r in rep.programs]}


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def effect_json(rep: impact.EffectReport) -> dict:
    d, n, e, p = rep.metric, rep.naive, rep.estimate, rep.pretrend
    return {
        "program_code": rep.program.code, "metric": d.key, "label": d.label, "label_en": d.label_en, "unit": d.unit, "better": d.better,
        "design": {"period_days": rep.design.period_days, "pre_days": rep.design.pre_days, "post_days": rep.design.post_days,
                   "min_trained": rep.design.min_trained, "min_comparison": rep.design.min_comparison},
        "trained": rep.sample.trained, "comparison": rep.sample.comparison, "left_out": rep.sample.left_out,
        "skipped_records": rep.skipped_records,
        "naive": None if n is None else {"before": _round(n.before), "after": _round(n.after), "change": _round(n.change),
                                         "relative": _round(n.relative), "people": n.people},
        "isolated": None if e is None else {"method": e.method, "effect": _round(e.effect), "se": _round(e.se), "low": _round(e.low),
                                            "high": _round(e.high), "detectable": _round(e.detectable), "relative": _round(rep.relative),
                                            "counterfactual": _round(rep.counterfactual)},
        "pretrend": None if p is None else {"p_value": _round(p.p_value), "leads": [
            {"rel": lead.rel, "coefficient": _round(lead.coefficient), "se": _round(lead.se)} for lead in p.leads]},
        "finding": {"status": rep.finding.status, "reasons": list(rep.finding.reasons), "improved": rep.finding.improved},
        "overlaps": [{"program_code": o.program, "people": o.people} for o in rep.overlaps],
    }


@router.get("/programs/{code}/effects/{metric}", summary="A program's isolated effect on a business metric (did2s), beside the naive before/after change",
            responses={422: {"description": "a window outside its limits, or a metric that cannot be compared"}})
def program_effect(code: str, metric: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
                   pre_days: int = Query(30, description="days before training compared"),
                   post_days: int = Query(30, description="days after training measured"),
                   period_days: int = Query(7, description="the length of one period of the panel (7: weeks)")) -> dict:
    impact.check_whole_school(principal.scope)
    design = impact.design_for(settings.default_timezone, pre_days=pre_days, post_days=post_days, period_days=period_days)
    return effect_json(impact.program_effect(db, code, metric, design=design, now=clock.now()))


def _money_or_none(value) -> str | None:
    return None if value is None else str(value)


def ratio_json(r) -> dict:
    return {"benefits": str(r.benefits), "costs": str(r.costs), "bcr": _money_or_none(r.bcr), "roi_percent": _money_or_none(r.roi_percent), "gap": r.gap}


@router.get("/programs/{code}/roi", summary="A program's ROI, Phillips style: fully loaded cost, benefits from isolated effects over the measured weeks "
            "(at most the first year); "
            "naive, isolated and conservative side by side")
def program_roi(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
                pre_days: int = Query(30), post_days: int = Query(30)) -> dict:
    impact.check_whole_school(principal.scope)
    design = impact.design_for(settings.default_timezone, pre_days=pre_days, post_days=post_days)
    rep = roi.program_roi(db, code, design=design, factors=roi.factors_from(settings.roi_factors), now=clock.now(),
                          bands=roi.bands_from(settings.rating_bands, "roi"))
    r = rep.roi
    return {
        "program_code": rep.program.code, "currency": "CNY",
        "costs": {"by_category": dict(r.costs.by_category), "participants_time": str(r.costs.participants_time),
                  "participant_minutes": r.costs.participant_minutes, "uncosted_participants": len(r.costs.uncosted), "total": str(r.costs.total)},
        "benefits": [{"metric": b.metric, "isolated": _money_or_none(b.isolated), "conservative": _money_or_none(b.conservative),
                      "factors": list(b.factors), "gap": b.gap} for b in r.benefits],
        "naive": ratio_json(r.naive), "isolated": ratio_json(r.isolated), "conservative": ratio_json(r.conservative),
        "band": rep.band, "gaps": list(r.gaps), "benefit_weeks": str(rep.benefit_weeks),
        "factors": [{"key": f.key, "value": str(f.value), "unit": f.unit, "source": f.source, "version": f.version} for f in rep.factors],
        "effects": {m: effect_json(e) for m, e in rep.effects.items() if e.sample.rows},
    }


# ---------------------------------------------------------------- a person's effects and department templates

TrainingManage = Annotated[Principal, require("training:manage")]


def person_json(p: exemplar.PersonEffect) -> dict:
    return {"program_code": p.program.code, "metric": p.metric.key, "trained_at": p.trained_at.isoformat(),
            "naive": None if p.naive is None else {"before": _round(p.naive[0]), "after": _round(p.naive[1])},
            "isolated": None if p.imputed is None else {"without_training": _round(p.imputed[0]), "actual": _round(p.imputed[1]),
                                                         "effect": _round(p.effect), "gain_percent": _money_or_none(p.gain_percent)},
            "band": p.band, "program_finding": p.finding.status}


def template_json(t: DepartmentTemplate) -> dict:
    return {"id": t.id, "department_code": t.department.code, "employee_no": t.employee.employee_no, "name": t.employee.name,
            "metric": t.metric_key, "program_code": t.program.code if t.program else None, "note": t.note,
            "before": _round(t.before), "after": _round(t.after), "effect": _round(t.effect), "band": t.band, "active": t.active,
            "marked_by": t.marked_by, "marked_at": t.marked_at.isoformat(),
            "retired_by": t.retired_by, "retired_at": t.retired_at.isoformat() if t.retired_at else None}


class TemplateIn(StrictInput):
    employee_no: Code
    metric: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    program_code: Code
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        description="the way of working the department is to follow")


@router.get("/employees/{employee_no}/effects", summary="A person's business effect of each training they attended (naive and isolated, rated)")
def employee_effects(employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings) -> dict:
    emp = get_employee(db, employee_no, principal.scope)
    design = impact.design_for(settings.default_timezone)
    rows = exemplar.person_effects(db, emp, design=design, now=clock.now(), bands=roi.bands_from(settings.rating_bands, "gain"))
    return {"employee_no": emp.employee_no, "effects": [person_json(p) for p in rows],
            "templates": [template_json(t) for t in exemplar.templates(db, principal.scope, employee_id=emp.id)]}


@router.get("/templates", summary="Department templates (an employee's way of working marked for their department)")
def list_templates(db: ReadSession, principal: ReportsRead, department: str | None = None, history: bool = False) -> dict:
    ids = None
    if department:
        dep = get_department(db, department)
        ids = sorted(department_subtree(db, dep.id))
    rows = exemplar.templates(db, principal.scope, department_ids=ids, current_only=not history)
    return {"items": [template_json(t) for t in rows], "total": len(rows)}


@router.post("/templates", status_code=201, summary="Mark an employee's way of working as their department's template for a metric",
             responses={409: {"description": "no measured effect of that training on that metric for the person"}})
def create_template(body: TemplateIn, db: DbSession, principal: TrainingManage, clock: AppClock, settings: AppSettings) -> dict:
    row = exemplar.mark_template(db, employee_no=body.employee_no, metric=body.metric, program_code=body.program_code, note=body.note,
                                 by=principal.name, now=clock.now(), scope=principal.scope,
                                 design=impact.design_for(settings.default_timezone), bands=roi.bands_from(settings.rating_bands, "gain"))
    return template_json(row)


@router.delete("/templates/{template_id}", summary="Retire a department template (its history stays)")
def retire_template(template_id: int, db: DbSession, principal: TrainingManage, clock: AppClock) -> dict:
    return template_json(exemplar.retire_template(db, template_id, by=principal.name, now=clock.now(), scope=principal.scope))


__all__ = ["router", "rules"]
