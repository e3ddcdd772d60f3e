"""HTML pages of the training effect report (/reports) and their xlsx exports."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from trainquant import sheets
from trainquant.analytics import case, case_export, definitions, effect, exemplar, export, rules
from trainquant.analytics.filters import Choice, Days
from trainquant.analytics.impact import service as impact
from trainquant.analytics.roi import service as roi
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.i18n import gettext_ as _
from trainquant.integrations.metrics.rules import DEFINITIONS
from trainquant.org.tree import department_subtree
from trainquant.training import forms
from trainquant.training.models import Program
from trainquant.web.templating import env, render

router = APIRouter(include_in_schema=False)
# What the report macros (analytics/_macros.html) read, whichever page imports them.
env.globals.update(share_met=rules.share_met, rate_definitions={
    "attendance": definitions.ATTENDANCE_RATE, "participation": definitions.PARTICIPATION_RATE,
    "share_met": definitions.SHARE_MET, "allocated_cost": definitions.ALLOCATED_COST}, term_name=definitions.term_name)
ReportsRead = Annotated[Principal, require("reports:read")]


def _xlsx(data: bytes, name: str) -> Response:
    return sheets.attachment(data, name, fallback="report")


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
def index(request: Request, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings, choice: Choice,
          since: Annotated[date | None, Query()] = None, months: Annotated[int, Query(ge=1, le=24)] = 6):
    now = clock.now()
    dep_report = effect.department_report(db, choice.department, principal.scope, now=now, narrow=choice.narrow()) if choice.department else None
    overview = None if dep_report else effect.programs_overview(db, principal.scope, now=now, narrow=choice.narrow())
    rows = dep_report.programs if dep_report else overview.rows  # type: ignore[union-attr]
    dep_templates, dep_weekly, dep_case = [], [], None
    if dep_report is not None:
        ids = sorted(department_subtree(db, dep_report.department.id))
        dep_templates = exemplar.templates(db, principal.scope, department_ids=ids)
        today = now.astimezone(ZoneInfo(settings.default_timezone)).date()
        periods = case.periods(since, today=today, zone=settings.default_timezone, months=months)
        dep_case = case.CaseTable(periods, impact.design_for(settings.default_timezone), (), {})
        dep_weekly = _weekly(db, dep_case, request.state.locale, ids, (dep_report.department.kind,))
    english = request.state.locale == "en"
    chart = {"codes": [r.code for r in rows], "titles": [(r.title_en if english and r.title_en else r.title) for r in rows],
             "participation": [None if r.figures.participation.attendance_rate is None else round(r.figures.participation.attendance_rate * 100, 1) for r in rows]}
    return render(request, "analytics/index.html", {
        "rows": rows, "departments": effect.visible_departments(db, principal.scope), "choice": choice,
        "allocated": dep_report is not None or overview.allocated, "unallocated": None if dep_report else overview.unallocated,  # type: ignore[union-attr]
        "dep": dep_report, "kinds": effect.kind_names(db), "chart": chart, "dep_templates": dep_templates, "definitions": DEFINITIONS,
        "dep_weekly": dep_weekly, "dep_case": dep_case, "months": months,
    })


def _export_name_plain(*parts: str) -> str:
    return "-".join([_("Training effect report"), *parts])


def _export_name(choice: Choice, *parts: str) -> str:
    """The workbook's name: the report, what it is of, and its days (a term, or from~to)."""
    if choice.term:
        return _export_name_plain(*parts, choice.term)
    if choice.days.open:
        return _export_name_plain(*parts)
    return _export_name_plain(*parts, "~".join(str(d) if d else "" for d in (choice.start, choice.end)))


@router.get("/reports/export.xlsx")
def index_export(db: ReadSession, principal: ReportsRead, clock: AppClock, choice: Choice):
    if choice.department:
        return department_export(choice.department, db, principal, clock, choice)
    overview = effect.programs_overview(db, principal.scope, now=clock.now(), narrow=choice.narrow())
    return _xlsx(export.overview_xlsx(overview), _export_name(choice))


