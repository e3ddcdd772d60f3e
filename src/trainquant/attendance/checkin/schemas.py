"""Check-in events as clients send them, and the verdicts they get back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import (
    BaseModel,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    computed_field,
    model_validator,
    with_config,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from trainquant.errors import Invalid
from trainquant.schemas import EARLIEST, LATEST, JsonAwareDateTime, StrictInput, has_nul

Method = Literal["face", "fingerprint", "qr", "geo", "card", "manual"]
ExternalSystem = Literal["device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa"]
# Identifiers end up in indexed text columns and lookups: no control characters (PostgreSQL refuses NUL).
IDENTIFIER = r"^[^\x00-\x1f\x7f]*$"
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=IDENTIFIER)]

MAX_BATCH = 10_000


class EventIn(StrictInput):
    """One check-in or check-out. ``at`` must carry its UTC offset: a bare local time is ambiguous.

    Strict (``StrictInput``): a number or boolean sent as text, or the other way round, is refused
    naming the field, never coerced; ``at`` lies within 1900-01-01 .. 2199-12-31 (``JsonAwareDateTime``).
    """

    event_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=IDENTIFIER)] | None = None
    employee_no: Short | None = None
    external_id: Short | None = None
    external_system: ExternalSystem | None = None
    session: Short | None = Field(default=None, description="session code; resolved from time and venue when absent")
    kind: Literal["in", "out"]
    at: JsonAwareDateTime
    method: Method
    device_id: Short | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    coord_system: Literal["wgs84", "gcj02"] = "wgs84"
    qr_token: Annotated[str, StringConstraints(max_length=200)] | None = None
    reason: Annotated[str, StringConstraints(max_length=300)] | None = Field(default=None, description="required for manual entries")
    evidence: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _who(self) -> EventIn:
        problem = event_problem(self.employee_no, self.external_id, self.external_system, self.lat, self.lng)
        if problem:
            raise ValueError(problem)
        return self


def event_problem(employee_no: str | None, external_id: str | None, external_system: str | None, lat: float | None, lng: float | None) -> str | None:
    """The rules across fields of one event, shared by ``EventIn`` and ``validate_event``."""
    if not employee_no and not (external_id and external_system):
        return "give employee_no, or external_id with external_system"
    if (lat is None) != (lng is None):
        return "lat and lng go together"
    return None


# The ingestion hot path validates into plain dicts with exactly EventIn's field rules: building
# 10,000 model instances costs three times the validation itself.
def _event_dict(name: str, **replaced: Any) -> TypeAdapter[Any]:
    fields = {
        field: (Required if f.is_required() else NotRequired)[
            replaced.get(field) or (Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation)
        ]
        for field, f in EventIn.model_fields.items()
    }
    return TypeAdapter(with_config(StrictInput.model_config)(TypedDict(name, fields)))  # type: ignore[operator]


class _HotPathTime:
    """``at`` parsed and bounded without calling Python (``JsonAwareDateTime`` calls it twice an event).

    Text only, and an instant a day inside the kernel's calendar each side: there every time the
    kernel parses is one it accepts, whatever its offset (offsets stay under a day), so where this
    accepts, the kernel accepts the same value. Whatever this refuses is judged again exactly.
    """

    EARLIEST = datetime.combine(EARLIEST + timedelta(days=1), time(), UTC)
    LATEST = datetime.combine(LATEST - timedelta(days=1), time.max, UTC)

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.chain_schema([
            core_schema.custom_error_schema(core_schema.str_schema(strict=True), custom_error_type="datetime_type"),
            core_schema.datetime_schema(strict=False, tz_constraint="aware", ge=cls.EARLIEST, le=cls.LATEST),
        ])


_EVENT_DICT = _event_dict("EventDict")
_HOT_EVENT_DICT = _event_dict("HotEventDict", at=Annotated[datetime, _HotPathTime])
_DEFAULTS = {name: f.default for name, f in EventIn.model_fields.items() if not f.is_required()}


def validate_event(raw: Any) -> dict[str, Any]:
    """``EventIn.model_validate(raw)`` as a dict with every field (defaults filled in); raises the same ``ValidationError``."""
    try:
        fields = _HOT_EVENT_DICT.validate_python(raw)
    except ValidationError:
        if has_nul(raw):
            EventIn.model_validate(raw)  # the model's whole verdict: its NUL refusals beside the other errors
        fields = _EVENT_DICT.validate_python(raw)  # EventIn's own verdict: its errors, or a time at the calendar's edge it accepts
    if has_nul(fields):
        EventIn.model_validate(raw)  # StrictInput's field check refuses NUL text: the model's own error, exactly
    event = _DEFAULTS | fields
    problem = event_problem(event["employee_no"], event["external_id"], event["external_system"], event["lat"], event["lng"])
    if problem:
        raise ValidationError.from_exception_data(
            "EventIn", [InitErrorDetails(type=PydanticCustomError("value_error", "Value error, {problem}", {"problem": problem}), loc=(), input=raw)]
        )
    return event


REJECTED_CAP = "rejected-cap"


class Verdict(BaseModel):
    index: int
    event_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason_code: str | None = Field(default=None, description=(
        "why: for a rejection its code; for a duplicate 'duplicate' (a repeat of an accepted event) or the code of the "
        f"stored rejection it repeats; '{REJECTED_CAP}' for a rejection not stored because the sender's hourly allowance is used up"
    ))
    reason: str | None = None
    id: int | None = Field(default=None, description="stored event id (the original one for a duplicate; none for a rejection not stored)")


class IngestResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[Verdict]

    @computed_field(description=f"rejections not stored (reason code '{REJECTED_CAP}'): the sender's hourly allowance of stored rejections is used up")
    def rejected_not_stored(self) -> int:
        return sum(1 for v in self.results if v.reason_code == REJECTED_CAP)


def events_of(payload: Any) -> list[Any]:
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise Invalid("'events' must be a list of event objects")
        return events
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        return [payload]
    raise Invalid("send one event object, or {\"events\": [...]}")
