"""Settings: campuses (校区) and their venues with geofences, where HR used to need the CLI or the API.
A venue's geofence is its centre and radius: geofenced check-ins are judged against it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from trainquant.auth.permissions import Principal
from trainquant.deps import DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.org import schemas, service
from trainquant.params import PathId
from trainquant.web import codes
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
OrgWrite = Annotated[Principal, require("org:write")]

codes.register({
    "site-exists": lambda p: _("A campus with this code exists already."),
    "venue-name-taken": lambda p: _("The campus has a venue of this name already."),
})


def _field_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e.get("loc") else "_form"
        kind = e.get("type", "")
        if field in ("latitude", "longitude"):
            text = _("A latitude from -90 to 90 and a longitude from -180 to 180, in decimal degrees.")
        elif field == "radius_m":
            text = _("A radius above 0 and at most 5,000 metres.")
        elif field == "timezone":
            text = _("A time zone such as Asia/Shanghai.")
        elif field == "code":
            text = _("Use only letters, digits and . _ - (no spaces).")
        elif kind in ("missing", "string_too_short"):
            text = _("This field is required.")
        else:
            text = _("This value is not valid.")
        out.setdefault(field, text)
    return out


def _page(request: Request, db, *, errors: dict | None = None, form: dict | None = None, at: str | None = None, status_code: int = 200):
    """``at``: which form the errors belong to ("site", "venue:<site code>", "edit:<venue id>")."""
    return render(request, "settings/campuses.html", {
        "sites": service.list_sites(db), "errors": errors or {}, "form": form or {}, "at": at,
        "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/settings/campuses")
def campuses_page(request: Request, db: ReadSession, _principal: OrgWrite):
    return _page(request, db)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}


@router.post("/settings/campuses")
def create_campus(request: Request, db: DbSession, _principal: OrgWrite, code: Annotated[str, Form(max_length=64)] = "",
                  name: Annotated[str, Form(max_length=200)] = "", timezone: Annotated[str, Form(max_length=64)] = "",
                  address: Annotated[str, Form(max_length=300)] = ""):
    form = {"code": code, "name": name, "timezone": timezone, "address": address}
    try:
        body = schemas.SiteCreate.model_validate(_clean(form))
        service.create_site(db, body)
    except ValidationError as exc:
        return _page(request, db, errors=_field_errors(exc), form=form, at="site", status_code=422)
    except DomainError as err:
        return _page(request, db, errors={"_form": codes.error_text(err)}, form=form, at="site", status_code=err.status)
    return RedirectResponse("/settings/campuses?done=campus", status_code=303)


VenueForm = dict[str, str]


def _venue_form(name: str, latitude: str, longitude: str, radius_m: str) -> VenueForm:
    return {"name": name, "latitude": latitude, "longitude": longitude, "radius_m": radius_m}


@router.post("/settings/campuses/{code}/venues")
def add_venue(request: Request, code: str, db: DbSession, _principal: OrgWrite, name: Annotated[str, Form(max_length=200)] = "",
              latitude: Annotated[str, Form(max_length=32)] = "", longitude: Annotated[str, Form(max_length=32)] = "",
              radius_m: Annotated[str, Form(max_length=32)] = ""):
    form = _venue_form(name, latitude, longitude, radius_m)
    try:
        service.add_venue(db, code, schemas.VenueCreate.model_validate(_clean(form), strict=False))
    except ValidationError as exc:
        return _page(request, db, errors=_field_errors(exc), form=form, at=f"venue:{code}", status_code=422)
    except DomainError as err:
        return _page(request, db, errors={"_form": codes.error_text(err)}, form=form, at=f"venue:{code}", status_code=err.status)
    return RedirectResponse(f"/settings/campuses?done=venue#site-{code}", status_code=303)


@router.post("/settings/campuses/{code}/venues/{venue_id}")
def edit_venue(request: Request, code: str, venue_id: PathId, db: DbSession, _principal: OrgWrite,
               name: Annotated[str, Form(max_length=200)] = "", latitude: Annotated[str, Form(max_length=32)] = "",
               longitude: Annotated[str, Form(max_length=32)] = "", radius_m: Annotated[str, Form(max_length=32)] = ""):
    form = _venue_form(name, latitude, longitude, radius_m)
    try:
        service.update_venue(db, code, venue_id, schemas.VenueUpdate.model_validate(_clean(form), strict=False))
    except ValidationError as exc:
        return _page(request, db, errors=_field_errors(exc), form=form, at=f"edit:{venue_id}", status_code=422)
    except DomainError as err:
        return _page(request, db, errors={"_form": codes.error_text(err)}, form=form, at=f"edit:{venue_id}", status_code=err.status)
    return RedirectResponse(f"/settings/campuses?done=geofence#site-{code}", status_code=303)
