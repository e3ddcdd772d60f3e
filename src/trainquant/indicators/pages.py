"""Indicator pages: the framework per department kind, add / edit (as a new version) / retire, the version
history, and results per employee and per department."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import DataScope, Principal
from trainquant.deps import (
    AppClock,
    AppSettings,
    DbSession,
    ReadSession,
    SubmittedForm,
    require,
)
from trainquant.errors import Conflict, Forbidden, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.indicators import evaluation, forms, runs, schemas, service
from trainquant.indicators.facts import available_kinds
from trainquant.indicators.metrics import (
    AGGREGATIONS,
    BUSINESS_METRICS,
    EXAM_KINDS,
    METRICS,
    UNITS,
)
from trainquant.indicators.models import WINDOWS, Evaluation, EvaluationRun, Indicator, IndicatorVersion
from trainquant.indicators.rules import REASONS
from trainquant.indicators.service import actor
from trainquant.org import service as org
from trainquant.org.models import DEPARTMENT_KINDS, Employee
from trainquant.org.pages import department_tree
from trainquant.pagination import Page, Paging, paginate
from trainquant.params import QueryDate
from trainquant.training.forms import kind_label
from trainquant.training.models import AssessmentKind
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

IndicatorsRead = Annotated[Principal, require("indicators:read")]
IndicatorsWrite = Annotated[Principal, require("indicators:write")]


def _today(settings, clock) -> date:
    return clock.now().astimezone(ZoneInfo(settings.default_timezone)).date()


def _helpers(request: Request, db: Session) -> dict[str, Any]:
    """Display functions for the templates, bound to the request's language."""
    locale = getattr(request.state, "locale", "zh_CN")
    kinds = {code: (name, name_en) for code, name, name_en in db.execute(select(AssessmentKind.code, AssessmentKind.name, AssessmentKind.name_en))}
    return {
        "sentence": lambda v: forms.rule_sentence(v, locale),
        "fmt": forms.fmt,
        "named": lambda obj: forms.localized(obj.name, obj.name_en, locale),
        "metric_name": lambda code: forms.metric_name(code, locale),
        "choice_name": lambda code: forms.choice_name(code, locale, kinds),
        "status_label": forms.status_label,
        "unit_label": forms.unit_label,
        "aggregation_label": forms.aggregation_label,
        "window_label": forms.window_label,
        "window_detail": forms.window_detail,
        "programs_phrase": lambda programs: forms.programs_phrase(programs, kind_label),
        "reason_text": forms.reason_text,
        "kind_name": kind_label,
        "signs": forms.OPERATOR_SIGNS,
    }


def _form_choices(db: Session) -> dict[str, Any]:
    return {
        "metrics": list(METRICS.values()),
        "available": available_kinds(),
        "aggregations": AGGREGATIONS,
        "windows": WINDOWS,
        "department_kinds": DEPARTMENT_KINDS,
        "operators": tuple(forms.OPERATOR_SIGNS),
        "units": UNITS,
        "vocabularies": {
            "assessment_kind": sorted(service.known_assessment_kinds(db)), "exam": EXAM_KINDS, "business_metric": BUSINESS_METRICS,
        },
    }


def _kind(value: str | None) -> str:
    if not value:
        return "teaching"
    if value not in DEPARTMENT_KINDS:
        raise Invalid(_("Unknown %(what)s: %(value)s") % {"what": _("department kind"), "value": value})
    return value


# ---------------------------------------------------------------- the framework


