"""Bulk upsert of employees and timetables: the one write path for the API, imports and the simulator."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from trainquant.db import chunks
from trainquant.org.models import (
    DatedClass,
    Department,
    Employee,
    EmployeeTag,
    ExternalId,
    Site,
    WeeklySlot,
)
from trainquant.org.rules import (
    DatedClassRecord,
    EmployeeRecord,
    Msg,
    RowError,
    WeeklySlotRecord,
)

CHUNK = 2000
SCALAR_FIELDS = ("name", "position", "hire_date", "status", "hourly_cost", "email", "phone")
_EMPLOYEES = Employee.__table__
_TAGS = EmployeeTag.__table__
_EXTERNAL = ExternalId.__table__
_WEEKLY_SLOTS = WeeklySlot.__table__
_DATED_CLASSES = DatedClass.__table__
_EMPLOYEE_STATE = (
    Employee.id, Employee.employee_no, Employee.department_id, Employee.site_id, Employee.manager_id,
    *(getattr(Employee, name) for name in SCALAR_FIELDS),
)
_NEW_EMPLOYEE = {"site_id": None, "position": None, "hire_date": None, "status": "active", "hourly_cost": None,
                 "manager_id": None, "email": None, "phone": None}


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # employee_no -> id, for every applied record


class _Lookup:
    """Resolve a department or site given by code or by (unique) name."""

    def __init__(self, rows: Iterable[tuple[int, str, str]], what: str, column: str):
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.what, self.column = what, column
        for id_, code, name in rows:
            self.by_code[code.casefold()] = id_
            self.by_name.setdefault(name.strip().casefold(), []).append(id_)

    def resolve(self, value: str, row: int) -> int | RowError:
        key = value.strip().casefold()
        if key in self.by_code:
            return self.by_code[key]
        ids = self.by_name.get(key, [])
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            return RowError(row, self.column, f"ambiguous-{self.what}", Msg.of("%(value)s names several " + self.what + "s; use the code", value=repr(value)))
        return RowError(row, self.column, f"unknown-{self.what}", Msg.of("unknown " + self.what + " %(value)s", value=repr(value)))


def department_lookup(db: Session) -> _Lookup:
    return _Lookup(db.execute(select(Department.id, Department.code, Department.name)), "department", "department")


def site_lookup(db: Session) -> _Lookup:
    return _Lookup(db.execute(select(Site.id, Site.code, Site.name)), "site", "site")


def employee_ids(db: Session, numbers: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(numbers)), CHUNK):
        found.update(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(chunk))).all())
    return found


def upsert_employees(
    db: Session,
    records: Sequence[EmployeeRecord],
    *,
    now: datetime,
    on_existing: str = "update",
) -> UpsertResult:
    """Create or update employees. Records with reference errors are skipped and reported, never half-written.

    ``on_existing="conflict"`` reports an existing employee_no as an error instead of updating it.
    """
    result = UpsertResult()
    departments, sites = department_lookup(db), site_lookup(db)

    # Duplicates inside one batch: the first wins, later ones are rejected with where the first was.
    first_row: dict[str, int] = {}
    unique: list[EmployeeRecord] = []
    for rec in records:
        if rec.employee_no in first_row:
            result.errors.append(
                RowError(rec.row, "employee_no", "duplicate-in-file", Msg.of("employee_no %(no)s already given in row %(row)s", no=repr(rec.employee_no), row=first_row[rec.employee_no]))
            )
            continue
        first_row[rec.employee_no] = rec.row
        unique.append(rec)

    # Current state as plain rows, not ORM objects: a 50,000-row import must not fill the identity map
    # (nor load every employee's tags and external ids through the relationships' selectin loaders).
    existing: dict[str, Row] = {}
    for nos in chunks([r.employee_no for r in unique], CHUNK):
        for row in db.execute(select(*_EMPLOYEE_STATE).where(Employee.employee_no.in_(nos))):
            existing[row.employee_no] = row

    batch_nos = {r.employee_no for r in unique}
    manager_nos = {r.manager_no for r in unique if r.manager_no} - batch_nos
    known_managers = employee_ids(db, manager_nos)

    wanted_ext: dict[str, set[str]] = {}
    for r in unique:
        for s, v in r.external_ids:
            if v:
                wanted_ext.setdefault(s, set()).add(v)
    ext_owner: dict[tuple[str, str], int] = {}
    for system, wanted in wanted_ext.items():
        for ext_ids in chunks(sorted(wanted), CHUNK):
            owners = db.execute(
                select(ExternalId.external_id, ExternalId.employee_id).where(ExternalId.system == system, ExternalId.external_id.in_(ext_ids))
            )
            ext_owner.update({(system, v): eid for v, eid in owners})
    ext_claimed: dict[tuple[str, str], str] = {}

    accepted: list[tuple[EmployeeRecord, dict[str, Any]]] = []
    for rec in unique:
        errors: list[RowError] = []
        current = existing.get(rec.employee_no)
        if current is not None and on_existing == "conflict":
            errors.append(RowError(rec.row, "employee_no", "exists", Msg.of("employee_no %(no)s already exists", no=repr(rec.employee_no))))
        values: dict[str, Any] = {}
        for name in SCALAR_FIELDS:
            if name in rec.present:
                values[name] = getattr(rec, name)
        if current is None and not rec.name:
            errors.append(RowError(rec.row, "name", "required", Msg.of("name is required for a new employee")))
        if "department" in rec.present or current is None:
            if not rec.department:
                errors.append(RowError(rec.row, "department", "required", Msg.of("department is required")))
            else:
                dep = departments.resolve(rec.department, rec.row)
                if isinstance(dep, RowError):
                    errors.append(dep)
                else:
                    values["department_id"] = dep
        if "site" in rec.present:
            if rec.site:
                site = sites.resolve(rec.site, rec.row)
                if isinstance(site, RowError):
                    errors.append(site)
                else:
                    values["site_id"] = site
            else:
                values["site_id"] = None
        if "manager_no" in rec.present and rec.manager_no:
            if rec.manager_no == rec.employee_no:
                errors.append(RowError(rec.row, "manager_no", "self-manager", Msg.of("an employee cannot be their own manager")))
            elif rec.manager_no not in batch_nos and rec.manager_no not in known_managers:
                errors.append(RowError(rec.row, "manager_no", "unknown-manager", Msg.of("no employee with employee_no %(no)s", no=repr(rec.manager_no))))
        own_id = current.id if current is not None else None
        for system, value in rec.external_ids:
            if not value:
                continue
            owner = ext_owner.get((system, value))
            claimed_by = ext_claimed.get((system, value))
            if (owner is not None and owner != own_id) or (claimed_by is not None and claimed_by != rec.employee_no):
                errors.append(
                    RowError(rec.row, system, "external-id-taken", Msg.of("%(system)s %(value)s already belongs to another employee", system=system, value=repr(value)))
                )
        if errors:
            result.errors.extend(errors)
            continue
        for system, value in rec.external_ids:
            if value:
                ext_claimed[(system, value)] = rec.employee_no
        accepted.append((rec, values))

    # A manager given in the same batch must itself be accepted.
    accepted_nos = {rec.employee_no for rec, _ in accepted}
    still: list[tuple[EmployeeRecord, dict[str, Any]]] = []
    for rec, values in accepted:
        if rec.manager_no and rec.manager_no in batch_nos and rec.manager_no not in accepted_nos:
            result.errors.append(
                RowError(rec.row, "manager_no", "manager-rejected", Msg.of("manager %(no)s is in a rejected row", no=repr(rec.manager_no)))
            )
        else:
            still.append((rec, values))
    accepted = still

    # New employees: Core executemany, then their ids by employee_no. (The ORM's per-row bookkeeping
    # costs more than the INSERT, and SQLite answers an ordered INSERT ... RETURNING one row at a time.)
    # Managers are inserted before the people they manage, so manager_id is set in the INSERT itself.
    new_rows = [(rec, v) for rec, v in accepted if rec.employee_no not in existing]
    levels, deferred = _manager_levels([rec for rec, _ in new_rows])

    def manager_id(rec: EmployeeRecord) -> int | None:
        no = rec.manager_no
        if not no or "manager_no" not in rec.present or rec.employee_no in deferred:
            return None
        return known_managers[no] if no in known_managers else existing[no].id if no in existing else result.ids[no]

    for members in levels.values():
        level = [(rec, v) for rec, v in new_rows if rec.employee_no in members]
        for batch in chunks(level, CHUNK):
            params = [
                {**_NEW_EMPLOYEE, "employee_no": rec.employee_no, **v, "manager_id": manager_id(rec), "created_at": now, "updated_at": now}
                for rec, v in batch
            ]
            db.execute(insert(_EMPLOYEES), params)
        result.ids.update(employee_ids(db, [rec.employee_no for rec, _ in level]))
    result.created = len(new_rows)

    old_ids = [existing[r.employee_no].id for r, _ in accepted if r.employee_no in existing]
    known_tags, known_ext = _load_tags(db, old_ids), _load_ext(db, old_ids)
    mgr_no_by_id: dict[int, str] = {}
    for mgr_ids in chunks(sorted({e.manager_id for e in existing.values() if e.manager_id}), CHUNK):
        mgr_no_by_id.update(db.execute(select(Employee.id, Employee.employee_no).where(Employee.id.in_(mgr_ids))).all())
    updates: list[dict[str, Any]] = []
    # Only what differs is rewritten: a re-import of an unchanged file writes nothing.
    retag: set[str] = set()
    re_ext: set[str] = set()
    re_manage: set[str] = set()
    for rec, values in accepted:
        emp = existing.get(rec.employee_no)
        if emp is None:
            if rec.tags and "tags" in rec.present:
                retag.add(rec.employee_no)
            if any(v for _, v in rec.external_ids) and "external_ids" in rec.present:
                re_ext.add(rec.employee_no)
            if rec.employee_no in deferred:
                re_manage.add(rec.employee_no)
            continue
        result.ids[rec.employee_no] = emp.id
        changed = {k: v for k, v in values.items() if getattr(emp, k) != v}
        tags_changed = "tags" in rec.present and set(rec.tags) != known_tags.get(emp.id, set())
        ext_now = known_ext.get(emp.id, {})
        ext_changed = any(ext_now.get(s) != (v or None) for s, v in rec.external_ids) if "external_ids" in rec.present else False
        mgr_changed = "manager_no" in rec.present and mgr_no_by_id.get(emp.manager_id) != (rec.manager_no or None)
        if changed or tags_changed or ext_changed or mgr_changed:
            result.updated += 1
            updates.append({"id": emp.id, **changed, "updated_at": now})
            retag.update([rec.employee_no] if tags_changed else [])
            re_ext.update([rec.employee_no] if ext_changed else [])
            re_manage.update([rec.employee_no] if mgr_changed else [])
        else:
            result.unchanged += 1
    _update_employees(db, updates)

    ids = result.ids
    tag_targets = [(ids[r.employee_no], r.tags, r.employee_no in existing) for r, _ in accepted if r.employee_no in retag]
    for tag_batch in chunks(tag_targets, CHUNK):
        old = [i for i, _, was in tag_batch if was]
        if old:
            db.execute(delete(_TAGS).where(_TAGS.c.employee_id.in_(old)))
        tag_rows = [{"employee_id": i, "tag": t} for i, tags, _ in tag_batch for t in sorted(set(tags))]
        if tag_rows:
            db.execute(insert(_TAGS), tag_rows)
    ext_targets = [(ids[r.employee_no], r.external_ids, r.employee_no in existing) for r, _ in accepted if r.employee_no in re_ext]
    for ext_batch in chunks(ext_targets, CHUNK):
        pairs = [(i, s) for i, ext, was in ext_batch if was for s, _ in ext]
        for sub in chunks(pairs, 900):
            db.execute(delete(_EXTERNAL).where(tuple_(_EXTERNAL.c.employee_id, _EXTERNAL.c.system).in_(sub)))
        ext_rows = [{"employee_id": i, "system": s, "external_id": v} for i, ext, _ in ext_batch for s, v in ext if v]
        if ext_rows:
            db.execute(insert(_EXTERNAL), ext_rows)

    manager_ids = {**known_managers, **ids}
    _update_employees(
        db,
        [{"id": ids[r.employee_no], "manager_id": manager_ids[r.manager_no] if r.manager_no else None} for r, _ in accepted if r.employee_no in re_manage],
    )
    db.expire_all()
    return result


def _manager_levels(new: Sequence[EmployeeRecord]) -> tuple[dict[int, set[str]], set[str]]:
    """New employees by depth below managers that are not new themselves (0 = no new manager above).

    Those in a management cycle among the new rows (A manages B, B manages A) are ``deferred``: inserted
    in the last level without a manager and given one by an UPDATE once everybody has an id.
    """
    manager_of = {r.employee_no: r.manager_no for r in new if r.manager_no and "manager_no" in r.present}
    is_new = {r.employee_no for r in new}
    depth: dict[str, int | None] = {}
    for start in is_new:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in is_new and node not in depth and node not in path:
            path.append(node)
            node = manager_of.get(node)
        if node is None or node not in is_new:
            base: int | None = -1
        elif node in depth:
            base = depth[node]
        else:  # back on the path: a cycle
            base = None
        for member in reversed(path):
            base = None if base is None else base + 1
            depth[member] = base
    deferred = {no for no, d in depth.items() if d is None}
    levels: dict[int, set[str]] = {}
    last = max((d for d in depth.values() if d is not None), default=-1) + 1
    for no, d in depth.items():
        levels.setdefault(last if d is None else d, set()).add(no)
    return dict(sorted(levels.items())), deferred


def _update_employees(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    _update_by_id(db, _EMPLOYEES, rows)


def _update_by_id(db: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE by primary key, one executemany per set of changed columns (Core: no ORM bookkeeping)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for keys, group in groups.items():
        stmt = update(table).where(table.c.id == bindparam("b_id")).values({k: bindparam(f"b_{k}") for k in keys})
        for chunk in chunks(group, CHUNK):
            db.execute(stmt, [{"b_id": r["id"], **{f"b_{k}": r[k] for k in keys}} for r in chunk])


def _load_tags(db: Session, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for chunk in chunks(ids, CHUNK):
        for eid, tag in db.execute(select(EmployeeTag.employee_id, EmployeeTag.tag).where(EmployeeTag.employee_id.in_(chunk))):
            out.setdefault(eid, set()).add(tag)
    return out


def _load_ext(db: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for chunk in chunks(ids, CHUNK):
        rows = db.execute(select(ExternalId.employee_id, ExternalId.system, ExternalId.external_id).where(ExternalId.employee_id.in_(chunk)))
        for eid, system, value in rows:
            out.setdefault(eid, {})[system] = value
    return out


def upsert_timetable(
    db: Session,
    slots: Sequence[WeeklySlotRecord],
    classes: Sequence[DatedClassRecord],
    *,
    default_tz: str,
) -> UpsertResult:
    """Weekly slots keyed by (employee, weekday, start, valid_from); dated classes by (employee, start)."""
    result = UpsertResult()
    numbers = {r.employee_no for r in slots} | {r.employee_no for r in classes}
    ids = employee_ids(db, numbers)
    sites = site_lookup(db)
    site_zone = dict(db.execute(select(Site.id, Site.timezone)).all())
    emp_site: dict[int, int | None] = {}
    for emp_batch in chunks(sorted(ids.values()), CHUNK):
        emp_site.update(db.execute(select(Employee.id, Employee.site_id).where(Employee.id.in_(emp_batch))).all())

    def resolve(rec: WeeklySlotRecord | DatedClassRecord, errors: list[RowError]) -> tuple[int, int | None] | None:
        """The employee's id and the site's (None if not given); None itself once ``errors`` has an entry."""
        emp = ids.get(rec.employee_no)
        if emp is None:
            errors.append(RowError(rec.row, "employee_no", "unknown-employee", f"no employee with employee_no {rec.employee_no!r}"))
        site_id = None
        if rec.site:
            site = sites.resolve(rec.site, rec.row)
            if isinstance(site, RowError):
                errors.append(site)
            else:
                site_id = site
        return None if emp is None or errors else (emp, site_id)

    slot_rows: dict[tuple[int, int, time, date], dict[str, Any]] = {}
    for slot in slots:
        errs: list[RowError] = []
        resolved = resolve(slot, errs)
        if resolved is None:
            result.errors.extend(errs)
            continue
        emp, site_id = resolved
        slot_key = (emp, slot.weekday, slot.start_time, slot.valid_from)
        if slot_key in slot_rows:
            result.errors.append(RowError(slot.row, "start", "duplicate-in-file", "the same slot is given twice"))
            continue
        slot_rows[slot_key] = {
            "employee_id": emp, "weekday": slot.weekday, "start_time": slot.start_time, "end_time": slot.end_time,
            "valid_from": slot.valid_from, "valid_to": slot.valid_to, "course": slot.course, "site_id": site_id,
        }
    class_rows: dict[tuple[int, datetime], dict[str, Any]] = {}
    for dated in classes:
        errs = []
        resolved = resolve(dated, errs)
        if resolved is None:
            result.errors.extend(errs)
            continue
        emp, site_id = resolved
        zone_site = site_id or emp_site.get(emp)
        zone = ZoneInfo((site_zone.get(zone_site) if zone_site is not None else None) or default_tz)
        starts = datetime.combine(dated.day, dated.start_time, zone)
        ends = datetime.combine(dated.day, dated.end_time, zone)
        class_key = (emp, starts)
        if class_key in class_rows:
            result.errors.append(RowError(dated.row, "start", "duplicate-in-file", "the same class is given twice"))
            continue
        class_rows[class_key] = {"employee_id": emp, "starts_at": starts, "ends_at": ends, "course": dated.course, "site_id": site_id}

    new: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    if slot_rows:
        emp_ids = sorted({k[0] for k in slot_rows})
        current: dict[tuple[int, int, time, date], Row] = {}
        slot_state = (WeeklySlot.id, WeeklySlot.employee_id, WeeklySlot.weekday, WeeklySlot.start_time, WeeklySlot.valid_from,
                      WeeklySlot.end_time, WeeklySlot.valid_to, WeeklySlot.course, WeeklySlot.site_id)
        for emp_batch in chunks(emp_ids, CHUNK):
            for s in db.execute(select(*slot_state).where(WeeklySlot.employee_id.in_(emp_batch))):
                current[(s.employee_id, s.weekday, s.start_time, s.valid_from)] = s
        new, changed = [], []
        for slot_key, row in slot_rows.items():
            old_slot = current.get(slot_key)
            if old_slot is None:
                new.append(row)
            elif (old_slot.end_time, old_slot.valid_to, old_slot.course, old_slot.site_id) != (row["end_time"], row["valid_to"], row["course"], row["site_id"]):
                changed.append({"id": old_slot.id, **{k: row[k] for k in ("end_time", "valid_to", "course", "site_id")}})
            else:
                result.unchanged += 1
        for new_batch in chunks(new, CHUNK):
            db.execute(insert(_WEEKLY_SLOTS), list(new_batch))
        _update_by_id(db, _WEEKLY_SLOTS, changed)
        result.created += len(new)
        result.updated += len(changed)
    if class_rows:
        emp_ids = sorted({k[0] for k in class_rows})
        current_c: dict[tuple[int, datetime], Row] = {}
        class_state = (DatedClass.id, DatedClass.employee_id, DatedClass.starts_at, DatedClass.ends_at, DatedClass.course, DatedClass.site_id)
        for emp_batch in chunks(emp_ids, CHUNK):
            for c in db.execute(select(*class_state).where(DatedClass.employee_id.in_(emp_batch))):
                current_c[(c.employee_id, c.starts_at)] = c
        new, changed = [], []
        for class_key, row in class_rows.items():
            old_class = current_c.get(class_key)
            if old_class is None:
                new.append(row)
            elif (old_class.ends_at, old_class.course, old_class.site_id) != (row["ends_at"], row["course"], row["site_id"]):
                changed.append({"id": old_class.id, "ends_at": row["ends_at"], "course": row["course"], "site_id": row["site_id"]})
            else:
                result.unchanged += 1
        for new_batch in chunks(new, CHUNK):
            db.execute(insert(_DATED_CLASSES), list(new_batch))
        _update_by_id(db, _DATED_CLASSES, changed)
        result.created += len(new)
        result.updated += len(changed)
    db.expire_all()  # the writes above bypass the identity map; slots loaded earlier must not show old times
    return result
