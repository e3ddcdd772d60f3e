"""Settings: the check-in devices (ZKTeco terminals by serial number, room screens, readers), where
IT used to need the API: register one at a campus and venue, rename it, switch it off and on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select

from trainquant.attendance.devices import registry
from trainquant.attendance.devices.api import DeviceCreate
from trainquant.attendance.models import Device
from trainquant.auth.permissions import Principal
from trainquant.deps import DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.org import service as org
from trainquant.params import PathId
from trainquant.web import codes
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Manage = Annotated[Principal, require("attendance:manage")]
KINDS = ("zkteco", "screen", "reader")

codes.register({
    "device-exists": lambda p: _("A device with this serial number is registered already."),
    "device-unknown-site": lambda p: _("No campus has this code."),
    "device-unknown-venue": lambda p: _("The campus has no venue of this name."),
})


def _page(request: Request, db, *, error: str | None = None, form: dict | None = None, status_code: int = 200):
    sites = org.list_sites(db)
    return render(request, "settings/devices.html", {
        "devices": list(db.scalars(select(Device).order_by(Device.active.desc(), Device.device_id))),
        "sites": sites, "site_by_id": {s.id: s for s in sites}, "venue_by_id": {v.id: v for s in sites for v in s.venues},
        "kinds": KINDS, "error": error, "form": form or {"kind": "zkteco"}, "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/settings/devices")
def devices_page(request: Request, db: ReadSession, _principal: Manage):
    return _page(request, db)


@router.post("/settings/devices")
def register_device(request: Request, db: DbSession, _principal: Manage, device_id: Annotated[str, Form(max_length=120)] = "",
                    kind: Annotated[str, Form(max_length=16)] = "zkteco", name: Annotated[str, Form(max_length=120)] = "",
                    place: Annotated[str, Form(max_length=200)] = ""):
    """``place``: "<campus code>" or "<campus code>/<venue name>", one select."""
    form = {"device_id": device_id, "kind": kind, "name": name, "place": place}
    site_code, _sep, venue = place.partition("/")
    try:
        body = DeviceCreate.model_validate({"device_id": device_id, "kind": kind, "name": name.strip() or None, "site_code": site_code,
                                            "venue": venue or None})
        registry.register_device(db, **body.model_dump())
    except ValidationError:
        return _page(request, db, error=_("A serial number of 3 to 80 letters, digits and . _ -, a kind and a campus."), form=form, status_code=422)
    except DomainError as err:
        return _page(request, db, error=codes.error_text(err), form=form, status_code=err.status)
    return RedirectResponse("/settings/devices?done=registered", status_code=303)


@router.post("/settings/devices/{pk}")
def change_device(pk: PathId, db: DbSession, _principal: Manage, active: Annotated[str, Form(max_length=1)] = "",
                  name: Annotated[str | None, Form(max_length=80)] = None):
    registry.update_device(db, pk, active={"1": True, "0": False}.get(active), name=name.strip() if name is not None else None)
    return RedirectResponse(f"/settings/devices?done={'off' if active == '0' else 'on' if active == '1' else 'renamed'}", status_code=303)
