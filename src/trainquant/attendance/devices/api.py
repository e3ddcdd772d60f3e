"""The allow-list of check-in devices (ZKTeco terminals by serial number) and their command queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from trainquant.attendance.devices import registry
from trainquant.attendance.models import Device, DeviceCommand
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, DbSession, ReadSession, require
from trainquant.params import PathId
from trainquant.schemas import StrictInput

router = APIRouter(prefix="/api/v1/attendance/devices", tags=["attendance"])
Manage = Annotated[Principal, require("attendance:manage")]


class DeviceCreate(StrictInput):
    device_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")] = Field(
        description="the terminal's serial number (SN) or another stable id"
    )
    kind: Literal["zkteco", "screen", "reader"] = "zkteco"
    name: Annotated[str, StringConstraints(max_length=80)] | None = None
    site_code: str
    venue: Annotated[str, StringConstraints(max_length=100)] | None = Field(default=None, description="venue name within the site")


class DeviceUpdate(StrictInput):
    active: bool | None = None
    name: Annotated[str, StringConstraints(max_length=80)] | None = None


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    device_id: str
    kind: str
    name: str | None
    site_id: int | None
    venue_id: int | None
    active: bool
    last_seen_at: datetime | None
    attlog_stamp: str | None


class CommandCreate(StrictInput):
    command: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\r\n]+$")]


class CommandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    command: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    return_code: str | None


@router.get("", response_model=list[DeviceRead])
def list_devices(db: ReadSession, _: Manage):
    return list(db.scalars(select(Device).order_by(Device.device_id)))


@router.post("", response_model=DeviceRead, status_code=status.HTTP_201_CREATED)
def add_device(body: DeviceCreate, db: DbSession, _: Manage):
    return registry.register_device(db, **body.model_dump())


@router.patch("/{pk}", response_model=DeviceRead)
def update_device(pk: PathId, body: DeviceUpdate, db: DbSession, _: Manage):
    return registry.update_device(db, pk, active=body.active, name=body.name)


@router.get("/{pk}/commands", response_model=list[CommandRead])
def list_commands(pk: PathId, db: ReadSession, _: Manage):
    registry.get_device(db, pk)
    return list(db.scalars(select(DeviceCommand).where(DeviceCommand.device_pk == pk).order_by(DeviceCommand.id.desc()).limit(200)))


@router.post("/{pk}/commands", response_model=CommandRead, status_code=status.HTTP_201_CREATED, summary="Queue a command for the terminal's next poll")
def queue_command(pk: PathId, body: CommandCreate, db: DbSession, clock: AppClock, _: Manage):
    registry.get_device(db, pk)
    cmd = DeviceCommand(device_pk=pk, command=body.command, status="queued", created_at=clock.now())
    db.add(cmd)
    db.flush()
    return cmd
