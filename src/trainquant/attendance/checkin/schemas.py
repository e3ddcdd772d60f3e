"""Check-in events as clients send them, and the verdicts they get back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from typing_extensions import NotRequired, Required, TypedDict

from trainquant.errors import Invalid

Method = Literal["face", "fingerprint", "qr", "geo", "card", "manual"]
ExternalSystem = Literal["device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa"]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]

MAX_BATCH = 10_000


class EventIn(BaseModel):
    """One check-in or check-out. ``at`` must carry its UTC offset: a bare local time is ambiguous."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    employee_no: Short | None = None
    external_id: Short | None = None
    external_system: ExternalSystem | None = None
    session: Short | None = Field(default=None, description="session code; resolved from time and venue when absent")
    kind: Literal["in", "out"]
    at: AwareDatetime
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
    def _who(self) -> "EventIn":
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
_EventDict = with_config(ConfigDict(extra="forbid"))(TypedDict(  # type: ignore[operator]
    "EventDict",
    {
        name: (Required if f.is_required() else NotRequired)[Annotated[(f.annotation, *f.metadata)] if f.metadata else f.annotation]
        for name, f in EventIn.model_fields.items()
    },
))
_EVENT_DICT = TypeAdapter(_EventDict)
_DEFAULTS = {name: f.default for name, f in EventIn.model_fields.items() if not f.is_required()}


def validate_event(raw: Any) -> dict[str, Any]:
    """``EventIn.model_validate(raw)`` as a dict with every field (defaults filled in); raises the same ``ValidationError``."""
    event = _DEFAULTS | _EVENT_DICT.validate_python(raw)
    problem = event_problem(event["employee_no"], event["external_id"], event["external_system"], event["lat"], event["lng"])
    if problem:
        raise ValidationError.from_exception_data(
            "EventIn", [InitErrorDetails(type=PydanticCustomError("value_error", "Value error, {problem}", {"problem": problem}), loc=(), input=raw)]
        )
    return event


class Verdict(BaseModel):
    index: int
    event_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason_code: str | None = None
    reason: str | None = None
    id: int | None = Field(default=None, description="stored event id (the original one for a duplicate)")


class IngestResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[Verdict]


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
