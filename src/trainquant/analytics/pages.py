"""HTML pages of the training effect report (/reports) and their xlsx exports."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from trainquant.analytics import effect, export
from trainquant.analytics.impact import service as impact
from trainquant.analytics.roi import service as roi
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, ReadSession, require
from trainquant.training.models import Program
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
ReportsRead = Annotated[Principal, require("reports:read")]


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, media_type=export.XLSX,
                    headers={"Content-Disposition": f"attachment; filename=report.xlsx; filename*=UTF-8''{quote(name)}.xlsx"})


def _scores_chart(fig: effect.Figures, kinds: dict, locale: str) -> dict:
    """Score distribution per assessment kind, in ten bins of the kind's 0-100 scale (or its own range)."""
    series = []
    for kind, scores in sorted(fig.scores.items()):
        high = 100.0 if max(scores) > 9 else 9.0
        if max(scores) > 100:
            high = 120.0
        if max(scores) <= 1:
            high = 1.0
        counts = effect.rules.histogram(scores, low=0.0, high=high, bins=10)
        name = kinds.get(kind, (kind, kind))[1 if locale == "en" else 0]
        series.append({"name": name, "labels": [f"{high * i / 10:g}-{high * (i + 1) / 10:g}" for i in range(10)], "counts": counts})
    return {"series": series}


@router.get("/reports")
def index(request: Request, db: ReadSession, principal: ReportsRead, clock: AppClock, department: str | None = None):
    now = clock.now()
    rows = effect.programs_overview(db, principal.scope, now=now)
    dep_report = effect.department_report(db, department, principal.scope, now=now) if department else None
    chart = {"codes": [r.code for r in rows],
             "participation": [None if r.figures.participation.attendance_rate is None else round(r.figures.participation.attendance_rate * 100, 1) for r in rows]}
    return render(request, "analytics/index.html", {
        "rows": rows, "departments": effect.visible_departments(db, principal.scope), "department": department,
        "dep": dep_report, "kinds": effect.kind_names(db), "chart": chart,
    })


@router.get("/reports/export.xlsx")
def index_export(db: ReadSession, principal: ReportsRead, clock: AppClock):
    return _xlsx(export.overview_xlsx(effect.programs_overview(db, principal.scope, now=clock.now())), "培训效果报告")


@router.get("/reports/departments/{code}/export.xlsx")
def department_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.department_report(db, code, principal.scope, now=clock.now())
    return _xlsx(export.department_xlsx(rep, effect.kind_names(db)), f"培训效果报告-{code}")


@router.get("/reports/programs/{code}")
def program_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.program_report(db, code, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    chart = {"codes": [r.code for r in rep.sessions],
             "participation": [None if r.figures.participation.attendance_rate is None else round(r.figures.participation.attendance_rate * 100, 1) for r in rep.sessions]}
    return render(request, "analytics/program.html", {"rep": rep, "kinds": kinds, "chart": chart,
                                                      "scores": _scores_chart(rep.figures, kinds, request.state.locale)})


@router.get("/reports/programs/{code}/export.xlsx")
def program_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.program_report(db, code, principal.scope, now=clock.now())
    return _xlsx(export.program_xlsx(rep, effect.kind_names(db)), f"培训效果报告-{code}")


@router.get("/reports/sessions/{code}")
def session_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.session_report(db, code, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    return render(request, "analytics/session.html", {"rep": rep, "kinds": kinds,
                                                      "scores": _scores_chart(rep.figures, kinds, request.state.locale)})


@router.get("/reports/sessions/{code}/export.xlsx")
def session_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.session_report(db, code, principal.scope, now=clock.now())
    return _xlsx(export.session_xlsx(rep, effect.kind_names(db)), f"培训效果报告-{code}")


@router.get("/reports/employees/{employee_no}")
def employee_page(request: Request, employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.employee_report(db, employee_no, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    return render(request, "analytics/employee.html", {"rep": rep, "kinds": kinds,
                                                       "scores": _scores_chart(rep.figures, kinds, request.state.locale)})


@router.get("/reports/employees/{employee_no}/export.xlsx")
def employee_export(employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.employee_report(db, employee_no, principal.scope, now=clock.now())
    return _xlsx(export.employee_xlsx(rep, effect.kind_names(db)), f"培训效果报告-{employee_no}")


# ---------------------------------------------------------------- business effect and ROI


KIND_METRICS = {"teaching": ("teaching.rating.overall", "teaching.rating.interaction", "teaching.retention"),
                "marketing": ("crm.conversion_rate", "crm.order_amount"),
                "admin": ("oa.minutes_per_operation", "oa.error_rate")}


@router.get("/reports/programs/{code}/effects")
def effects_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
                 pre_days: Annotated[int, Query(ge=7, le=365)] = 30, post_days: Annotated[int, Query(ge=7, le=365)] = 30):
    impact.check_whole_school(principal.scope)
    design = impact.design_for(settings.default_timezone, pre_days=pre_days, post_days=post_days)
    rep = roi.program_roi(db, code, design=design, factors=roi.factors_from(settings.roi_factors), now=clock.now())
    effects = [e for e in rep.effects.values() if e.sample.rows]
    return render(request, "analytics/effects.html", {"rep": rep, "effects": effects, "pre_days": pre_days, "post_days": post_days})


@router.get("/reports/case")
def case_page(request: Request, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings):
    """The institution's case table (R4): per department kind, its programs' business figures before and
    after, the isolated effects, and each program's ROI."""
    impact.check_whole_school(principal.scope)
    now = clock.now()
    design = impact.design_for(settings.default_timezone)
    version = impact.facts_version(db)
    factors = roi.factors_from(settings.roi_factors)
    sections = []
    for kind, metrics in KIND_METRICS.items():
        rows = []
        for program in db.scalars(select(Program).order_by(Program.code)):
            if program.target_kinds and kind not in program.target_kinds:
                continue  # a program for everyone is looked at under every kind, and shows where it has data
            effects = [impact.cached_effect(db, program.code, m, design=design, now=now, version=version) for m in metrics]
            effects = [e for e in effects if e.sample.trained]
            if effects:
                rows.append({"program": program, "effects": effects, "roi": roi.program_roi(db, program.code, design=design, factors=factors, now=now)})
        sections.append({"kind": kind, "rows": rows})
    return render(request, "analytics/case.html", {"sections": sections, "design": design})
