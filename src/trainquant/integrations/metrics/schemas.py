"""Business metric records in over JSON, and what is answered."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from trainquant.attendance.checkin.schemas import IDENTIFIER, Short
from trainquant.schemas import JsonAwareDateTime, JsonDecimal, StrictInput

MAX_BATCH = 10_000
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")]


class MetricRecordIn(StrictInput):
    """One record: who (``employee_no``, or ``external_id`` in ``system``, by default the sending
    system), which metric, its value, and when: a moment (``at``) or a period (``period_start`` ..
    ``period_end``). Times carry their offset."""

    record_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=IDENTIFIER)]
    metric: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    value: JsonDecimal
    employee_no: Short | None = None
    external_id: Short | None = None
    system: Source | None = Field(default=None, description="the system the external_id belongs to; the sender's by default")
    at: JsonAwareDateTime | None = None
    period_start: JsonAwareDateTime | None = None
    period_end: JsonAwareDateTime | None = None

    @model_validator(mode="after")
    def _who_and_when(self) -> MetricRecordIn:
        if not self.employee_no and not self.external_id:
            raise ValueError("give employee_no or external_id")
        if self.at is not None and (self.period_start is not None or self.period_end is not None):
            raise ValueError("give at, or period_start and period_end, not both")
        if self.at is None and (self.period_start is None or self.period_end is None):
            raise ValueError("give at, or period_start and period_end")
        if self.period_start is not None and self.period_end is not None and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class MetricVerdict(BaseModel):
    index: int
    record_id: str | None
    status: Literal["accepted", "unmapped", "duplicate", "rejected"]
    reason_code: str | None = None
    reason: str | None = None
    id: int | None = None


class MetricIngestResult(BaseModel):
    accepted: int
    unmapped: int
    duplicate: int
    rejected: int
    results: list[MetricVerdict]


class MetricDefinitionRead(BaseModel):
    key: str
    label: str
    label_en: str
    unit: str
    aggregation: str
    better: str
    recorded: bool
    numerator: str | None
    denominator: str | None
    minimum: Decimal | None
    maximum: Decimal | None


class MapIn(StrictInput):
    system: Source
    external_id: Short
    employee_no: Short


class WindowValue(BaseModel):
    metric: str
    employee_no: str
    start: datetime
    end: datetime
    value: Decimal | None
    records: int