@router.get("/reports/departments/{code}/export.xlsx")
def department_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, choice: Days):
    rep = effect.department_report(db, code, principal.scope, now=clock.now(), narrow=choice.narrow())
    return _xlsx(export.department_xlsx(rep, effect.kind_names(db)), _export_name(choice, code))


@router.get("/reports/programs/{code}")
def program_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.program_report(db, code, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    chart = {"codes": [r.code for r in rep.sessions],
             "participation": [None if r.figures.participation.attendance_rate is None else round(r.figures.participation.attendance_rate * 100, 1) for r in rep.sessions]}
    return render(request, "analytics/program.html", {"rep": rep, "kinds": kinds, "chart": chart,
                                                      "scores": _scores_chart(rep.figures, kinds, request.state.locale)})


@router.get("/reports/programs/{code}/export.xlsx")
def program_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings):
    rep = effect.program_report(db, code, principal.scope, now=clock.now())
    return _xlsx(export.program_xlsx(rep, effect.kind_names(db), zone=settings.default_timezone), _export_name_plain(code))


@router.get("/reports/sessions/{code}")
def session_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings):
    rep = effect.session_report(db, code, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    return render(request, "analytics/session.html", {"rep": rep, "kinds": kinds, "when": forms.session_when(rep.session, settings.default_timezone),
                                                      "zone": forms.zone_of(rep.session, settings.default_timezone).key,
                                                      "scores": _scores_chart(rep.figures, kinds, request.state.locale)})


@router.get("/reports/sessions/{code}/export.xlsx")
def session_export(code: str, db: ReadSession, principal: ReportsRead, clock: AppClock):
    rep = effect.session_report(db, code, principal.scope, now=clock.now())
    return _xlsx(export.session_xlsx(rep, effect.kind_names(db)), _export_name_plain(code))


@router.get("/reports/employees/{employee_no}")
def employee_page(request: Request, employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings):
    rep = effect.employee_report(db, employee_no, principal.scope, now=clock.now())
    kinds = effect.kind_names(db)
    business = exemplar.person_effects(db, rep.employee, design=impact.design_for(settings.default_timezone), now=clock.now(),
                                       bands=roi.bands_from(settings.rating_bands, "gain"))
    return render(request, "analytics/employee.html", {
        "rep": rep, "kinds": kinds, "scores": _scores_chart(rep.figures, kinds, request.state.locale), "business": business,
        "templates": exemplar.templates(db, principal.scope, employee_id=rep.employee.id, current_only=False),
        "can_mark": principal.can("training:manage"), "definitions": DEFINITIONS,
    })


TrainingManage = Annotated[Principal, require("training:manage")]


@router.post("/reports/employees/{employee_no}/templates")
def mark_template(employee_no: str, db: DbSession, principal: TrainingManage, clock: AppClock, settings: AppSettings,
                  metric: Annotated[str, Form(max_length=64)], program_code: Annotated[str, Form(max_length=32)],
                  note: Annotated[str, Form(max_length=2000)]):
    exemplar.mark_template(db, employee_no=employee_no, metric=metric, program_code=program_code, note=note, by=principal.name,
                           now=clock.now(), scope=principal.scope, design=impact.design_for(settings.default_timezone),
                           bands=roi.bands_from(settings.rating_bands, "gain"))
    return RedirectResponse(f"/reports/employees/{quote(employee_no)}#templates", status_code=303)


@router.post("/reports/templates/{template_id}/retire")
def retire_template(template_id: int, db: DbSession, principal: TrainingManage, clock: AppClock):
    row = exemplar.retire_template(db, template_id, by=principal.name, now=clock.now(), scope=principal.scope)
    return RedirectResponse(f"/reports/employees/{quote(row.employee.employee_no)}#templates", status_code=303)


@router.get("/reports/employees/{employee_no}/export.xlsx")
def employee_export(employee_no: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings):
    rep = effect.employee_report(db, employee_no, principal.scope, now=clock.now())
    return _xlsx(export.employee_xlsx(rep, effect.kind_names(db), zone=settings.default_timezone), _export_name_plain(employee_no))


# ---------------------------------------------------------------- business effect and ROI




@router.get("/reports/programs/{code}/effects")
def effects_page(request: Request, code: str, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
                 pre_days: Annotated[int, Query(ge=7, le=365)] = 30, post_days: Annotated[int, Query(ge=7, le=365)] = 30):
    impact.check_whole_school(principal.scope)
    design = impact.design_for(settings.default_timezone, pre_days=pre_days, post_days=post_days)
    rep = roi.program_roi(db, code, design=design, factors=roi.factors_from(settings.roi_factors), now=clock.now(),
                          bands=roi.bands_from(settings.rating_bands, "roi"))
    effects = [e for e in rep.effects.values() if e.sample.rows]
    return render(request, "analytics/effects.html", {"rep": rep, "effects": effects, "pre_days": pre_days, "post_days": post_days})


def _weekly(db, table: case.CaseTable, locale: str, department_ids: list[int] | None = None, kinds: tuple[str, ...] = tuple(case.LINES)) -> list[dict]:
    out = []
    for kind in kinds:
        for w in case.group_weekly(db, kind, table.periods, table.design, department_ids):
            if w.people:
                out.append({"kind": kind, "weekly": w,
                            "chart": case.chart(w, table.periods, table.design, w.metric.label_en if locale == "en" else w.metric.label)})
    return out


def _case(db, settings, clock, since: date | None, months: int) -> tuple[case.CaseTable, list[dict]]:
    now = clock.now()
    design = impact.design_for(settings.default_timezone)
    factors = roi.factors_from(settings.roi_factors)
    bands = roi.bands_from(settings.rating_bands, "roi")
    today = now.astimezone(ZoneInfo(settings.default_timezone)).date()
    table = case.case_table(db, since=since, today=today, zone=settings.default_timezone, design=design, factors=factors, now=now,
                            months=months, bands=bands)
    version = impact.facts_version(db)
    pools: dict[tuple, impact.Pool] = {}  # each program's pool read once for the page
    sections = []
    for kind, metrics in exemplar.KIND_METRICS.items():
        rows = []
        for program in db.scalars(select(Program).order_by(Program.code)):
            if program.target_kinds and kind not in program.target_kinds:
                continue  # a program for everyone is looked at under every kind, and shows where it has data
            effects = [impact.cached_effect(db, program.code, m, design=design, now=now, version=version, pools=pools) for m in metrics]
            effects = [e for e in effects if e.sample.trained]
            if effects:
                rows.append({"program": program, "effects": effects, "roi": roi.program_roi(db, program.code, design=design, factors=factors, now=now, bands=bands)})
        sections.append({"kind": kind, "rows": rows})
    return table, sections


Since = Annotated[date | None, Query(description="the first day measured with TrainQuant (default: months before today)")]
Months = Annotated[int, Query(ge=1, le=24)]


@router.get("/reports/case")
def case_page(request: Request, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
              since: Since = None, months: Months = 6):
    """The institution's case table (R4) line by line, then per department kind its programs' business
    figures before and after, the isolated effects, and each program's ROI."""
    impact.check_whole_school(principal.scope)
    table, sections = _case(db, settings, clock, since, months)
    return render(request, "analytics/case.html", {"case": table, "sections": sections, "design": table.design, "months": months,
                                                   "weekly": _weekly(db, table, request.state.locale)})


@router.get("/reports/case/export.xlsx")
def case_xlsx(db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings, since: Since = None, months: Months = 6):
    impact.check_whole_school(principal.scope)
    table, sections = _case(db, settings, clock, since, months)
    return _xlsx(case_export.xlsx(table, sections), _("Training case") + f"-{table.periods.since.isoformat()}")


@router.get("/reports/case/export.pdf")
def case_pdf(request: Request, db: ReadSession, principal: ReportsRead, clock: AppClock, settings: AppSettings,
             since: Since = None, months: Months = 6):
    impact.check_whole_school(principal.scope)
    table, sections = _case(db, settings, clock, since, months)
    html = env.get_template("analytics/case_print.html").render(
        {"case": table, "sections": sections, "design": table.design, "locale": request.state.locale,
         "printed_at": clock.now().astimezone(ZoneInfo(settings.default_timezone))})
    name = _("Training case") + f"-{table.periods.since.isoformat()}"
    return Response(case_export.pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=case.pdf; filename*=UTF-8''{quote(name)}.pdf"})
