"""Business metric records: the one way in (``ingest_records``: the batch API today, connectors and
file imports next), the mapping of unknown ids, and the records as observations for the rules.

Each record gets a verdict: accepted, unmapped (its id in that system is nobody's yet: kept aside and
counted once HR maps the id), duplicate (the same record again: answered, not stored twice) or
rejected with a reason code (kept, once). One bad record never blocks the others of its batch.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from trainquant.config import Settings
from trainquant.db import chunks, driver_value, insert_rows
from trainquant.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from trainquant.imports.reader import read_table
from trainquant.integrations.metrics import quick, rules, sheet
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.integrations.metrics.schemas import MAX_BATCH, MetricIngestResult, MetricRecordIn, MetricVerdict
from trainquant.org.models import EXTERNAL_SYSTEMS, Employee, ExternalId
from trainquant.pagination import PageParams

FUTURE_TOLERANCE = timedelta(minutes=5)


def content_key(source: str, raw: Any) -> str:
    return hashlib.sha256(orjson.dumps([source, raw], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()


@dataclass
class _Row:
    index: int
    raw: Any
    key: str
    record: quick.Fields | None = None
    status: str = "accepted"
    code: str | None = None
    reason: str | None = None
    employee_id: int | None = None
    system: str | None = None
    duplicate_of: int | None = None
    plain: bool = False  # read by ``quick``: its raw form holds only text, integers and finite floats

    def reject(self, code: str, reason: str) -> None:
        if self.status in ("accepted", "unmapped"):
            self.status, self.code, self.reason = "rejected", code, reason[:300]


def _parse(index: int, raw: Any, source: str) -> _Row:
    row = _Row(index, raw, content_key(source, raw), quick.read(raw))
    if row.record is not None:
        row.plain = True
        return row
    try:
        m = MetricRecordIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "record"
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        row.reject("invalid", f"{where}: {first.get('msg')}{more}")
    else:
        row.record = quick.Fields(m.record_id, m.metric, m.value, m.employee_no, m.external_id, m.system, m.at, m.period_start, m.period_end)
    return row


def ingest_records(db: Session, source: str, raws: Sequence[Any], *, now: datetime, system: str | None = None,
                   with_ids: bool = True) -> MetricIngestResult:
    """Judge and store one batch from ``source`` in ``db``'s transaction (the caller commits). External
    ids are of ``system`` unless a record names its own (by default the source's name is the system's).
    ``with_ids=False`` (a pull's pages): the verdicts carry no stored ids, and the rows go straight to
    the driver, which is most of the time a page takes otherwise."""
    system = system or source
    if len(raws) > MAX_BATCH:
        raise PayloadTooLarge(f"at most {MAX_BATCH} records per request, got {len(raws)}; split the batch")
    if not raws:
        raise Invalid('no records: send {"source": ..., "records": [...]} with at least one')
    rows = [_parse(i, raw, source) for i, raw in enumerate(raws)]
    live = [r for r in rows if r.record is not None]
    for r in live:
        assert r.record is not None
        d = rules.DEFINITIONS.get(r.record.metric)
        when = r.record.at or r.record.period_end
        if d is None:
            r.reject("unknown-metric", f"no metric {r.record.metric!r}; GET /api/v1/metrics/definitions lists them")
        elif problem := rules.value_problem(d, r.record.value):
            r.reject("invalid-value", problem)
        elif when is not None and when > now + FUTURE_TOLERANCE:
            r.reject("in-the-future", f"{when.isoformat()} is in the future")
        elif r.record.external_id and (r.record.system or system) not in EXTERNAL_SYSTEMS:
            r.reject("unknown-system", f"external ids of {r.record.system or system!r} are not kept; one of {', '.join(EXTERNAL_SYSTEMS)}")
    _resolve_people(db, [r for r in live if r.status == "accepted"], system)
    _mark_repeats(db, rows, source)
    return _store(db, rows, source, now, with_ids=with_ids)


def _resolve_people(db: Session, rows: list[_Row], system: str) -> None:
    numbers = sorted({r.record.employee_no for r in rows if r.record is not None and r.record.employee_no})
    by_no: dict[str, int] = {}
    for number_chunk in chunks(numbers, 900):
        by_no.update(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(number_chunk))).all())
    pairs = sorted({(r.record.system or system, r.record.external_id) for r in rows if r.record is not None and not r.record.employee_no
                    and r.record.external_id})
    by_ext: dict[tuple[str, str], int] = {}
    # Per system, one IN list per chunk: an OR of (system, id) pairs cost more to build than to run.
    for one in sorted({s for s, _ in pairs}):
        for chunk in chunks([x for s, x in pairs if s == one], 900):
            for ext, employee_id in db.execute(select(ExternalId.external_id, ExternalId.employee_id).where(
                    ExternalId.system == one, ExternalId.external_id.in_(chunk))):
                by_ext[(one, ext)] = employee_id
    for r in rows:
        assert r.record is not None
        if r.record.employee_no:
            r.employee_id = by_no.get(r.record.employee_no)
            if r.employee_id is None:
                r.reject("unknown-employee", f"no employee with employee_no {r.record.employee_no!r}")
        else:
            r.system = r.record.system or system
            assert r.record.external_id is not None  # MetricRecordIn requires one of the two
            r.employee_id = by_ext.get((r.system, r.record.external_id))
            if r.employee_id is None:
                r.status = "unmapped"
                r.code, r.reason = "unmapped", f"nobody has {r.system} id {r.record.external_id!r} yet: kept for mapping"


def _mark_repeats(db: Session, rows: list[_Row], source: str) -> None:
    kept = [r for r in rows if r.status in ("accepted", "unmapped") and r.record is not None]
    ids = sorted({r.record.record_id for r in kept if r.record is not None})
    stored: dict[str, tuple[int, str]] = {}
    for chunk in chunks(ids, 900):
        for id_, record_id, key in db.execute(select(MetricRecord.id, MetricRecord.source_record_id, MetricRecord.content_key).where(
                MetricRecord.source == source, MetricRecord.status != "rejected", MetricRecord.source_record_id.in_(chunk))):
            stored[record_id] = (id_, key)
    first: dict[str, _Row] = {}
    for r in kept:
        assert r.record is not None
        record_id = r.record.record_id
        known = stored.get(record_id)
        earlier = first.get(record_id)
        if known is not None or earlier is not None:
            same = known[1] == r.key if known is not None else earlier is not None and earlier.key == r.key
            if same:
                r.status, r.code, r.reason = "duplicate", "duplicate", "already received"
                r.duplicate_of = known[0] if known is not None else None
                if known is None:
                    r.reason = "given twice in this batch"
            else:
                r.reject("id-conflict", f"record {record_id!r} of {source} is already stored with other content")
        else:
            first[record_id] = r
    rejected = [r for r in rows if r.status == "rejected"]
    keys = sorted({r.key for r in rejected})
    known_rejections: dict[str, int] = {}
    for chunk in chunks(keys, 900):
        known_rejections.update({k: i for i, k in db.execute(select(MetricRecord.id, MetricRecord.content_key).where(
            MetricRecord.status == "rejected", MetricRecord.content_key.in_(chunk)))})
    seen: set[str] = set()
    for r in rejected:
        if r.key in known_rejections or r.key in seen:
            r.status, r.duplicate_of = "duplicate", known_rejections.get(r.key)
            r.reason = f"already received and rejected: {r.reason}"[:300]
        seen.add(r.key)


_COLUMNS = ("source", "source_record_id", "status", "reason_code", "reason", "metric_key", "employee_id", "external_system", "external_id",
            "value", "period_start", "period_end", "received_at", "batch_id", "batch_index", "content_key", "raw")


def _values(r: _Row, source: str, now: datetime, batch_id: str) -> tuple:
    rec = r.record
    kept = r.status != "rejected"
    if rec is None:
        record_id = str(r.raw.get("record_id", "")) if isinstance(r.raw, dict) else ""
        return (source, record_id[:120], r.status, r.code, r.reason, None, None, r.system, None, None, None, None, now, batch_id, r.index,
                r.key, r.raw if isinstance(r.raw, dict) else {"value": r.raw})
    return (source, rec.record_id[:120], r.status, r.code if r.status != "accepted" else None, r.reason if r.status != "accepted" else None,
            rec.metric[:64], r.employee_id if r.status == "accepted" else None, r.system, rec.external_id, rec.value if kept else None,
            rec.at or rec.period_start, rec.at or rec.period_end, now, batch_id, r.index, r.key, r.raw if isinstance(r.raw, dict) else {"value": r.raw})


def _store(db: Session, rows: list[_Row], source: str, now: datetime, *, with_ids: bool = True) -> MetricIngestResult:
    batch_id = uuid.uuid4().hex
    stored = [r for r in rows if r.status != "duplicate"]
    ids: list[int] = []
    table = MetricRecord.__table__
    if stored and with_ids:
        # A Core insert (the ORM's bulk path cost twice the writes), its ids back in the order given.
        values = [dict(zip(_COLUMNS, _values(r, source, now, batch_id), strict=True)) for r in stored]
        ids = list(db.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), values))
    elif stored:
        insert_rows(db, table, _COLUMNS, _driver_rows(db, stored, source, now, batch_id))
    counts = {"accepted": 0, "unmapped": 0, "duplicate": 0, "rejected": 0}
    for r in rows:
        counts[r.status] += 1
    if not with_ids:
        return MetricIngestResult(results=[], **counts)
    id_of = {r.index: i for r, i in zip(stored, ids, strict=True)}
    first_of = {r.record.record_id: r.index for r in stored if r.record is not None}
    results = []
    for r in rows:
        id_ = id_of.get(r.index) or r.duplicate_of
        if id_ is None and r.status == "duplicate" and r.record is not None:
            id_ = id_of.get(first_of.get(r.record.record_id, -1))
        results.append(MetricVerdict(index=r.index, record_id=r.record.record_id if r.record else None, status=r.status,
                                     reason_code=r.code if r.status != "accepted" else None, reason=r.reason if r.status != "accepted" else None, id=id_))
    return MetricIngestResult(results=results, **counts)


def _driver_rows(db: Session, rows: list[_Row], source: str, now: datetime, batch_id: str) -> list[tuple]:
    """The rows as the driver takes them, each column through its type's conversion. A page's records
    share a few times (its weeks): each is converted once. A record read by ``quick`` holds only
    text, integers and finite floats, so orjson writes the JSON the column's own encoder would."""
    dialect = db.connection().dialect
    table = MetricRecord.__table__
    value_of, time_of, json_of = (driver_value(table.c[c], dialect) for c in ("value", "received_at", "raw"))
    times: dict[datetime | None, Any] = {None: None}

    def at(value: datetime | None) -> Any:
        if value not in times:
            times[value] = time_of(value)
        return times[value]

    out = []
    for r in rows:
        v = _values(r, source, now, batch_id)
        raw = orjson.dumps(v[16]).decode() if r.plain else json_of(v[16])
        out.append((*v[:9], value_of(v[9]), at(v[10]), at(v[11]), at(v[12]), *v[13:16], raw))
    return out


# ---------------------------------------------------------------- unknown ids, and their mapping


def unmapped_ids(db: Session, page: PageParams) -> tuple[list[dict], int]:
    """External ids of kept records that nobody is mapped to yet, with how many records wait on each."""
    resolved = select(ExternalId.employee_id).where(ExternalId.system == MetricRecord.external_system,
                                                    ExternalId.external_id == MetricRecord.external_id).exists()
    q = (select(MetricRecord.external_system, MetricRecord.external_id, func.count(), func.min(MetricRecord.received_at),
                func.max(MetricRecord.received_at))
         .where(MetricRecord.status == "unmapped", ~resolved)
         .group_by(MetricRecord.external_system, MetricRecord.external_id))
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.execute(q.order_by(func.count().desc(), MetricRecord.external_system, MetricRecord.external_id)
                      .offset(page.offset).limit(page.page_size)).all()
    return [{"system": s, "external_id": x, "records": n, "first_received_at": a, "last_received_at": b} for s, x, n, a, b in rows], total


def map_external_id(db: Session, system: str, external_id: str, employee_no: str) -> int:
    """HR says whose an unknown id is: it becomes the person's id in that system (``ExternalId``), and
    the records kept for it count for them. Returns how many records that resolves."""
    if system not in EXTERNAL_SYSTEMS:
        raise Invalid(f"external ids of {system!r} are not kept; one of {', '.join(EXTERNAL_SYSTEMS)}", code="unknown-system")
    person = db.scalar(select(Employee).where(Employee.employee_no == employee_no))
    if person is None:
        raise NotFound(f"no employee with employee_no {employee_no!r}")
    owner = db.scalar(select(ExternalId.employee_id).where(ExternalId.system == system, ExternalId.external_id == external_id))
    if owner is not None:
        raise Conflict(f"{system} id {external_id!r} is already someone's", code="external-id-taken")
    if db.scalar(select(ExternalId.external_id).where(ExternalId.system == system, ExternalId.employee_id == person.id)) is not None:
        raise Conflict(f"{employee_no} already has a {system} id", code="employee-has-id")
    db.add(ExternalId(employee_id=person.id, system=system, external_id=external_id))
    db.flush()
    return db.scalar(select(func.count()).select_from(MetricRecord).where(
        MetricRecord.status == "unmapped", MetricRecord.external_system == system, MetricRecord.external_id == external_id)) or 0


# ---------------------------------------------------------------- records as observations


def observations(db: Session, employee_id: int, keys: Sequence[str], start: datetime, end: datetime) -> dict[str, list[rules.Observation]]:
    """The person's kept records of these metrics inside [start, end): accepted ones, and unmapped ones
    whose id has since been mapped to them."""
    mine = select(ExternalId.system, ExternalId.external_id).where(ExternalId.employee_id == employee_id)
    ids = {(s, x) for s, x in db.execute(mine)}
    who = MetricRecord.employee_id == employee_id
    if ids:
        who = or_(who, and_(MetricRecord.status == "unmapped", or_(*(and_(MetricRecord.external_system == s, MetricRecord.external_id == x)
                                                                      for s, x in sorted(ids)))))
    q = select(MetricRecord.metric_key, MetricRecord.period_start, MetricRecord.period_end, MetricRecord.value).where(
        MetricRecord.status != "rejected", MetricRecord.metric_key.in_(list(keys)), who,
        MetricRecord.period_start >= start, MetricRecord.period_start < end, MetricRecord.period_end <= end)
    out: dict[str, list[rules.Observation]] = {}
    for key, a, b, value in db.execute(q):
        # Kept records have all three (only rejected ones may lack them).
        assert key is not None and a is not None and b is not None and value is not None
        out.setdefault(key, []).append(rules.Observation(a, b, Decimal(value)))
    return out


def window_value(db: Session, metric: str, employee_no: str, start: datetime, end: datetime) -> tuple[Decimal | None, int]:
    d = rules.DEFINITIONS.get(metric)
    if d is None:
        raise NotFound(f"no metric {metric!r}")
    if end <= start:
        raise Invalid("end must be after start")
    person = db.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
    if person is None:
        raise NotFound(f"no employee with employee_no {employee_no!r}")
    keys = [k for k in (d.numerator, d.denominator) if k] if d.aggregation == rules.RATIO else [d.key]
    found = observations(db, person, keys, start, end)
    return rules.window_value(d, found, start, end), sum(len(v) for v in found.values())


def import_sheet(db: Session, content: bytes, filename: str, *, source: str, now: datetime, settings: Settings) -> MetricIngestResult:
    """A metric history sheet (xlsx/csv) through the same way in as the batch API, in batches."""
    table = read_table(content, filename, max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)
    try:
        rows = sheet.records(table.header, table.rows, zone=ZoneInfo(settings.default_timezone))
    except sheet.SheetError as exc:
        raise Invalid(str(exc), code="not-a-metric-sheet") from None
    if not rows:
        raise Invalid("the sheet has a header but no rows", code="no-rows")
    counts = {"accepted": 0, "unmapped": 0, "duplicate": 0, "rejected": 0}
    results: list[MetricVerdict] = []
    for start in range(0, len(rows), MAX_BATCH):
        part = rows[start:start + MAX_BATCH]
        result = ingest_records(db, source, [r for _, r in part], now=now)
        for key in counts:
            counts[key] += getattr(result, key)
        # The row number as the sheet shows it, in place of the position in the batch.
        results += [v.model_copy(update={"index": part[v.index][0]}) for v in result.results]
    return MetricIngestResult(results=results, **counts)
