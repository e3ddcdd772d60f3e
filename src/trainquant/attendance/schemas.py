"""Attendance figures as the API returns them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AttendanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: int
    session_code: str | None = None
    employee_id: int
    employee_no: str | None = None
    attended_minutes: float
    scheduled_minutes: float
    participation: float
    late_minutes: float
    early_leave_minutes: float
    away: list[list[datetime]]
    flags: list[str]
    events: int
