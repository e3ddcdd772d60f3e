"""JSON routes of the import: upload a file, list the runs, read a run's errors, download reports and templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import Invalid, PayloadTooLarge
from trainquant.imports import report, service
from trainquant.imports.models import ImportRun
from trainquant.pagination import Page, Paging
from trainquant.params import PathId

router = APIRouter(prefix="/api/v1", tags=["import"])

ImportWrite = Annotated[Principal, require("import:write")]
Kind = Literal["employees", "timetables"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"
ERRORS_SHOWN = 1000  # in an upload's answer; the full list is paged at /imports/{id}/errors
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around the file
TOO_LARGE_CODES = frozenset({"too-large", "too-many-rows"})


class ImportRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    filename: str
    sha256: str
    mode: str
    status: str
    total_rows: int
    created_count: int
    updated_count: int
    unchanged_count: int
    rejected_count: int
    repeat_of_id: int | None
    created_by: str
    created_at: datetime


class RowErrorRead(BaseModel):
    row: int
    column: str | None
    code: str
    message: str
    raw: dict[str, Any] | list[Any] | None = Field(
        default=None, description="the row as received: its values by column, or for the header row the list of its cells",
    )


class ImportResult(ImportRunRead):
    errors: list[RowErrorRead]
    errors_total: int
    errors_url: str
    report_url: str


def actor_of(principal: Principal) -> str:
    """Who imported: user:<username>, or the API key's name (already apikey:<name>)."""
    return principal.name if principal.kind == "apikey" else f"{principal.kind}:{principal.name}"


def upload_size_guard(request: Request, settings: AppSettings) -> None:
    """Refuse an upload by its declared size before anything reads the body."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.import_max_bytes + FORM_OVERHEAD:
        limit = settings.import_max_bytes / 1024 / 1024
        raise PayloadTooLarge(f"the upload is {int(declared) / 1024 / 1024:.1f} MB; at most {limit:.1f} MB can be imported at once", code="too-large")


async def read_upload(request: Request, settings: Settings) -> tuple[str, bytes, service.ImportMode]:
    """(filename, content, mode) from the multipart form; content is cut one byte past the limit."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise Invalid("send the file as multipart/form-data with the field 'file' (and optionally 'mode')")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("the form has no file in the field 'file'", errors=[{"field": "file", "code": "required", "message": "a file is required"}])
    mode = form.get("mode") or "valid-only"
    if not service.is_mode(mode):
        raise Invalid(f"mode must be one of {', '.join(service.MODES)}", errors=[{"field": "mode", "code": "invalid", "message": f"unknown mode {mode!r}"}])
    content = await upload.read(settings.import_max_bytes + 1)
    return upload.filename or "upload", content, mode


def run_summary(db: Session, run: ImportRun, *, limit: int = ERRORS_SHOWN) -> dict[str, Any]:
    errors = report.error_dicts(service.run_errors(db, run.id, limit=limit))
    return {
        **ImportRunRead.model_validate(run).model_dump(mode="json"),
        "errors": errors,
        "errors_total": service.count_errors(db, run.id) if len(errors) >= limit else len(errors),
        "errors_url": f"/api/v1/imports/{run.id}/errors",
        "report_url": f"/api/v1/imports/{run.id}/errors.xlsx",
    }


def rejection_problem(request: Request, summary: dict[str, Any]) -> JSONResponse:
    # A rejected import is answered, not raised: the request's unit of work commits only when the route
    # returns, and the run with its rejections must be kept (that is the point of the report). A second
    # session would also work, but on SQLite it would wait for the write lock this request holds.
    codes = {e["code"] for e in summary["errors"]}
    too_large = bool(codes & TOO_LARGE_CODES)
    first = summary["errors"][0] if summary["errors"] else None
    if first is not None and first["row"] == service.FILE_ROW:
        detail = first["message"]
    else:
        detail = (
            f"the import was rejected: {summary['errors_total']} error(s) in {summary['rejected_count']} of "
            f"{summary['total_rows']} row(s); nothing was written"
        )
    err = (PayloadTooLarge if too_large else Invalid)(
        detail,
        errors=[{k: e[k] for k in ("row", "column", "code", "message")} for e in summary["errors"]],
        import_run_id=summary["id"],
        errors_total=summary["errors_total"],
        report_url=summary["report_url"],
    )
    return JSONResponse(err.problem(instance=request.url.path), status_code=err.status, media_type=PROBLEM)


@router.post(
    "/imports/{kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    dependencies=[Depends(upload_size_guard)],
    responses={413: {"description": "file too large"}, 422: {"description": "rejected; the run and its errors are kept"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": ".xlsx or .csv (UTF-8 or GBK)"},
                            "mode": {"type": "string", "enum": list(service.MODES), "default": "valid-only"},
                        },
                    }
                }
            },
        }
    },
)
async def upload_import(kind: Kind, request: Request, db: DbSession, clock: AppClock, settings: AppSettings, principal: ImportWrite):
    """Import employees or timetables from a file; every run is kept with its rejected rows."""
    filename, content, mode = await read_upload(request, settings)
    run = await run_in_threadpool(
        service.run_import, db, kind=kind, filename=filename, content=content, mode=mode,
        actor=actor_of(principal), now=clock.now(), settings=settings,
    )
    summary = await run_in_threadpool(run_summary, db, run)
    if run.status == "rejected":
        return rejection_problem(request, summary)
    return JSONResponse(summary, status_code=status.HTTP_201_CREATED)


@router.get("/imports", response_model=Page[ImportRunRead])
def list_imports(db: ReadSession, paging: Paging, _: ImportWrite, kind: Kind | None = None):
    runs, total = service.list_runs(db, paging, kind=kind)
    return Page.of([ImportRunRead.model_validate(r) for r in runs], total, paging)


@router.get("/imports/templates/{kind}.xlsx", response_class=Response)
def download_template(kind: Kind, _: ImportWrite):
    filename = "employees-template.xlsx" if kind == "employees" else "timetables-template.xlsx"
    return Response(report.template_xlsx(kind), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/imports/{run_id}", response_model=ImportResult)
def get_import(run_id: PathId, db: ReadSession, _: ImportWrite):
    return run_summary(db, service.get_run(db, run_id), limit=0)


@router.get("/imports/{run_id}/errors", response_model=Page[RowErrorRead])
def import_errors(run_id: PathId, db: ReadSession, paging: Paging, _: ImportWrite):
    service.get_run(db, run_id)
    rows = service.run_errors(db, run_id, limit=paging.page_size, offset=paging.offset)
    return Page.of(report.error_dicts(rows), service.count_errors(db, run_id), paging)


@router.get("/imports/{run_id}/errors.xlsx", response_class=Response)
def import_errors_xlsx(run_id: PathId, db: ReadSession, settings: AppSettings, _: ImportWrite):
    """The rejected rows as a workbook in the reader's language (their cookie, else Accept-Language)."""
    run = service.get_run(db, run_id)
    content = report.errors_xlsx(run, service.run_errors(db, run_id), zone=settings.default_timezone)
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="import-{run_id}-errors.xlsx"'})