def _framework(request: Request, db: Session, kind: str, *, retired: bool = False, module_form: dict | None = None,
               module_errors: dict | None = None, status_code: int = 200):
    modules = service.list_modules(db, kind=kind)
    indicators = service.list_indicators(db, kind=kind, include_retired=retired)
    by_module = {m.id: [i for i in indicators if i.module_id == m.id] for m in modules}
    return render(request, "indicators/framework.html", {
        **_helpers(request, db), "kind": kind, "kinds": DEPARTMENT_KINDS, "modules": modules, "by_module": by_module,
        "current": service.current, "available": available_kinds(), "metrics": METRICS, "retired": retired,
        "module_form": module_form or {}, "module_errors": module_errors or {},
        "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/indicators")
def framework_page(request: Request, db: ReadSession, _principal: IndicatorsRead,
                   kind: Annotated[str | None, Query(max_length=16)] = None, retired: bool = False):
    return _framework(request, db, _kind(kind), retired=retired)


@router.post("/indicators/modules")
def create_module(request: Request, db: DbSession, _principal: IndicatorsWrite, submitted: SubmittedForm):
    form = {k: str(v) for k, v in submitted.items() if k != "csrf_token"}
    kind = _kind(form.get("department_kind"))
    try:
        body = schemas.ModuleCreate.model_validate({k: v.strip() for k, v in form.items() if v.strip()}, strict=False)
        service.create_module(db, body)
    except ValidationError as exc:
        return _framework(request, db, kind, module_form=form, module_errors=forms.field_errors(exc), status_code=422)
    except Conflict:
        return _framework(request, db, kind, module_form=form, module_errors={"code": _("This code is already taken.")}, status_code=409)
    return RedirectResponse(f"/indicators?kind={kind}&done=module", status_code=303)


# ---------------------------------------------------------------- add an indicator


def _new_page(request: Request, db: Session, form: dict, errors: dict | None = None, status_code: int = 200):
    return render(request, "indicators/new.html", {
        **_helpers(request, db), **_form_choices(db), "form": form, "errors": errors or {},
        "modules": service.list_modules(db),
    }, status_code=status_code)


@router.get("/indicators/new")
def new_indicator_page(request: Request, db: ReadSession, _principal: IndicatorsWrite, module: Annotated[str | None, Query(max_length=40)] = None):
    return _new_page(request, db, {"module_code": module or "", "window_days": "365", "window_kind": "days", "operator": ">=", "aggregation": "last",
                                   "weight": "1"})


@router.post("/indicators/new")
def create_indicator(request: Request, db: DbSession, principal: IndicatorsWrite, settings: AppSettings, clock: AppClock, submitted: SubmittedForm):
    form: dict[str, Any] = {k: str(v) for k, v in submitted.items() if k not in ("csrf_token", "program_kinds")}
    form["program_kinds"] = kinds = [str(k) for k in submitted.getlist("program_kinds")]
    try:
        body = schemas.IndicatorCreate.model_validate(forms.body_from_form(form, create=True, kinds=kinds), strict=False)
        ind = service.create_indicator(db, body, actor=actor(principal), now=clock.now(), today=_today(settings, clock))
    except ValidationError as exc:
        return _new_page(request, db, form, forms.field_errors(exc), 422)
    except Invalid as exc:
        return _new_page(request, db, form, forms.problem_errors(exc), 422)
    except Conflict:
        return _new_page(request, db, form, {"code": _("This code is already taken.")}, 409)
    return RedirectResponse(f"/indicators/{quote(ind.code)}?done=created", status_code=303)


# ---------------------------------------------------------------- results


def _employee_names(db: Session, ids: set[int]) -> dict[int, Employee]:
    return {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(sorted(ids))))} if ids else {}


@router.get("/indicators/results")
def department_results_page(request: Request, db: ReadSession, principal: IndicatorsRead, settings: AppSettings, clock: AppClock,
                            department: Annotated[str | None, Query(max_length=32)] = None, period_end: QueryDate | None = None):
    scope = principal.scope
    visible = [d for d in org.list_departments(db) if scope.all or d.id in scope.department_ids]
    if not visible:
        own = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
        if own is not None:
            return RedirectResponse(f"/indicators/results/{quote(own.employee_no)}", status_code=303)
        raise Forbidden(_("Department results are for HR and managers."))
    tree = department_tree(visible)
    dep = org.get_department(db, department) if department else org.get_department(db, tree[0].department.code)
    evaluation.check_department_visible(scope, dep)
    periods = evaluation.period_ends(db)
    chosen = period_end or (periods[0] if periods else None)
    headcount, stored = evaluation.department_results(db, dep, chosen)
    summary = evaluation.department_summary_read(dep, headcount, stored, chosen)
    people: dict[int, list[int]] = {}
    for r in stored:
        counts = people.setdefault(r.evaluation.employee_id, [0, 0, 0])
        counts[("met", "not_met", "no_data").index(r.evaluation.status)] += 1
    names = _employee_names(db, set(people))
    rows = sorted(((names[i], met, not_met, no_data) for i, (met, not_met, no_data) in people.items()), key=lambda row: row[0].employee_no)
    locale = getattr(request.state, "locale", "zh_CN")
    chart = {
        "names": [forms.localized(s.name, s.name_en, locale) for s in summary.indicators],
        "shares": [None if s.share_met is None else round(s.share_met * 100, 1) for s in summary.indicators],
    }
    return render(request, "indicators/results_department.html", {
        **_helpers(request, db), "dep": dep, "tree": tree, "summary": summary, "chart": chart, "periods": periods, "period_end": chosen,
        "rows": rows, "today": _today(settings, clock), "ran": request.query_params.get("ran"),
    })


