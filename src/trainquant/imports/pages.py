"""Import pages: upload a file, see what was imported and what was refused, download the error report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from trainquant.auth.permissions import Principal
from trainquant.deps import (
    AppClock,
    AppSettings,
    DbSession,
    ReadSession,
    SubmittedForm,
    require,
)
from trainquant.i18n import gettext_ as _
from trainquant.imports import report, rules, service, texts
from trainquant.imports.api import actor_of, upload_size_guard
from trainquant.pagination import PageParams
from trainquant.params import PathId
from trainquant.web.templating import env, render

router = APIRouter(include_in_schema=False)
env.globals["import_detail"] = texts.detail
ImportWrite = Annotated[Principal, require("import:write")]
RECENT = 20
ERRORS_SHOWN = 500


def _local_time(settings) -> Callable[[datetime], str]:
    zone = ZoneInfo(settings.default_timezone)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _form_page(request: Request, db, *, message: str | None = None, kind: str = "employees", mode: str = "valid-only", status_code: int = 200):
    runs, total = service.list_runs(db, PageParams(page=1, page_size=RECENT))
    return render(
        request,
        "imports/index.html",
        {
            "runs": runs, "total": total, "message": message, "kind": kind, "mode": mode,
            "kinds": service.KINDS, "modes": service.MODES,
            "headers": {k: rules.template_headers(k, english=request.state.locale == "en") for k in service.KINDS},
            "local_time": _local_time(request.app.state.settings),
        },
        status_code=status_code,
    )


@router.get("/imports")
def import_page(request: Request, db: ReadSession, _principal: ImportWrite):
    return _form_page(request, db)


@router.post("/imports", dependencies=[Depends(upload_size_guard)])
def import_upload(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, principal: ImportWrite, form: SubmittedForm):
    kind, mode, upload = form.get("kind"), form.get("mode") or "valid-only", form.get("file")
    if not service.is_kind(kind) or not service.is_mode(mode):
        return _form_page(request, db, message=_("Choose what to import and how."), status_code=422)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form_page(request, db, message=_("Choose a file to import."), kind=str(kind), mode=str(mode), status_code=422)
    content = upload.file.read(settings.import_max_bytes + 1)  # the form is parsed: the file is spooled already
    run = service.run_import(
        db, kind=kind, filename=upload.filename, content=content, mode=mode, actor=actor_of(principal), now=clock.now(), settings=settings,
    )
    # Post/redirect/get: reloading the result page must not import the file a second time.
    return RedirectResponse(f"/imports/{run.id}", status_code=303)


@router.get("/imports/{run_id}")
def import_result(run_id: PathId, request: Request, db: ReadSession, _principal: ImportWrite):
    run = service.get_run(db, run_id)
    errors = service.run_errors(db, run_id, limit=ERRORS_SHOWN)
    total_errors = service.count_errors(db, run_id) if len(errors) >= ERRORS_SHOWN else len(errors)
    repeat_of = service.get_run(db, run.repeat_of_id) if run.repeat_of_id else None
    return render(
        request,
        "imports/run.html",
        {
            "run": run, "errors": [{**d, "params": r.params or {}} for d, r in zip(report.error_dicts(errors), errors, strict=True)], "total_errors": total_errors, "shown": len(errors),
            "repeat_of": repeat_of, "local_time": _local_time(request.app.state.settings),
        },
    )
