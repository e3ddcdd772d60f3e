"""Request and response bodies of the training API: programs, sessions, enrolments, rules, assessments, costs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from trainquant.integrations.metrics.rules import DEFINITIONS
from trainquant.org.schemas import (
    Code,
    DepartmentKind,
    LongName,
    Name,
    ReadModel,
    Tag,
)
from trainquant.schemas import JsonAwareDateTime, JsonDate, JsonDecimal, StrictInput

ProgramKind = Literal["offline", "online", "blended"]
ProgramLevel = Literal["onboarding", "foundation", "advanced", "refresher"]
CheckinMethod = Literal["face", "fingerprint", "qr", "geo", "card", "manual"]
MissingCheckout = Literal["credit-to-end", "count-to-last-event"]
EnrolmentStatus = Literal["requested", "approved", "rejected", "waitlisted", "cancelled"]
EnrolmentSource = Literal["self", "hr", "mandatory", "manager"]

SessionCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Text = Annotated[str, StringConstraints(max_length=2000)]


def _known_metric(key: str) -> str:
    if key not in DEFINITIONS:
        raise PydanticCustomError("unknown_metric", "no business metric {key}; known: {known}", {"key": key, "known": ", ".join(sorted(DEFINITIONS))})
    return key


MetricKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(_known_metric)]
Days = Annotated[int, Field(ge=0, le=36500)]


def _unique(values: list, what: str) -> list:
    if len(set(values)) != len(values):
        raise PydanticCustomError("repeated", "{what} must not repeat", {"what": what})
    return values


# ---------------------------------------------------------------- eligibility


class EligibilitySpec(StrictInput):
    """Who may enrol (a program) or must (a mandatory rule). Every condition given must hold."""

    department_kinds: list[DepartmentKind] = Field(default_factory=list, max_length=4)
    tags_any: list[Tag] = Field(default_factory=list, max_length=20, description="at least one of these tags")
    hired_within_days: Days | None = Field(default=None, description="hired at most this many days ago")
    hired_at_least_days: Days | None = Field(default=None, description="hired at least this many days ago")
    prerequisites: list[Code] = Field(default_factory=list, max_length=20, description="program codes completed first")

    @model_validator(mode="after")
    def _possible(self) -> EligibilitySpec:
        if self.hired_within_days is not None and self.hired_at_least_days is not None and self.hired_within_days < self.hired_at_least_days:
            raise PydanticCustomError("nobody-qualifies", "hired_within_days is smaller than hired_at_least_days: nobody could qualify")
        _unique(self.department_kinds, "department_kinds")
        _unique(self.prerequisites, "prerequisites")
        return self

    def stored(self) -> dict:
        return self.model_dump(exclude_defaults=True)


# ---------------------------------------------------------------- programs


class ProgramCreate(StrictInput):
    code: Code
    title: Title
    title_en: Title | None = None
    kind: ProgramKind
    level: ProgramLevel = "foundation"
    target_kinds: list[DepartmentKind] = Field(default_factory=list, max_length=4)
    tags: list[Tag] = Field(default_factory=list, max_length=20, description="needs it addresses, e.g. classroom-interaction")
    aims: list[MetricKey] = Field(default_factory=list, max_length=12, description="business metrics it sets out to move, e.g. crm.conversion_rate")
    trainer: Name | None = None
    trainer_employee_no: Code | None = None
    planned_hours: float = Field(default=0, ge=0, le=1000)
    eligibility: EligibilitySpec = Field(default_factory=EligibilitySpec)
    requires_approval: bool = True
    description: Text | None = None

    _distinct = field_validator("target_kinds", "tags", "aims")(lambda v: _unique(v, "the list"))


class ProgramUpdate(StrictInput):
    title: Title | None = None
    title_en: Title | None = None
    kind: ProgramKind | None = None
    level: ProgramLevel | None = None
    target_kinds: list[DepartmentKind] | None = Field(default=None, max_length=4)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    aims: list[MetricKey] | None = Field(default=None, max_length=12)
    trainer: Name | None = None
    trainer_employee_no: Code | None = None
    planned_hours: float | None = Field(default=None, ge=0, le=1000)
    eligibility: EligibilitySpec | None = None
    requires_approval: bool | None = None
    description: Text | None = None


class ProgramRead(BaseModel):
    id: int
    code: str
    title: str
    title_en: str | None
    kind: str
    level: str
    target_kinds: list[str]
    tags: list[str]
    aims: list[str] = []
    trainer: str | None
    trainer_employee_no: str | None
    planned_hours: float
    eligibility: dict
    requires_approval: bool
    active: bool
    description: str | None
    created_at: datetime
    sessions: int = 0


# ---------------------------------------------------------------- sessions


class SessionFields(StrictInput):
    online: bool | None = None
    site_code: Code | None = None
    venue: LongName | None = Field(default=None, description="a venue name of the site")
    trainer: Name | None = None
    trainer_employee_no: Code | None = None
    capacity: int | None = Field(default=None, ge=1, le=10000)
    checkin_methods: list[CheckinMethod] | None = Field(default=None, max_length=6)
    min_participation: float | None = Field(default=None, gt=0, le=1)
    missing_checkout_policy: MissingCheckout | None = None

    _distinct = field_validator("checkin_methods")(lambda v: v if v is None else _unique(v, "checkin_methods"))


class SessionCreate(SessionFields):
    program_code: Code
    code: SessionCode | None = Field(default=None, description="defaults to <program>-<sequence>")
    sequence: int | None = Field(default=None, ge=1, le=1000, description="n-th session of the program; defaults to the next")
    starts_at: JsonAwareDateTime
    ends_at: JsonAwareDateTime

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("starts_at")
        if start is not None and value <= start:
            raise PydanticCustomError("ends-before-start", "ends_at must be after starts_at")
        return value


class SessionUpdate(SessionFields):
    starts_at: JsonAwareDateTime | None = None
    ends_at: JsonAwareDateTime | None = None
    confirm_past: bool = Field(default=False, description="move a session that has enrolments to a start in the past "
                               "(after a 409 moves-into-past): its enrolments become a record of a training held")


class SessionCancel(StrictInput):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class SessionRead(BaseModel):
    id: int
    code: str
    program_code: str
    program_title: str
    program_title_en: str | None = None
    sequence: int
    starts_at: datetime
    ends_at: datetime
    online: bool
    site_code: str | None
    venue: str | None
    trainer: str | None
    trainer_employee_no: str | None
    capacity: int | None
    checkin_methods: list[str]
    min_participation: float
    missing_checkout_policy: str
    status: str
    cancel_reason: str | None
    approved: int = 0
    waitlisted: int = 0
    requested: int = 0
    seats_left: int | None = None


# ---------------------------------------------------------------- enrolments


class EnrolmentRequest(StrictInput):
    session_code: SessionCode
    reason: Reason | None = Field(default=None, description="a note for the approver")
    allow_overlap: bool = Field(default=False, description="enrol although the person is in another session at an overlapping time "
                                "(after a 409 person-busy naming those sessions)")


class HrEnrol(StrictInput):
    session_code: SessionCode
    employee_no: Code
    reason: Reason | None = None
    skip_eligibility: bool = Field(default=False, description="enrol although the eligibility rules say no (needs a reason)")
    allow_overlap: bool = Field(default=False, description="enrol although the person is in another session at an overlapping time "
                                "(after a 409 person-busy naming those sessions)")

    @model_validator(mode="after")
    def _reasoned(self) -> HrEnrol:
        if self.skip_eligibility and not self.reason:
            raise PydanticCustomError("skip-needs-reason", "skipping the eligibility rules needs a reason")
        return self


class Decision(StrictInput):
    reason: Reason | None = None


class Rejection(StrictInput):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Override(Rejection):
    decision: Literal["approve", "reject"]


class EnrolmentEventRead(ReadModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    exceptions: list[str] = Field(default_factory=list, description="what this step overrode: eligibility-skipped, overlap-allowed, late-entry")
    at: datetime


class EnrolmentRead(BaseModel):
    id: int
    session_code: str
    program_code: str
    program_title: str
    program_title_en: str | None = None
    starts_at: datetime
    ends_at: datetime
    employee_no: str
    employee_name: str
    department_code: str
    status: str
    source: str
    due_date: date | None
    reason: str | None
    exceptions: list[str] = Field(default_factory=list, description="what HR's enrolment overrode: eligibility-skipped (the rules said no), "
                                  "overlap-allowed (the person is in another session at that time), late-entry (entered after the start)")
    waitlist_rank: int | None = Field(default=None, description="1 = next to get a seat")
    created_at: datetime
    updated_at: datetime
    history: list[EnrolmentEventRead] | None = None


# ---------------------------------------------------------------- mandatory rules


class MandatoryRuleCreate(StrictInput):
    code: SessionCode
    name: Title
    program_code: Code
    condition: EligibilitySpec
    due_days: int = Field(default=30, ge=1, le=3650)
    active: bool = True


class MandatoryRuleUpdate(StrictInput):
    name: Title | None = None
    condition: EligibilitySpec | None = None
    due_days: int | None = Field(default=None, ge=1, le=3650)
    active: bool | None = None


class MandatoryRuleRead(BaseModel):
    id: int
    code: str
    name: str
    program_code: str
    condition: dict
    due_days: int
    active: bool
    created_at: datetime


class MandatoryOutcome(BaseModel):
    rule_code: str
    employee_no: str
    employee_name: str
    outcome: Literal["approved", "waitlisted", "unscheduled", "busy"] = Field(
        description="busy: every upcoming session overlaps another of the person's; nobody was enrolled")
    session_code: str | None
    due_date: date


class MandatoryRunRead(BaseModel):
    dry_run: bool
    enrolled: int
    waitlisted: int
    unscheduled: int
    busy: int = Field(default=0, description="matching staff every upcoming session of whom clashes with another of theirs")
    already: int = Field(description="matching staff already enrolled, done, or exempted by HR")
    outcomes: list[MandatoryOutcome]


# ---------------------------------------------------------------- assessments

ScoreValue = Annotated[JsonDecimal, Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)]


class AssessmentKindRead(ReadModel):
    code: str
    name: str
    name_en: str
    scale: str
    min_value: float | None
    max_value: float | None
    step: float | None
    pass_mark: float | None
    higher_is_better: bool
    multiple_raters: bool


class RatingIn(StrictInput):
    rater: Name
    score: ScoreValue


class AssessmentCreate(StrictInput):
    employee_no: Code
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    assessed_on: JsonDate
    score: ScoreValue | None = None
    ratings: list[RatingIn] = Field(default_factory=list, max_length=20, description="several raters, averaged")
    passed: bool | None = Field(default=None, description="derived from the pass mark when not given")
    errors: int | None = Field(default=None, ge=0, le=1_000_000)
    operations: int | None = Field(default=None, ge=0, le=1_000_000)
    rater: Name | None = None
    evidence: Annotated[str, StringConstraints(max_length=500)] | None = None
    program_code: Code | None = None
    session_code: SessionCode | None = None


class RatingRead(BaseModel):
    rater: str
    score: float


class AssessmentRead(BaseModel):
    id: int
    employee_no: str
    employee_name: str
    kind: str
    kind_name: str
    kind_name_en: str
    assessed_on: date
    score: float | None
    passed: bool | None
    ratings: list[RatingRead]
    errors: int | None
    operations: int | None
    rater: str | None
    evidence: str | None
    program_code: str | None
    session_code: str | None
    created_by: str
    created_at: datetime
