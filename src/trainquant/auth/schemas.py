from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trainquant.schemas import StrictInput

Role = Literal["admin", "hr", "manager", "employee"]


class UserCreate(StrictInput):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")]
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    role: Role
    employee_no: str | None = None
    department_code: str | None = None
    display_name: str | None = Field(default=None, max_length=64)


class UserUpdate(StrictInput):
    """A change of role, a manager's department ("" clears it), or deactivation (false) / reactivation."""

    role: Role | None = None
    department_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    is_active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str | None
    role: str
    employee_id: int | None
    department_id: int | None
    is_active: bool
    created_at: datetime


class ApiKeyCreate(StrictInput):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    scopes: list[str] = Field(min_length=1)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="shown once; only its digest is stored")


class Me(BaseModel):
    kind: str
    name: str
    role: str | None
    permissions: list[str]
    employee_id: int | None


class PasswordChange(StrictInput):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=256)]


class LoginFailureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    username: str = Field(description="the name typed")
    user_id: int | None = Field(description="the user that name matched, if any")
    known_user: bool
    client_address: str | None
    reason: Literal["wrong-password", "throttled", "inactive"]
