"""The page where HR maps the ids other systems sent records for to the school's people."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.integrations.metrics import service
from trainquant.pagination import PageParams
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Read = Annotated[Principal, require("metrics:read")]
Write = Annotated[Principal, require("metrics:write")]
PAGE_SIZE = 50


def _problem(exc: DomainError) -> str:
    return {
        "external-id-taken": _("This id is already someone's."),
        "employee-has-id": _("This employee already has an id in that system."),
        "unknown-system": _("Ids of that system are not kept."),
        "not-found": _("No employee with this number."),
    }.get(exc.code, _("The id could not be mapped."))


@router.get("/metrics/unmapped")
def unmapped_page(request: Request, db: ReadSession, _p: Read, page: int = 1, mapped: str = "", records: int = 0):
    paging = PageParams(page=max(1, min(page, 100_000)), page_size=PAGE_SIZE)
    rows, total = service.unmapped_ids(db, paging)
    return render(request, "integrations/unmapped.html", {
        "rows": rows, "total": total, "page": paging.page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "mapped": mapped[:80], "records": records,
    })


@router.post("/metrics/import")
async def import_page(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, _p: Write):
    form = await request.form()
    upload, source = form.get("file"), str(form.get("source") or "import").strip()[:40] or "import"
    paging = PageParams(page=1, page_size=PAGE_SIZE)
    ctx: dict = {"mapped": "", "records": 0}
    if not isinstance(upload, UploadFile) or not upload.filename:
        ctx["problem"] = _("Choose a sheet to import.")
    else:
        content = await upload.read(settings.import_max_bytes + 1)
        try:
            ctx["imported"] = await run_in_threadpool(service.import_sheet, db, content, upload.filename, source=source, now=clock.now(),
                                                      settings=settings)
        except DomainError as exc:
            ctx["problem"] = {"not-a-metric-sheet": _("The sheet needs the columns 指标, 数值, 工号 or 外部账号, and 时间 (or 开始 and 结束)."),
                              "no-rows": _("The sheet has a header but no rows.")}.get(exc.code, _("The file could not be read as a sheet."))
    rows, total = await run_in_threadpool(service.unmapped_ids, db, paging)
    return render(request, "integrations/unmapped.html", {"rows": rows, "total": total, "page": 1, "pages": max(1, math.ceil(total / PAGE_SIZE)),
                                                          **ctx}, status_code=422 if ctx.get("problem") else 200)


@router.post("/metrics/unmapped/map")
def map_page(request: Request, db: DbSession, _p: Write, system: Annotated[str, Form()] = "", external_id: Annotated[str, Form()] = "",
             employee_no: Annotated[str, Form()] = ""):
    try:
        n = service.map_external_id(db, system.strip()[:40], external_id.strip()[:64], employee_no.strip()[:40])
    except DomainError as exc:
        db.rollback()
        paging = PageParams(page=1, page_size=PAGE_SIZE)
        rows, total = service.unmapped_ids(db, paging)
        return render(request, "integrations/unmapped.html", {
            "rows": rows, "total": total, "page": 1, "pages": max(1, math.ceil(total / PAGE_SIZE)), "mapped": "", "records": 0,
            "problem": _problem(exc), "problem_id": (system, external_id),
        }, status_code=422)
    return RedirectResponse(f"/metrics/unmapped?mapped={external_id.strip()[:64]}&records={n}", status_code=303)
