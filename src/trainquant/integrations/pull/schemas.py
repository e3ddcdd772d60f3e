"""A pull's configuration as the API and the page take it, and what is read back (never the credentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from trainquant.integrations.metrics.rules import DEFINITIONS
from trainquant.integrations.pull import rules
from trainquant.schemas import StrictInput

JsonPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Param = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-\[\]]+$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=500)]


def _raise(problem: rules.Problem | None) -> None:
    # A stable error type (the code) with its parameters: the API says the message, pages translate the code.
    if problem is not None:
        raise PydanticCustomError(problem.code, problem.message, dict(problem.params))


class RecordMapIn(StrictInput):
    metric: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: JsonPath


class MappingIn(StrictInput):
    items: JsonPath = Field(default="$.data", description="where a page's items are; $ for a bare array")
    record_id: JsonPath = "$.id"
    who: Literal["external_id", "employee_no"] = "external_id"
    who_path: JsonPath
    records: list[RecordMapIn] = Field(min_length=1, max_length=20)
    at: JsonPath | None = None
    period_start: JsonPath | None = None
    period_end: JsonPath | None = None
    cursor_field: JsonPath | None = Field(default="$.updated_at", description="the item's change time, for the incremental cursor")

    def to_rules(self) -> rules.Mapping:
        return rules.Mapping(self.items, self.record_id, self.who, self.who_path,
                             tuple(rules.RecordMap(r.metric, r.value) for r in self.records),
                             self.at, self.period_start, self.period_end, self.cursor_field)

    @model_validator(mode="after")
    def _valid(self) -> MappingIn:
        for r in self.records:
            d = DEFINITIONS.get(r.metric)
            if d is None:
                raise PydanticCustomError("pull-unknown-metric", "records: no metric {metric}", {"metric": r.metric})
            if not d.recorded:
                raise PydanticCustomError("pull-derived-metric", "records: {metric} is derived ({numerator} / {denominator}); map those",
                                          {"metric": r.metric, "numerator": d.numerator or "", "denominator": d.denominator or ""})
        _raise(self.to_rules().problem())
        return self


class PagingIn(StrictInput):
    style: Literal["page", "offset", "cursor", "link"]
    size: int = Field(default=100, ge=1, le=10_000)
    page_param: Param = "page"
    size_param: Param = "per_page"
    offset_param: Param = "offset"
    cursor_param: Param = "cursor"
    next_cursor: JsonPath = "$.next_cursor"
    total: JsonPath | None = "$.total"

    def to_rules(self) -> rules.Paging:
        return rules.Paging(self.style, self.size, self.page_param, self.size_param, self.offset_param, self.cursor_param,
                            self.next_cursor, self.total)

    @model_validator(mode="after")
    def _valid(self) -> PagingIn:
        _raise(self.to_rules().problem())
        return self


class AuthIn(StrictInput):
    style: Literal["bearer", "basic", "api_key", "oauth2"]
    api_key_header: Param = "X-Api-Key"
    token_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    scope: Annotated[str, StringConstraints(max_length=200)] | None = None

    @model_validator(mode="after")
    def _token_url(self) -> AuthIn:
        if self.style == "oauth2" and not self.token_url:
            raise PydanticCustomError("pull-token-url", "oauth2 needs token_url")
        return self


class PullConfig(StrictInput):
    """How to pull: the system's URL (http or https; the first page's query is kept), the auth style,
    paging, the incremental filter's parameter, and how items map to records."""

    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s]+$")]
    auth: AuthIn
    paging: PagingIn
    mapping: MappingIn
    since_param: Param | None = Field(default="updated_since", description="the query parameter that asks for changes since the cursor")
    timeout_s: float = Field(default=30.0, ge=1.0, le=300.0)


class PullIn(StrictInput):
    config: PullConfig
    credentials: dict[Annotated[str, StringConstraints(max_length=40)], Secret] = Field(
        description="write-only: token; username and password; api_key; or client_id and client_secret")
    schedule_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60, description="None: on demand only")

    @model_validator(mode="after")
    def _credentials(self) -> PullIn:
        needed = rules.CREDENTIALS[self.config.auth.style]
        missing = [k for k in needed if not self.credentials.get(k)]
        if missing:
            raise PydanticCustomError("pull-credentials-missing", "credentials: {style} needs {fields}",
                                      {"style": self.config.auth.style, "fields": ", ".join(missing)})
        extra = sorted(set(self.credentials) - set(needed))
        if extra:
            raise PydanticCustomError("pull-credentials-extra", "credentials: {style} takes no {fields}",
                                      {"style": self.config.auth.style, "fields": ", ".join(extra)})
        return self


class PullRead(BaseModel):
    connector: str
    config: dict
    credentials_set: bool
    schedule_minutes: int | None
    cursor: str | None
    updated_at: datetime


class SyncRunRead(BaseModel):
    id: int
    connector: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    since: str | None
    cursor_max: str | None
    resumable: bool
    attempts: int
    pages: int
    items: int
    accepted: int
    unmapped: int
    duplicate: int
    rejected: int
    retries: int
    error_code: str | None
    error: str | None
