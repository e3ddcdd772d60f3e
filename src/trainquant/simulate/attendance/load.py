"""Send the simulated check-ins through the platform's one ingestion path, then derive what HR sees.

Order: the terminals (one per training room) are registered as devices and the simulation's make-up
lessons added to the timetable; the events go through ``attendance.ingest.ingest`` in their batches
(``zkteco`` for terminal logs, ``api`` for phones, ``wecom`` for the online meetings' logs, which HR
imports as manual entries); then ``recompute_batch`` for every ended session, proxy detection, and the
participation alerts (per ended session, and per department over the year).

Loading again is harmless: every event is answered duplicate, and figures, cases and alerts come out the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.alerts.models import Alert
from trainquant.alerts.service import check_departments, check_session
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.models import AttendanceRecord, Device, ProxyCase
from trainquant.attendance.proxy import service as review
from trainquant.attendance.service import recompute_batch
from trainquant.auth.permissions import DataScope, Principal
from trainquant.org.models import DatedClass, Department, Employee, Site, Venue
from trainquant.simulate.attendance.generate import TZ
from trainquant.simulate.attendance.stream import CheckinStream
from trainquant.simulate.training.spec import TrainingYear
from trainquant.training.models import TrainingSession

# The HR import of the online meetings' logs (manual entries need attendance:manage).
IMPORTER = Principal(kind="apikey", id=0, name="simulator (meeting-log import)", role="hr",
                     permissions=frozenset({"attendance:write", "attendance:manage"}), scope=DataScope(all=True))


@dataclass
class AttendanceLoadSummary:
    devices: int = 0
    classes: int = 0
    sent: int = 0
    verdicts: Counter = field(default_factory=Counter)  # accepted | duplicate | rejected
    rejected: Counter = field(default_factory=Counter)  # reason code -> count
    resent_duplicates: int = 0
    records: int = 0
    sessions: int = 0
    new_cases: int = 0
    open_cases: int = 0
    new_alerts: int = 0
    alerts: Counter = field(default_factory=Counter)  # kind -> open alerts
    participation: dict[str, float] = field(default_factory=dict)  # department kind -> mean of the stored records


def _devices(db: Session, stream: CheckinStream) -> int:
    have = set(db.scalars(select(Device.device_id)))
    sites = dict(db.execute(select(Site.code, Site.id)).all())
    venues = {(sid, name): vid for vid, sid, name in db.execute(select(Venue.id, Venue.site_id, Venue.name))}
    new = [
        Device(device_id=d.device_id, kind="zkteco", name=d.name, site_id=sites[d.site], venue_id=venues[(sites[d.site], d.venue)],
               active=True, info={"simulated": True})
        for d in stream.devices if d.device_id not in have
    ]
    db.add_all(new)
    db.flush()
    return len(new)


def _classes(db: Session, stream: CheckinStream, employees: dict[str, int]) -> int:
    have: set[tuple[int, datetime]] = {(e, at) for e, at in db.execute(select(DatedClass.employee_id, DatedClass.starts_at))}
    sites = dict(db.execute(select(Site.code, Site.id)).all())
    new = []
    for c in stream.classes:
        key = (employees[c.employee_no], c.starts_at)
        if key in have:
            continue
        have.add(key)
        new.append(DatedClass(employee_id=key[0], starts_at=c.starts_at, ends_at=c.ends_at, course=c.course, site_id=sites.get(c.site) if c.site is not None else None))
    db.add_all(new)
    db.flush()
    return len(new)


def load_attendance(db: Session, year: TrainingYear, stream: CheckinStream, *, now: datetime, default_tz: str, secret_key: str) -> AttendanceLoadSummary:
    """Write ``stream`` (the school and ``year`` must be loaded already). Never commits."""
    out = AttendanceLoadSummary()
    nos = sorted({no for _, no in stream.truth} | {c.employee_no for c in stream.classes})
    employees = dict(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(nos))).all()) if nos else {}
    out.devices = _devices(db, stream)
    out.classes = _classes(db, stream, employees)
    for batch in stream.batches:
        result = ingest(db, list(batch.events), source=batch.source, principal=IMPORTER if batch.manual else None, now=now,
                        secret_key=secret_key).result
        out.sent += len(batch.events)
        out.verdicts.update({"accepted": result.accepted, "duplicate": result.duplicate, "rejected": result.rejected})
        out.rejected.update(v.reason_code for v in result.results if v.status == "rejected")
        if batch.resent:
            out.resent_duplicates += result.duplicate
    codes = sorted({code for code, _ in stream.truth})
    ids = list(db.scalars(select(TrainingSession.id).where(TrainingSession.code.in_(codes), TrainingSession.ends_at <= now).order_by(TrainingSession.id)))
    out.sessions = len(ids)
    out.records = recompute_batch(db, ids, now=now, default_tz=default_tz)
    out.new_cases = len(review.detect(db, ids, now, default_tz=default_tz))
    for sid in ids:
        out.new_alerts += len(check_session(db, sid, now, default_tz=default_tz))
    last = min(year.today, now.astimezone(TZ).date())
    out.new_alerts += len(check_departments(db, year.first_day, last, now, default_tz=default_tz))
    out.open_cases = db.scalar(select(func.count()).select_from(ProxyCase).where(ProxyCase.status == "open")) or 0
    out.alerts.update(dict(db.execute(select(Alert.kind, func.count()).where(Alert.status == "open").group_by(Alert.kind)).all()))
    rows = db.execute(
        select(Department.kind, func.avg(AttendanceRecord.participation))
        .join(Employee, Employee.department_id == Department.id).join(AttendanceRecord, AttendanceRecord.employee_id == Employee.id)
        .where(AttendanceRecord.session_id.in_(ids)).group_by(Department.kind)
    ).all() if ids else []
    out.participation = {kind: round(float(mean), 4) for kind, mean in rows}
    return out

