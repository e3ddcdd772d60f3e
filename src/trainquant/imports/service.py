"""Import use cases: read a file, validate every row, write through the shared upsert, keep the run.

Whatever happens to the data, the ImportRun and each rejection are stored in the caller's unit of
work, so a rejected file is never lost and a retry of the same file is recognised by its sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Literal, TypeGuard

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from trainquant.config import Settings
from trainquant.errors import DomainError, Invalid, NotFound, PayloadTooLarge
from trainquant.imports import rules
from trainquant.imports.models import ImportRejection, ImportRun
from trainquant.imports.reader import Table, read_table
from trainquant.org.rules import DatedClassRecord, Msg, RowError, WeeklySlotRecord
from trainquant.org.upsert import UpsertResult, upsert_employees, upsert_timetable
from trainquant.pagination import PageParams, paginate

ImportKind = Literal["employees", "timetables"]
ImportMode = Literal["all-or-nothing", "valid-only"]
KINDS: tuple[str, ...] = rules.KINDS
MODES: tuple[str, ...] = ("all-or-nothing", "valid-only")


def is_kind(value: object) -> TypeGuard[ImportKind]:
    return value in KINDS


def is_mode(value: object) -> TypeGuard[ImportMode]:
    return value in MODES
FILE_ROW = 0  # the row number of an error about the whole file
CHUNK = 2000

# phase ("read" | "validate" | "write"), rows done, rows in all (None while unknown)
Progress = Callable[[str, int, int | None], None]


@dataclass
class _Verdict:
    errors: list[RowError] = field(default_factory=list)
    raw: dict[int, str] = field(default_factory=dict)  # row -> the row as received, JSON
    result: UpsertResult = field(default_factory=UpsertResult)
    written: bool = False


def run_import(
    db: Session,
    *,
    kind: ImportKind,
    filename: str,
    content: bytes,
    mode: ImportMode = "valid-only",
    actor: str,
    now: datetime,
    settings: Settings,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a file; never raises for a bad file (the run says why it was rejected)."""
    _check_kind_and_mode(kind, mode)
    digest = hashlib.sha256(content).hexdigest()
    on_read = (lambda n: progress("read", n, None)) if progress else None
    try:
        table = read_table(content, filename, max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows, progress=on_read)
    except (Invalid, PayloadTooLarge) as exc:
        verdict = _Verdict(errors=[RowError(FILE_ROW, None, file_error_code(exc), exc.message)])
        return _store(db, kind=kind, filename=filename, digest=digest, mode=mode, actor=actor, now=now, total=0, verdict=verdict)
    return _import_table(db, table, kind=kind, filename=filename, digest=digest, mode=mode, actor=actor, now=now, settings=settings, progress=progress)


def import_rows(
    db: Session,
    *,
    kind: ImportKind,
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    mode: ImportMode = "valid-only",
    actor: str,
    now: datetime,
    settings: Settings,
    filename: str = "generated rows",
    progress: Progress | None = None,
) -> ImportRun:
    """The same path for rows already in memory (the simulator): header is row 1, data from row 2."""
    _check_kind_and_mode(kind, mode)
    digest = hashlib.sha256(json.dumps([list(header), [list(r) for r in rows]], default=str, ensure_ascii=False).encode()).hexdigest()
    table = Table(header=list(header), header_row=1, format="rows")
    table.rows = [(number, list(cells)) for number, cells in enumerate(rows, start=2) if any(_filled(c) for c in cells)]
    if len(table.rows) > settings.import_max_rows:
        err = RowError(FILE_ROW, None, "too-many-rows", Msg.of("more than %(n)s rows; load them in batches", n=settings.import_max_rows))
        return _store(db, kind=kind, filename=filename, digest=digest, mode=mode, actor=actor, now=now, total=len(table.rows), verdict=_Verdict(errors=[err]))
    return _import_table(db, table, kind=kind, filename=filename, digest=digest, mode=mode, actor=actor, now=now, settings=settings, progress=progress)


def file_error_code(exc: DomainError) -> str:
    if exc.code != type(exc).code:  # the reader named the problem precisely
        return exc.code
    return "too-large" if isinstance(exc, PayloadTooLarge) else "unreadable-file"