@router.get("/indicators/results/export.xlsx")
def department_results_export(request: Request, db: ReadSession, principal: IndicatorsRead,
                              department: Annotated[str, Query(max_length=32)], period_end: QueryDate | None = None):
    from trainquant import sheets
    from trainquant.indicators.export import indicator_results_xlsx

    dep = org.get_department(db, department)
    evaluation.check_department_visible(principal.scope, dep)
    periods = evaluation.period_ends(db)
    _headcount, stored = evaluation.department_results(db, dep, period_end or (periods[0] if periods else None))
    names = _employee_names(db, {r.evaluation.employee_id for r in stored})
    data = indicator_results_xlsx(stored, names, english=getattr(request.state, "locale", "zh_CN") == "en")
    return sheets.attachment(data, f"{_('Indicator results')}-{dep.code}", fallback="indicator-results")


@router.post("/indicators/results/run")
def run_evaluation(request: Request, db: DbSession, principal: IndicatorsWrite, settings: AppSettings, clock: AppClock, form: SubmittedForm):
    code = str(form.get("department") or "")
    try:
        body = schemas.EvaluationRunCreate.model_validate({"period_end": str(form.get("period_end") or ""), "department_code": code or None}, strict=False)
    except ValidationError:
        raise Invalid(_("Enter a date as YYYY-MM-DD.")) from None
    department = org.get_department(db, code) if code and form.get("scope") != "all" else None
    summary = evaluation.run_evaluation(db, period_end=body.period_end, actor=actor(principal), now=clock.now(),
                                        tz=ZoneInfo(settings.default_timezone), department=department,
                                        school_terms=settings.school_terms)
    query = urlencode({k: v for k, v in (("department", code), ("period_end", body.period_end.isoformat()), ("ran", summary.run.id)) if v})
    return RedirectResponse(f"/indicators/results?{query}", status_code=303)


@router.get("/indicators/runs")
def runs_page(request: Request, db: ReadSession, principal: IndicatorsRead, paging: Paging):
    """The stored evaluation runs, newest first, each with its counts of the people the reader may see."""
    stored, total = paginate(db, select(EvaluationRun).order_by(EvaluationRun.id.desc()), paging)
    summaries = [evaluation.run_counts(db, run, principal.scope) for run in stored]
    return render(request, "indicators/runs.html", {
        **_helpers(request, db), "summaries": summaries, "page": Page.of(summaries, total, paging),
    })


@router.get("/indicators/runs/{run_id}")
def run_page(request: Request, run_id: int, db: ReadSession, principal: IndicatorsRead, paging: Paging,
             status: Annotated[Literal["met", "not_met", "no_data"] | None, Query()] = None,
             reason: Annotated[str | None, Query(max_length=24)] = None,
             indicator: Annotated[str | None, Query(max_length=48)] = None):
    """One stored run read back as it was evaluated: never recomputed."""
    run = runs.get_run(db, run_id)
    if reason and reason not in REASONS:
        raise Invalid(_("Unknown %(what)s: %(value)s") % {"what": _("reason"), "value": reason})
    flt = runs.RunFilter(status=status, reason=reason or None, indicator_code=indicator or None)
    rows, total = runs.run_results(db, run, principal.scope, flt, paging)
    indicators = list(db.execute(
        select(Indicator.code, IndicatorVersion.name, IndicatorVersion.name_en).join(IndicatorVersion, IndicatorVersion.indicator_id == Indicator.id)
        .join(Evaluation, Evaluation.indicator_version_id == IndicatorVersion.id).where(Evaluation.run_id == run.id).distinct()
        .order_by(Indicator.code)
    ))
    return render(request, "indicators/run.html", {
        **_helpers(request, db), "run": run, "summary": evaluation.run_counts(db, run, principal.scope), "rows": rows,
        "page": Page.of(rows, total, paging), "reasons": runs.run_reason_counts(db, run, principal.scope),
        "indicators": indicators, "flt": flt,
    })


