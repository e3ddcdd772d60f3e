"""Business metric records in and out over JSON: the batch API a system pushes to, the definitions,
the records, the unknown ids waiting for mapping, and a person's figure over a window."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, read_json_limited, read_sheet_upload, require
from trainquant.errors import Invalid
from trainquant.integrations.metrics import rules, service
from trainquant.integrations.metrics.models import STATUSES, MetricRecord
from trainquant.integrations.metrics.schemas import (
    MAX_BATCH,
    MapIn,
    MetricDefinitionRead,
    MetricIngestResult,
    MetricRecordIn,
    WindowValue,
)
from trainquant.pagination import Page, Paging, paginate
from trainquant.schemas import JsonAwareDateTime

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
Write = Annotated[Principal, require("metrics:write")]
Read = Annotated[Principal, require("metrics:read")]


def _batch(payload: Any) -> tuple[str, list[Any]]:
    if not isinstance(payload, dict) or set(payload) - {"source", "records"} or "source" not in payload or "records" not in payload:
        raise Invalid('send {"source": "<system>", "records": [...]}')
    source, records = payload["source"], payload["records"]
    if not isinstance(source, str) or not source.strip() or len(source) > 40 or not all(c.isalnum() or c in "_.-" for c in source):
        raise Invalid("source: the sending system's name, e.g. teaching_platform, crm, oa (letters, digits, _ . -; at most 40)",
                      errors=[{"field": "source", "code": "invalid"}])
    if not isinstance(records, list):
        raise Invalid("records: a list of records", errors=[{"field": "records", "code": "invalid"}])
    return source.strip(), records


@router.post(
    "/records", response_model=MetricIngestResult,
    summary="Store a batch of business metric records from one system: each answered accepted, unmapped (kept for mapping), "
    "duplicate or rejected with its reason",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["source", "records"], "additionalProperties": False,
        "properties": {"source": {"type": "string", "maxLength": 40},
                       "records": {"type": "array", "items": MetricRecordIn.model_json_schema(), "minItems": 1, "maxItems": MAX_BATCH}},
    }}}}},
)
async def post_records(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, _: Write):
    payload = await read_json_limited(request, settings.events_max_bytes)
    source, records = _batch(payload)
    return await run_in_threadpool(service.ingest_records, db, source, records, now=clock.now())


@router.post(
    "/imports", response_model=MetricIngestResult,
    responses={413: {"description": "the sheet is larger than the limit"}},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}},
    summary="Import metric history from a sheet (.xlsx or .csv; 指标, 数值, 工号 or 外部账号, 时间 or 开始/结束): each row answered as a record is",
)
async def import_history(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, _: Write,
                         source: Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")] = "import"):
    filename, content = await read_sheet_upload(request, settings)
    return await run_in_threadpool(service.import_sheet, db, content, filename, source=source, now=clock.now(),
                                   settings=settings)


@router.get("/definitions", response_model=list[MetricDefinitionRead], summary="Every metric: unit, how a window aggregates, which way is better")
def definitions(_: Read):
    return [MetricDefinitionRead(
        key=d.key, label=d.label, label_en=d.label_en, unit=d.unit, aggregation=d.aggregation, better=d.better, recorded=d.recorded,
        numerator=d.numerator, denominator=d.denominator, minimum=d.minimum, maximum=d.maximum,
    ) for d in rules.DEFINITIONS.values()]


@router.get("/records", response_model=Page[dict], summary="The stored records, newest first")
def list_records(
    db: ReadSession, paging: Paging, _: Read,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")] = None,
):
    stmt = select(MetricRecord).order_by(MetricRecord.id.desc())
    if metric:
        stmt = stmt.where(MetricRecord.metric_key == metric)
    if source:
        stmt = stmt.where(MetricRecord.source == source)
    if status:
        stmt = stmt.where(MetricRecord.status == status)
    rows, total = paginate(db, stmt, paging)
    return Page.of([{
        "id": r.id, "source": r.source, "record_id": r.source_record_id, "status": r.status, "reason_code": r.reason_code, "reason": r.reason,
        "metric": r.metric_key, "employee_id": r.employee_id, "external_system": r.external_system, "external_id": r.external_id,
        "value": r.value, "period_start": r.period_start, "period_end": r.period_end, "received_at": r.received_at,
    } for r in rows], total, paging)


@router.get("/unmapped", response_model=Page[dict], summary="Ids in other systems that records were sent for and nobody is mapped to yet")
def unmapped(db: ReadSession, paging: Paging, _: Read):
    rows, total = service.unmapped_ids(db, paging)
    return Page.of(rows, total, paging)


@router.post("/unmapped/map", summary="Make an unknown id the person's id in that system: the records kept for it count for them")
def map_id(body: MapIn, db: DbSession, _: Write) -> dict:
    resolved = service.map_external_id(db, body.system, body.external_id, body.employee_no)
    return {"system": body.system, "external_id": body.external_id, "employee_no": body.employee_no, "records": resolved}


@router.get("/employees/{employee_no}/{metric}", response_model=WindowValue,
            summary="A person's figure of one metric over [start, end) (a rate: the ratio of the sums, never a mean of rates)")
def employee_value(employee_no: Annotated[str, Path(max_length=40)], metric: Annotated[str, Path(max_length=64)],
                   start: JsonAwareDateTime, end: JsonAwareDateTime, db: ReadSession, _: Read):
    value, n = service.window_value(db, metric, employee_no, start, end)
    return WindowValue(metric=metric, employee_no=employee_no, start=start, end=end, value=value, records=n)
