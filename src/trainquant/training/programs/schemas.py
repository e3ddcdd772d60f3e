"""Training costs over JSON: a cost item as taken and as read, and the totals per program."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from trainquant.org.schemas import Code
from trainquant.schemas import JsonDate, JsonDecimal, StrictInput
from trainquant.training.schemas import SessionCode

CostCategory = Literal["trainer_fee", "delivery", "venue", "materials", "licence", "travel", "design", "needs_analysis", "evaluation", "overhead", "other"]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{3}$")]

Money = Annotated[JsonDecimal, Field(ge=0, le=Decimal("100000000"), max_digits=12, decimal_places=2, allow_inf_nan=False)]


class CostCreate(StrictInput):
    program_code: Code | None = None
    session_code: SessionCode | None = None
    category: CostCategory
    amount: Money
    share: JsonDecimal = Field(default=Decimal(1), gt=0, le=1, max_digits=5, decimal_places=4,
                               description="of a cost that serves several runs (design, a licence), the part this program carries in its ROI")
    currency: Currency = "CNY"
    incurred_on: JsonDate | None = None
    note: Annotated[str, StringConstraints(max_length=200)] | None = None

    @model_validator(mode="after")
    def _target(self) -> CostCreate:
        if self.program_code is None and self.session_code is None:
            raise PydanticCustomError("program-or-session", "give program_code or session_code")
        return self


class CostRead(BaseModel):
    id: int
    program_code: str
    session_code: str | None
    category: str
    amount: Decimal
    share: Decimal
    currency: str
    incurred_on: date | None
    note: str | None
    created_by: str
    created_at: datetime


class CurrencyTotal(BaseModel):
    currency: str
    amount: Decimal
    by_category: dict[str, Decimal]


class CostTotals(BaseModel):
    program_code: str
    program_title: str
    totals: list[CurrencyTotal]
