"""What the simulated school's training year is made of (``training.generate_training`` makes it): programs,
their mandatory rules, sessions, enrolments with their history, assessments, costs, and the scores
generated kept as ground truth."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class ProgramSpec:
    code: str
    title: str
    title_en: str
    kind: str  # offline | online | blended
    level: str
    target_kinds: tuple[str, ...]
    tags: tuple[str, ...]
    trainer: str
    planned_hours: float
    eligibility: dict = field(default_factory=dict)
    requires_approval: bool = True
    description: str = ""
    aims: tuple[str, ...] = ()  # the business metrics it sets out to move


@dataclass(frozen=True)
class MandatoryRuleSpec:
    code: str
    program_code: str
    name: str
    condition: dict
    due_days: int


@dataclass(frozen=True)
class SessionSpec:
    code: str
    program_code: str
    sequence: int
    starts_at: datetime  # UTC
    ends_at: datetime
    site: str | None
    venue: str | None
    online: bool
    trainer: str
    capacity: int
    checkin_methods: tuple[str, ...]
    status: str  # scheduled | completed


@dataclass(frozen=True)
class EventSpec:
    from_status: str | None
    to_status: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class EnrolmentSpec:
    session_code: str
    employee_no: str
    status: str
    source: str
    created_at: datetime
    events: tuple[EventSpec, ...]
    reason: str | None = None
    due_date: date | None = None
    mandatory_rule: str | None = None


@dataclass(frozen=True)
class AssessmentSpec:
    employee_no: str
    kind: str
    program_code: str
    session_code: str
    assessed_on: date
    score: float | None = None  # single-rater score; None for rated, pass/fail and error-rate kinds
    ratings: tuple[tuple[str, float], ...] = ()
    passed: bool | None = None
    errors: int | None = None
    operations: int | None = None
    rater: str | None = None

    @property
    def value(self) -> float | None:
        """The score as the platform stores it: raters averaged to the hundredth, or errors/operations."""
        if self.ratings:
            total = sum((Decimal(str(s)) for _, s in self.ratings), Decimal(0))
            return float((total / len(self.ratings)).quantize(Decimal("0.01")))
        if self.errors is not None and self.operations:
            return float((Decimal(self.errors) / Decimal(self.operations)).quantize(Decimal("0.000001")))
        return self.score


@dataclass(frozen=True)
class CostSpec:
    program_code: str
    session_code: str
    category: str
    amount: Decimal
    incurred_on: date
    note: str
    share: Decimal = Decimal(1)  # of a cost serving several runs (design), this run's part


@dataclass(frozen=True)
class TrainingTruth:
    """Per employee and assessment kind, the results generated, in date order (pass/fail as 1.0/0.0)."""

    scores: dict[str, dict[str, tuple[float, ...]]]
    skills: dict[str, float]  # the latent skill each employee's scores were drawn around

    def values(self, kind: str) -> list[float]:
        return [v for by_kind in self.scores.values() for v in by_kind.get(kind, ())]

    def mean(self, kind: str) -> float:
        return statistics.fmean(self.values(kind))


@dataclass(frozen=True)
class TrainingYear:
    seed: int
    today: date
    first_day: date
    last_day: date
    programs: tuple[ProgramSpec, ...]
    rules: tuple[MandatoryRuleSpec, ...]
    sessions: tuple[SessionSpec, ...]
    enrolments: tuple[EnrolmentSpec, ...]
    assessments: tuple[AssessmentSpec, ...]
    costs: tuple[CostSpec, ...]
    truth: TrainingTruth

    def program_of(self, session_code: str) -> str:
        return next(s.program_code for s in self.sessions if s.code == session_code)


