"""Import check-ins exported from WeCom, DingTalk, Feishu, or a sign-in sheet (xlsx/csv)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from trainquant.attendance.checkin.schemas import IngestResult
from trainquant.attendance.platforms import rules
from trainquant.attendance.platforms import service as import_service
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, read_json_limited, read_sheet_upload, require

router = APIRouter(prefix="/api/v1/attendance/imports", tags=["attendance"])
Manage = Annotated[Principal, require("attendance:manage")]


@router.get("/policy", summary="What the platforms' own verdicts do (the defaults with the school's TQ_PLATFORM_VERDICT_POLICY over "
            "them), and which punches belong to a session")
def policy(settings: AppSettings, _: Manage) -> dict:
    return {
        "verdicts": {**rules.VERDICT_POLICY, **settings.platform_verdict_policy},
        "unlisted": rules.REVIEW,
        "fields": rules.VERDICT_FIELDS,
        "window_before_min": settings.platform_window_before_min,
        "window_after_min": settings.platform_window_after_min,
        "double_tap_s": settings.platform_double_tap_s,
    }


@router.post(
    "/{source}",
    response_model=IngestResult,
    responses={413: {"description": "the body or the sheet is larger than the limit"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "the platform's JSON answer, as it sent it"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary", "description": "a sign-in sheet, .xlsx or .csv (source 'sheet')"}},
                    }
                },
            },
        }
    },
    summary="Import check-ins: the JSON answer of WeCom checkin/getcheckindata, DingTalk attendance/listRecord or "
    "Feishu attendance/v1/user_flows/query, or a sign-in sheet as multipart field 'file'",
)
async def import_checkins(
    source: Literal["wecom", "dingtalk", "feishu", "sheet"], request: Request, db: DbSession, clock: AppClock, settings: AppSettings, principal: Manage
):
    # The body is read here, on the event loop; the database work runs in the threadpool (on SQLite it
    # may wait for the write lock, which must never happen on the loop: see ``deps.get_principal``).
    if source != "sheet":
        payload = await read_json_limited(request, settings.events_max_bytes)
        return await run_in_threadpool(import_service.import_platform, db, source, payload, principal=principal, now=clock.now(), settings=settings)
    filename, content = await read_sheet_upload(request, settings)
    return await run_in_threadpool(
        import_service.import_sheet, db, content, filename, principal=principal, now=clock.now(), settings=settings
    )
