"""Indicator definitions: modules, indicators and their versions. A change is a new version, never an edit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager

from trainquant.auth.permissions import Principal
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.indicators import schemas
from trainquant.indicators.facts import available_kinds
from trainquant.indicators.metrics import ASSESSMENT_KINDS, METRICS, check_definition
from trainquant.indicators.models import Indicator, IndicatorModule, IndicatorVersion
from trainquant.indicators.rules import version_in_effect
from trainquant.training.models import AssessmentKind, Program

# The fields of a version that make up the rule; a new version must differ in at least one.
DEFINITION = (
    "name", "name_en", "metric", "params", "aggregation", "window_days", "window_kind", "programs", "operator", "threshold", "unit",
    "weight",
)


def actor(principal: Principal) -> str:
    """Who made a change, as stored in ``created_by`` (an API key's principal is named "apikey:<name>")."""
    return principal.name


# ---------------------------------------------------------------- modules


def list_modules(db: Session, *, kind: str | None = None) -> list[schemas.ModuleRead]:
    counts = dict(
        db.execute(select(Indicator.module_id, func.count()).where(Indicator.retired_at.is_(None)).group_by(Indicator.module_id)).all()
    )
    stmt = select(IndicatorModule).order_by(IndicatorModule.department_kind, IndicatorModule.id)
    if kind:
        stmt = stmt.where(IndicatorModule.department_kind == kind)
    return [
        schemas.ModuleRead.model_validate(m).model_copy(update={"indicator_count": counts.get(m.id, 0)})
        for m in db.scalars(stmt)
    ]


def get_module(db: Session, code: str) -> IndicatorModule:
    module = db.scalar(select(IndicatorModule).where(IndicatorModule.code == code))
    if module is None:
        raise NotFound(f"no indicator module with code {code!r}")
    return module


def create_module(db: Session, body: schemas.ModuleCreate) -> IndicatorModule:
    if db.scalar(select(IndicatorModule.id).where(IndicatorModule.code == body.code)) is not None:
        raise Conflict(f"indicator module {body.code!r} already exists")
    module = IndicatorModule(**body.model_dump(), active=True)
    db.add(module)
    db.flush()
    return module


# ---------------------------------------------------------------- reading indicators


def indicator_query(*, kind: str | None = None, module_code: str | None = None, include_retired: bool = False) -> Select:
    stmt = (
        select(Indicator)
        .join(Indicator.module)
        .options(contains_eager(Indicator.module))
        .order_by(IndicatorModule.department_kind, IndicatorModule.id, Indicator.id)
    )
    if kind:
        stmt = stmt.where(IndicatorModule.department_kind == kind)
    if module_code:
        stmt = stmt.where(IndicatorModule.code == module_code)
    if not include_retired:
        stmt = stmt.where(Indicator.retired_at.is_(None))
    return stmt


def list_indicators(db: Session, **filters: Any) -> list[Indicator]:
    return list(db.scalars(indicator_query(**filters)).unique())


def get_indicator(db: Session, code: str) -> Indicator:
    ind = db.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        raise NotFound(f"no indicator with code {code!r}")
    return ind


def current(ind: Indicator) -> IndicatorVersion:
    return next(v for v in ind.versions if v.version == ind.current_version)


def in_effect(ind: Indicator, period_end: date, tz: ZoneInfo) -> IndicatorVersion | None:
    """The version that applies to ``period_end``; None if the indicator was not defined or already retired then."""
    if ind.retired_at is not None and ind.retired_at.astimezone(tz).date() <= period_end:
        return None
    number = version_in_effect(((v.version, v.effective_from) for v in ind.versions), period_end)
    return None if number is None else next(v for v in ind.versions if v.version == number)


def to_read(ind: Indicator, *, detail: bool = False) -> schemas.IndicatorRead:
    data = {
        "id": ind.id,
        "code": ind.code,
        "module_code": ind.module.code,
        "department_kind": ind.module.department_kind,
        "retired_at": ind.retired_at,
        "retired_by": ind.retired_by,
        "retire_note": ind.retire_note,
        "version_count": len(ind.versions),
        "current": schemas.IndicatorVersionRead.model_validate(current(ind)),
        "metric_available": METRICS[current(ind).metric].fact_kind in available_kinds(),
    }
    if detail:
        return schemas.IndicatorDetailRead(**data, versions=[schemas.IndicatorVersionRead.model_validate(v) for v in ind.versions])
    return schemas.IndicatorRead(**data)


def metric_reads() -> list[schemas.MetricRead]:
    provided = available_kinds()
    return [
        schemas.MetricRead(
            code=m.code, name=m.name, name_en=m.name_en, fact_kind=m.fact_kind, source=m.source,
            available=m.fact_kind in provided, unit=m.unit, aggregations=list(m.aggregations), param=m.param,
            param_required=m.param_required, choices=list(m.choices),
        )
        for m in METRICS.values()
    ]


# ---------------------------------------------------------------- changing indicators


def known_assessment_kinds(db: Session) -> set[str]:
    return set(ASSESSMENT_KINDS) | set(db.scalars(select(AssessmentKind.code)))


def _checked(db: Session, definition: dict[str, Any]) -> dict[str, Any]:
    definition["programs"] = {k: v for k, v in (definition.get("programs") or {}).items() if v is not None}
    if definition.get("unit") is None and definition["metric"] in METRICS:
        definition["unit"] = METRICS[definition["metric"]].unit
    problems = check_definition(
        **{k: definition[k] for k in ("metric", "params", "aggregation", "window_days", "window_kind", "programs", "operator", "threshold", "unit")},
        assessment_kinds=known_assessment_kinds(db), program_codes=set(db.scalars(select(Program.code))),
    )
    if problems:
        raise Invalid("; ".join(p.message for p in problems), errors=[p.as_dict() for p in problems])
    return definition


def create_indicator(db: Session, body: schemas.IndicatorCreate, *, actor: str, now: datetime, today: date) -> Indicator:
    if db.scalar(select(Indicator.id).where(Indicator.code == body.code)) is not None:
        raise Conflict(f"indicator {body.code!r} already exists")
    module = db.scalar(select(IndicatorModule).where(IndicatorModule.code == body.module_code))
    if module is None:
        raise Invalid(f"no indicator module with code {body.module_code!r}",
                      errors=[{"field": "module_code", "code": "unknown", "message": "no such module"}])
    definition = _checked(db, body.model_dump(include=set(DEFINITION)))
    ind = Indicator(code=body.code, module_id=module.id, current_version=1)
    db.add(ind)
    db.flush()
    db.add(IndicatorVersion(
        indicator_id=ind.id, version=1, **definition, note=body.note or None,
        effective_from=body.effective_from or today, created_by=actor, created_at=now,
    ))
    db.flush()
    db.refresh(ind)
    return ind


def add_version(db: Session, code: str, body: schemas.IndicatorUpdate, *, actor: str, now: datetime, today: date) -> Indicator:
    ind = get_indicator(db, code)
    if ind.retired_at is not None:
        raise Conflict(f"indicator {code!r} is retired; add a new indicator instead")
    old = current(ind)
    changes = body.model_dump(include=set(DEFINITION), exclude_unset=True)
    if any(value is None for value in changes.values()):
        empty = [k for k, v in changes.items() if v is None]
        raise Invalid(f"{', '.join(empty)} cannot be empty", errors=[{"field": k, "code": "required", "message": "cannot be empty"} for k in empty])
    definition = {k: getattr(old, k) for k in DEFINITION} | changes
    if "metric" in changes and changes["metric"] != old.metric:
        # Another metric: the old parameter and unit belong to the old one unless given again.
        if "params" not in changes:
            definition["params"] = {}
        if "unit" not in changes:
            definition["unit"] = None
    definition = _checked(db, definition)
    if all(definition[k] == getattr(old, k) for k in DEFINITION):
        raise Invalid("the new version would be the same as the current one", errors=[{"field": None, "code": "unchanged", "message": "nothing changed"}])
    starts = body.effective_from or today
    if old.effective_from is not None and starts < old.effective_from:
        raise Invalid(
            f"a new version cannot apply before the current one (from {old.effective_from.isoformat()})",
            errors=[{"field": "effective_from", "code": "too-early", "message": f"on or after {old.effective_from.isoformat()}"}],
        )
    number = max(v.version for v in ind.versions) + 1
    db.add(IndicatorVersion(
        indicator_id=ind.id, version=number, **definition, note=body.note or None,
        effective_from=starts, created_by=actor, created_at=now,
    ))
    ind.current_version = number
    db.flush()
    db.refresh(ind)
    return ind


def retire_indicator(db: Session, code: str, body: schemas.IndicatorRetire, *, actor: str, now: datetime) -> Indicator:
    """Stops new evaluations from using it; its versions and past results stay as they are."""
    ind = get_indicator(db, code)
    if ind.retired_at is not None:
        raise Conflict(f"indicator {code!r} is already retired")
    ind.retired_at, ind.retired_by, ind.retire_note = now, actor, body.note or None
    db.flush()
    return ind
