"""Import the simulated platform days (``platform_day``) as HR would: the day's sessions and rosters
are written first, then each platform's whole-day export goes through the platform import use case
(``attendance.platforms.service.import_platform``), policy, placement and all.

Loading again is harmless: the sessions exist, and every record is answered as a repeat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance.platforms.service import import_platform
from trainquant.auth.permissions import DataScope, Principal
from trainquant.config import Settings
from trainquant.org.models import Employee, Site, Venue
from trainquant.simulate.attendance.platform_day import PROGRAM, PlatformDay
from trainquant.training.models import Enrolment, EnrolmentEvent, Program, TrainingSession

IMPORTER = Principal(kind="apikey", id=0, name="simulator (platform export import)", role="hr",
                     permissions=frozenset({"attendance:write", "attendance:manage"}), scope=DataScope(all=True))
ACTOR = "simulator"


@dataclass
class PlatformDayLoad:
    sessions: int = 0
    enrolments: int = 0
    records: Counter = field(default_factory=Counter)  # platform -> records sent
    verdicts: Counter = field(default_factory=Counter)  # accepted | duplicate | rejected
    reasons: Counter = field(default_factory=Counter)  # reason code -> rejected records


def _program(db: Session, now: datetime) -> int:
    found = db.scalar(select(Program.id).where(Program.code == PROGRAM))
    if found is not None:
        return found
    program = Program(code=PROGRAM, title="打卡平台导入演练", title_en="Platform check-in drill", kind="offline", level="foundation",
                      target_kinds=["teaching", "marketing", "admin"], tags=[], planned_hours=2, eligibility={}, requires_approval=False,
                      active=True, description="整天的企业微信、钉钉、飞书打卡导出：通勤、午饭、重复打卡、平台判定。", created_at=now)
    db.add(program)
    db.flush()
    return program.id


def write_sessions(db: Session, days: tuple[PlatformDay, ...], *, now: datetime, out: PlatformDayLoad) -> None:
    program_id = _program(db, now)
    sites = dict(db.execute(select(Site.code, Site.id)).all())
    venues = {(site_id, name): vid for vid, site_id, name in db.execute(select(Venue.id, Venue.site_id, Venue.name))}
    nos = {no for d in days for s in d.sessions for no in s.enrolled}
    people = dict(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(nos))).all())
    have = set(db.scalars(select(TrainingSession.code).where(TrainingSession.program_id == program_id)))
    sequence = len(have)
    for d in days:
        for s in d.sessions:
            if s.code in have:
                continue
            sequence += 1
            row = TrainingSession(
                code=s.code, program_id=program_id, sequence=sequence, starts_at=s.starts_at, ends_at=s.ends_at, site_id=sites[s.site],
                venue_id=venues[(sites[s.site], s.venue)], online=False, trainer="培训部", capacity=len(s.enrolled) + 5,
                checkin_methods=["geo"], min_participation=0.8, missing_checkout_policy="credit-to-end", status="completed", created_at=now,
            )
            db.add(row)
            db.flush()
            out.sessions += 1
            for no in s.enrolled:
                enrolment = Enrolment(session_id=row.id, employee_id=people[no], status="approved", source="hr",
                                      created_at=s.starts_at, updated_at=s.starts_at)
                db.add(enrolment)
                db.flush()
                db.add(EnrolmentEvent(enrolment_id=enrolment.id, from_status=None, to_status="approved", actor=ACTOR, at=s.starts_at))
                out.enrolments += 1
    db.flush()


def load_platform_days(db: Session, days: tuple[PlatformDay, ...], *, now: datetime, settings: Settings) -> PlatformDayLoad:
    """Write the days' sessions, then import each export in one request's worth. Never commits."""
    out = PlatformDayLoad()
    write_sessions(db, days, now=now, out=out)
    for d in days:
        result = import_platform(db, d.platform, d.payload, principal=IMPORTER, now=now, settings=settings)
        out.records[d.platform] += d.records
        out.verdicts.update({"accepted": result.accepted, "duplicate": result.duplicate, "rejected": result.rejected})
        out.reasons.update(v.reason_code for v in result.results if v.status == "rejected")
    return out
