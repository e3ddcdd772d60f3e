"""Request and response bodies of the indicator API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from trainquant.indicators.metrics import METRICS
from trainquant.schemas import JsonDate, StrictInput

DepartmentKind = Literal["teaching", "marketing", "admin", "other"]
Operator = Literal[">=", ">", "<=", "<", "="]
Aggregation = Literal["sum", "avg", "max", "min", "last", "count", "change"]
Unit = Literal["h", "score", "%", "pp", "band", "count", "min", "CNY"]  # metrics.UNITS (a test keeps them equal)
Status = Literal["met", "not_met", "no_data"]
WindowKind = Literal["days", "term", "year", "since_training"]  # rules.WINDOWS
Reason = Literal["no-source", "incomplete", "no-facts", "no-baseline", "zero-baseline", "no-training", "window-open"]  # rules.REASONS

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Threshold = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]
Weight = Annotated[float, Field(allow_inf_nan=False, gt=0, le=100)]
Window = Annotated[int, Field(gt=0, le=3660, description="days up to and including the period end; for since_training, the days from the training")]
Params = Annotated[dict[str, str], Field(max_length=4)]
ProgramCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
RESERVED_CODES = frozenset({"new", "results", "modules", "runs"})  # /indicators/<these> are pages


class ProgramScope(StrictInput):
    """The programs an indicator counts; each condition given narrows them; none: every program."""

    target_kinds: list[DepartmentKind] | None = Field(default=None, min_length=1, max_length=4, description="programs for these department kinds")
    codes: list[ProgramCode] | None = Field(default=None, min_length=1, max_length=200, description="these programs")
    tags_any: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] | None = Field(
        default=None, min_length=1, max_length=40, description="programs with one of these tags")

    def stored(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.model_dump(exclude_none=True).items()}


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _known_metric(value: str | None) -> str | None:
    if value is not None and value not in METRICS:
        raise ValueError(f"unknown metric {value!r}; known: {', '.join(METRICS)}")
    return value


# ---------------------------------------------------------------- modules


class ModuleCreate(StrictInput):
    code: Code
    department_kind: DepartmentKind
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    weight: Weight = 1.0


class ModuleRead(ReadModel):
    id: int
    code: str
    department_kind: str
    name: str
    name_en: str
    weight: float
    active: bool
    indicator_count: int = 0


# ---------------------------------------------------------------- indicators


class IndicatorCreate(StrictInput):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]
    module_code: Code
    name: Name
    name_en: Name
    metric: str
    params: Params = Field(default_factory=dict)
    aggregation: Aggregation = Field(description="for scores, the attempt rule: last (latest attempt), max (best), avg (mean)")
    window_days: Window
    window_kind: WindowKind = Field(default="days", description="the last n days, the school term, the calendar year, or n days from the latest training")
    programs: ProgramScope = Field(default_factory=ProgramScope, description="the programs whose trainings and hours count")
    operator: Operator
    threshold: Threshold
    unit: Unit | None = Field(default=None, description="the metric's unit when left out")
    weight: Weight = 1.0
    note: Note | None = None
    effective_from: JsonDate | None = Field(default=None, description="first period end it applies to; today when left out")

    _metric = field_validator("metric")(_known_metric)

    @field_validator("code")
    @classmethod
    def _not_a_page_name(cls, value: str) -> str:
        if value in RESERVED_CODES:
            raise ValueError(f"{value!r} is reserved (a page address); choose another code")
        return value


class IndicatorUpdate(StrictInput):
    """A change: stored as a new version; the fields left out keep the current version's values."""

    name: Name | None = None
    name_en: Name | None = None
    metric: str | None = None
    params: Params | None = None
    aggregation: Aggregation | None = None
    window_days: Window | None = None
    window_kind: WindowKind | None = None
    programs: ProgramScope | None = None
    operator: Operator | None = None
    threshold: Threshold | None = None
    unit: Unit | None = None
    weight: Weight | None = None
    note: Note | None = None
    effective_from: JsonDate | None = None

    _metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _changes_something(self) -> IndicatorUpdate:
        if not self.model_fields_set - {"note", "effective_from"}:
            raise ValueError("a new version must change at least one field of the rule")
        return self


class IndicatorRetire(StrictInput):
    note: Note | None = None


class IndicatorVersionRead(ReadModel):
    id: int
    version: int
    name: str
    name_en: str
    metric: str
    params: dict[str, Any]
    aggregation: str
    window_days: int
    window_kind: str
    programs: dict[str, Any]
    operator: str
    threshold: float
    unit: str
    weight: float
    note: str | None
    effective_from: date | None
    created_by: str
    created_at: datetime


class IndicatorRead(BaseModel):
    id: int
    code: str
    module_code: str
    department_kind: str
    retired_at: datetime | None
    retired_by: str | None = None
    retire_note: str | None = None
    version_count: int
    current: IndicatorVersionRead
    metric_available: bool = Field(description="False while no fact source feeds the metric yet: results are 'no data'")


class IndicatorDetailRead(IndicatorRead):
    versions: list[IndicatorVersionRead]


class MetricRead(BaseModel):
    code: str
    name: str
    name_en: str
    fact_kind: str
    source: str
    available: bool
    unit: str
    aggregations: list[str]
    param: str | None
    param_required: bool
    choices: list[str]


# ---------------------------------------------------------------- evaluations


class EvaluationRunCreate(StrictInput):
    period_end: JsonDate
    department_kind: DepartmentKind | None = None
    department_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    employee_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_population(self) -> EvaluationRunCreate:
        given = [f for f in ("department_kind", "department_code", "employee_no") if getattr(self, f) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of department_kind, department_code, employee_no (got {', '.join(given)})")
        return self


class EvaluationRunRead(BaseModel):
    id: int
    period_end: date
    population: str
    employees: int
    evaluations: int
    met: int
    not_met: int
    no_data: int
    created_by: str
    created_at: datetime


class FactRead(BaseModel):
    key: str
    on: date
    value: float
    ref: str
    program: str | None = None


class ResultRead(BaseModel):
    indicator_code: str
    module_code: str
    version: int
    name: str
    name_en: str
    metric: str
    aggregation: str
    window_days: int
    window_kind: str
    programs: dict[str, Any]
    operator: str
    threshold: float
    unit: str
    status: Status
    value: float | None
    reason: Reason | None = Field(default=None, description="why there is no data")
    window_start: date | None = Field(default=None, description="the first day the value was taken from")
    window_end: date | None = None
    facts: list[FactRead]


class RunResultRead(ResultRead):
    employee_no: str
    employee_name: str


class RunResultsRead(BaseModel):
    run: EvaluationRunRead
    items: list[RunResultRead]
    total: int
    page: int
    page_size: int


class ModuleScoreRead(BaseModel):
    module_code: str
    name: str
    name_en: str
    weight: float
    score: float | None = Field(description="weighted share of indicators met (0..1) among those with data")


class EmployeeResultsRead(BaseModel):
    employee_no: str
    name: str
    department_code: str
    run_id: int | None
    period_end: date | None
    results: list[ResultRead]
    modules: list[ModuleScoreRead]


class IndicatorShareRead(BaseModel):
    indicator_code: str
    module_code: str
    name: str
    name_en: str
    versions: list[int]
    met: int
    not_met: int
    no_data: int
    share_met: float | None


class DepartmentSummaryRead(BaseModel):
    department_code: str
    period_end: date | None
    employees: int
    indicators: list[IndicatorShareRead]
    modules: list[ModuleScoreRead]