def _filled(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _check_kind_and_mode(kind: str, mode: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")
    if mode not in MODES:
        raise Invalid(f"unknown import mode {mode!r}; use one of {', '.join(MODES)}")


def _import_table(
    db: Session, table: Table, *, kind: str, filename: str, digest: str, mode: str, actor: str, now: datetime, settings: Settings, progress: Progress | None
) -> ImportRun:
    store = partial(_store, db, kind=kind, filename=filename, digest=digest, mode=mode, actor=actor, now=now, total=len(table.rows))
    columns, header_errors = rules.map_columns(kind, table.header, row=table.header_row)
    verdict = _Verdict()
    if header_errors or not table.rows:
        if not any(columns.fields):
            expected = ", ".join(rules.template_headers(kind)[:4])
            header_errors = [RowError(table.header_row, None, "no-header", Msg.of("row %(row)s is not a header row; expected columns such as %(expected)s (download the template)", row=table.header_row, expected=expected))]
        elif not header_errors:
            header_errors = [RowError(FILE_ROW, None, "no-rows", Msg.of("the file has a header but no data rows"))]
        verdict.errors = header_errors
        verdict.raw[table.header_row] = json.dumps([rules.cell_text(c) for c in table.header], ensure_ascii=False)
        return store(verdict=verdict)

    records: list = []
    parse = rules.employee_record if kind == "employees" else rules.timetable_record
    for i, (number, cells) in enumerate(table.rows, start=1):
        outcome = parse(columns, cells, number)
        if isinstance(outcome, list):
            verdict.errors.extend(outcome)
        else:
            records.append(outcome)
        if progress is not None and i % CHUNK == 0:
            progress("validate", i, len(table.rows))
    if progress is not None:
        progress("validate", len(table.rows), len(table.rows))

    _write(db, kind, records, verdict, mode=mode, now=now, settings=settings)
    if progress is not None:
        progress("write", len(table.rows), len(table.rows))

    rename = _column_names(columns)
    verdict.errors = sorted((_renamed(e, rename) for e in verdict.errors), key=lambda e: e.row)
    by_row = dict(table.rows)
    for row in {e.row for e in verdict.errors}:
        if row in by_row:
            verdict.raw[row] = json.dumps(rules.raw_values(columns, by_row[row]), ensure_ascii=False)
    return store(verdict=verdict)


def _write(db: Session, kind: str, records: list, verdict: _Verdict, *, mode: str, now: datetime, settings: Settings) -> None:
    """Upsert inside a SAVEPOINT: all-or-nothing rolls it back on any error, so nothing is half-written."""
    if not records:
        return
    savepoint = db.begin_nested()
    try:
        if kind == "employees":
            result = upsert_employees(db, records, now=now)
        else:
            slots = [r for r in records if isinstance(r, WeeklySlotRecord)]
            classes = [r for r in records if isinstance(r, DatedClassRecord)]
            result = upsert_timetable(db, slots, classes, default_tz=settings.default_timezone)
    except SQLAlchemyError as exc:
        # A race with another writer past the upsert's own checks: refuse the batch, keep the run.
        savepoint.rollback()
        db.expire_all()
        verdict.errors.append(RowError(FILE_ROW, None, "database-conflict", Msg.of("the database refused the batch; try again (%(error)s)", error=type(exc).__name__)))
        return
    verdict.errors.extend(result.errors)
    if verdict.errors and mode == "all-or-nothing":
        savepoint.rollback()
        db.expire_all()
        return
    savepoint.commit()
    verdict.result, verdict.written = result, True


def _column_names(columns: rules.ColumnMap) -> dict[str, str]:
    """Field names the upsert reports (employee_no, wecom, start ...) as the header the user wrote."""
    names = {}
    for f, h in zip(columns.fields, columns.headers, strict=True):
        if f:
            names[f] = h
            names[f.removeprefix(rules.EXT)] = h
    if "start_time" in names:
        names["start"] = names["start_time"]
    return names


def _renamed(err: RowError, names: dict[str, str]) -> RowError:
    if err.column in names and names[err.column] != err.column:
        return RowError(err.row, names[err.column], err.code, err.message)
    return err


def _store(db: Session, *, kind: str, filename: str, digest: str, mode: str, actor: str, now: datetime, total: int, verdict: _Verdict) -> ImportRun:
    result = verdict.result if verdict.written else UpsertResult()
    applied = result.created + result.updated + result.unchanged
    status = "applied" if not verdict.errors else ("partial" if verdict.written and applied else "rejected")
    repeat_of = db.scalar(select(ImportRun.id).where(ImportRun.sha256 == digest, ImportRun.kind == kind).order_by(ImportRun.id.desc()).limit(1))
    run = ImportRun(
        kind=kind, filename=(filename or "upload")[-255:], sha256=digest, mode=mode, status=status, total_rows=total,
        created_count=result.created, updated_count=result.updated, unchanged_count=result.unchanged,
        rejected_count=len({e.row for e in verdict.errors if e.row != FILE_ROW}) or (total if verdict.errors else 0),
        repeat_of_id=repeat_of, created_by=actor[:64], created_at=now,
    )
    db.add(run)
    db.flush()
    rows = [
        {"run_id": run.id, "row": e.row, "column": (e.column or None) and e.column[:64], "code": e.code[:48], "message": e.message[:500], "raw": verdict.raw.get(e.row),
         "params": {"t": e.message.template, "p": e.message.params} if isinstance(e.message, Msg) else {}}
        for e in verdict.errors
    ]
    for i in range(0, len(rows), CHUNK):
        db.execute(insert(ImportRejection), rows[i : i + CHUNK])
    return run


# ---------------------------------------------------------------- reading runs back


def list_runs(db: Session, page: PageParams, *, kind: str | None = None) -> tuple[list[ImportRun], int]:
    stmt = select(ImportRun).order_by(ImportRun.id.desc())
    if kind:
        stmt = stmt.where(ImportRun.kind == kind)
    return paginate(db, stmt, page)


def get_run(db: Session, run_id: int) -> ImportRun:
    run = db.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"no import run {run_id}")
    return run


def run_errors(db: Session, run_id: int, *, limit: int | None = None, offset: int = 0) -> list[ImportRejection]:
    stmt = select(ImportRejection).where(ImportRejection.run_id == run_id).order_by(ImportRejection.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.scalars(stmt))


def count_errors(db: Session, run_id: int) -> int:
    return db.scalar(select(func.count()).select_from(ImportRejection).where(ImportRejection.run_id == run_id)) or 0