@router.get("/indicators/results/{employee_no}")
def employee_results_page(request: Request, employee_no: str, db: ReadSession, principal: IndicatorsRead, period_end: QueryDate | None = None):
    emp = org.get_employee(db, employee_no, principal.scope)
    stored = evaluation.employee_results(db, emp, period_end)
    read = evaluation.employee_results_read(emp, stored)
    periods = list(db.scalars(select(Evaluation.period_end).where(Evaluation.employee_id == emp.id).distinct().order_by(Evaluation.period_end.desc())))
    modules = {m.module_code: m for m in read.modules}
    grouped: dict[str, list] = {}
    for r in stored:
        grouped.setdefault(r.module.code, []).append(r)
    return render(request, "indicators/results_employee.html", {
        **_helpers(request, db), "emp": emp, "read": read, "grouped": grouped, "module_scores": modules, "periods": periods,
        "can_see_department": _sees(principal.scope, emp),
    })


def _sees(scope: DataScope, emp: Employee) -> bool:
    return scope.all or emp.department_id in scope.department_ids


# ---------------------------------------------------------------- one indicator: history, edit, retire


def _detail(request: Request, db: Session, principal: Principal, code: str, *, form: dict | None = None,
            errors: dict | None = None, status_code: int = 200):
    ind = service.get_indicator(db, code)
    current = service.current(ind)
    return render(request, "indicators/detail.html", {
        **_helpers(request, db), **_form_choices(db), "ind": ind, "cur": current, "versions": list(reversed(ind.versions)),
        "form": form or forms.form_from_version(current), "errors": errors or {},
        "can_write": principal.can("indicators:write") and ind.retired_at is None,
        "metric_available": METRICS[current.metric].fact_kind in available_kinds(),
        "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/indicators/{code}")
def indicator_page(request: Request, code: str, db: ReadSession, principal: IndicatorsRead):
    return _detail(request, db, principal, code)


@router.post("/indicators/{code}")
def add_version(request: Request, code: str, db: DbSession, principal: IndicatorsWrite, settings: AppSettings, clock: AppClock, submitted: SubmittedForm):
    form: dict[str, Any] = {k: str(v) for k, v in submitted.items() if k not in ("csrf_token", "program_kinds")}
    form["program_kinds"] = kinds = [str(k) for k in submitted.getlist("program_kinds")]
    # the page does not edit the tags of the counted programs (the API does): they are kept as they were
    tags = (service.current(service.get_indicator(db, code)).programs or {}).get("tags_any")
    try:
        body = schemas.IndicatorUpdate.model_validate(forms.body_from_form(form, create=False, kinds=kinds, tags=tags), strict=False)
        service.add_version(db, code, body, actor=actor(principal), now=clock.now(), today=_today(settings, clock))
    except ValidationError as exc:
        return _detail(request, db, principal, code, form=form, errors=forms.field_errors(exc), status_code=422)
    except Invalid as exc:
        return _detail(request, db, principal, code, form=form, errors=forms.problem_errors(exc), status_code=422)
    return RedirectResponse(f"/indicators/{quote(code)}?done=version", status_code=303)


@router.post("/indicators/{code}/retire")
def retire(request: Request, code: str, db: DbSession, principal: IndicatorsWrite, clock: AppClock, form: SubmittedForm):
    note = str(form.get("note") or "").strip()[:300]
    ind = service.retire_indicator(db, code, schemas.IndicatorRetire.model_validate({"note": note or None}, strict=False), actor=actor(principal), now=clock.now())
    return RedirectResponse(f"/indicators?kind={ind.module.department_kind}&done=retired", status_code=303)
