"""The allow-list of check-in devices: registering a terminal by its serial number at a campus (and
venue), renaming it, switching it off and on. A terminal not registered, or switched off, has its
uploads refused (devices/service.py); what it sent before stays."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance.models import Device
from trainquant.errors import Conflict, NotFound
from trainquant.org.models import Site, Venue


def get_device(db: Session, pk: int) -> Device:
    dev = db.get(Device, pk)
    if dev is None:
        raise NotFound(f"no device {pk}")
    return dev


def register_device(db: Session, *, device_id: str, kind: str, name: str | None, site_code: str, venue: str | None) -> Device:
    if db.scalar(select(Device.id).where(Device.device_id == device_id)) is not None:
        raise Conflict(f"device {device_id!r} is already registered", code="device-exists")
    site = db.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise NotFound(f"no site with code {site_code!r}", code="device-unknown-site")
    venue_id = None
    if venue:
        venue_id = db.scalar(select(Venue.id).where(Venue.site_id == site.id, Venue.name == venue))
        if venue_id is None:
            raise NotFound(f"site {site.code} has no venue named {venue!r}", code="device-unknown-venue")
    dev = Device(device_id=device_id, kind=kind, name=name, site_id=site.id, venue_id=venue_id, active=True, info={})
    db.add(dev)
    db.flush()
    return dev


def update_device(db: Session, pk: int, *, active: bool | None = None, name: str | None = None) -> Device:
    dev = get_device(db, pk)
    if active is not None:
        dev.active = active
    if name is not None:
        dev.name = name
    db.flush()
    return dev
