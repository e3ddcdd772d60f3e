"""The slot finder (排课助手) over JSON: ranked slots for a group, and the fewest sessions covering it."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from trainquant.auth.permissions import Principal
from trainquant.deps import AppSettings, DbSession, require
from trainquant.schemas import JsonDate, JsonTime, StrictInput
from trainquant.training.scheduling import rules as sr
from trainquant.training.scheduling import service as scheduling

router = APIRouter(prefix="/api/v1/scheduling", tags=["scheduling"])
Manage = Annotated[Principal, require("training:manage")]
Codes = Annotated[list[Annotated[str, Field(min_length=1, max_length=48)]], Field(max_length=500)]


class SlotQuery(StrictInput):
    program: Annotated[str | None, Field(max_length=32, description="a program code: its target department kinds")] = None
    department_kinds: Codes = Field(default_factory=list)
    departments: Codes = Field(default_factory=list, description="department codes")
    tags: Codes = Field(default_factory=list)
    employee_nos: Annotated[list[Annotated[str, Field(min_length=1, max_length=32)]], Field(max_length=3000)] = Field(default_factory=list)
    length_minutes: Annotated[int, Field(ge=15, le=720)] = 120
    date_from: JsonDate
    date_to: JsonDate
    grid_minutes: Annotated[int, Field(ge=5, le=240)] = 30
    day_start: JsonTime = time(8, 0)
    day_end: JsonTime = time(21, 0)
    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]] | None, Field(description="0 = Monday; all days when absent")] = None
    respect_peaks: bool = Field(default=True, description="treat department peak periods (marketing weekends) as busy")
    limit: Annotated[int, Field(ge=1, le=200)] = 20

    def group(self) -> scheduling.Group:
        return scheduling.Group(self.program, tuple(self.department_kinds), tuple(self.departments), tuple(self.tags), tuple(self.employee_nos))


class CoverQuery(SlotQuery):
    capacity: Annotated[int, Field(ge=1, le=1000)] = 30
    min_group: Annotated[int, Field(ge=1, le=1000, description="plan no session for fewer people; who cannot be gathered is too_few")] = 1

    @model_validator(mode="after")
    def _group_fits(self) -> CoverQuery:
        if self.min_group > self.capacity:
            raise PydanticCustomError("min-group-over-capacity", "the smallest group cannot be larger than the seats of a session")
        return self


def search(q: SlotQuery, db, settings) -> scheduling.SlotSearch:
    return scheduling.find_slots(
        db, q.group(), first=q.date_from, last=q.date_to, length_minutes=q.length_minutes, default_tz=settings.default_timezone,
        grid_minutes=q.grid_minutes, day_start=q.day_start, day_end=q.day_end, limit=q.limit,
        peaks=sr.DEFAULT_PEAKS if q.respect_peaks else (), weekdays=tuple(q.weekdays) if q.weekdays is not None else None,
    )


@router.post("/slots", summary="Candidate slots ranked by how many of the group are free, with who is missing and why")
def slots(q: SlotQuery, db: DbSession, settings: AppSettings, _: Manage) -> dict:
    found = search(q, db, settings)
    return {"group_size": len(found.people), "timezone": found.tz.key, "slots": [scheduling.slot_dict(o, found) for o in found.ranked]}


@router.post("/cover", summary="The fewest sessions (greedy, with a lower bound) that seat everyone who is free at some slot")
def cover(q: CoverQuery, db: DbSession, settings: AppSettings, _: Manage) -> dict:
    found = search(q, db, settings)
    return scheduling.plan_dict(sr.cover(found.options, capacity=q.capacity, min_group=q.min_group), found)
