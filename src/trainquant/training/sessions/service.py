"""Sessions of a program: schedule, change, cancel, delete, with the checks that keep a schedule sane."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from trainquant.db import contains_text
from trainquant.errors import Conflict
from trainquant.org.models import Site, Venue
from trainquant.training import rules, schemas
from trainquant.training.enrolment.service import apply_changes, load_roster, resize_session
from trainquant.training.lookups import (
    employee_ref,
    get_session,
    invalid,
    program_ref,
)
from trainquant.training.models import (
    Assessment,
    CostItem,
    Enrolment,
    Program,
    TrainingSession,
)


def session_read(s: TrainingSession, counts: Counter | None = None) -> schemas.SessionRead:
    counts = counts or Counter()
    approved = counts.get(rules.APPROVED, 0)
    return schemas.SessionRead(
        id=s.id, code=s.code, program_code=s.program.code, program_title=s.program.title, program_title_en=s.program.title_en, sequence=s.sequence,
        starts_at=s.starts_at, ends_at=s.ends_at, online=s.online, site_code=s.site.code if s.site else None,
        venue=s.venue.name if s.venue else None, trainer=s.trainer,
        trainer_employee_no=s.trainer_employee.employee_no if s.trainer_employee else None, capacity=s.capacity,
        checkin_methods=list(s.checkin_methods or []), min_participation=s.min_participation,
        missing_checkout_policy=s.missing_checkout_policy, status=s.status, cancel_reason=s.cancel_reason,
        approved=approved, waitlisted=counts.get(rules.WAITLISTED, 0), requested=counts.get(rules.REQUESTED, 0),
        seats_left=None if s.capacity is None else max(0, s.capacity - approved),
    )


@dataclass(frozen=True)
class SessionFilter:
    program: str | None = None
    status: str | None = None
    site: str | None = None
    trainer: str | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None


def session_query(db: Session, f: SessionFilter):
    stmt = select(TrainingSession).join(TrainingSession.program).options(
        joinedload(TrainingSession.program), joinedload(TrainingSession.site), joinedload(TrainingSession.venue),
        joinedload(TrainingSession.trainer_employee),
    )
    if f.program:
        stmt = stmt.where(Program.code == f.program)
    if f.status:
        stmt = stmt.where(TrainingSession.status == f.status)
    if f.site:
        stmt = stmt.where(TrainingSession.site_id == select(Site.id).where(Site.code == f.site).scalar_subquery())
    if f.trainer:
        stmt = stmt.where(contains_text(TrainingSession.trainer, f.trainer.strip()))
    if f.starts_from:
        stmt = stmt.where(TrainingSession.starts_at >= f.starts_from)
    if f.starts_to:
        stmt = stmt.where(TrainingSession.starts_at < f.starts_to)
    return stmt.order_by(TrainingSession.starts_at, TrainingSession.id)


def _place(db: Session, session: TrainingSession, site_code: str | None, venue_name: str | None) -> None:
    site = None
    if site_code:
        site = db.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise invalid("site_code", f"no site with code {site_code!r}", "unknown-site")
    venue = None
    if venue_name:
        if site is None:
            raise invalid("venue", "a venue needs the site_code of its site", "venue-needs-site")
        venue = db.scalar(select(Venue).where(Venue.site_id == site.id, Venue.name == venue_name))
        if venue is None:
            raise invalid("venue", f"venue {venue_name!r} is not in site {site.code!r}", "venue-not-in-site")
    session.site_id, session.venue_id = (site.id if site else None), (venue.id if venue else None)


def _check_schedule(db: Session, session: TrainingSession) -> None:
    if session.ends_at <= session.starts_at:
        raise invalid("ends_at", "ends_at must be after starts_at", "ends-before-start")
    if not session.online and session.site_id is None:
        raise invalid("site_code", "an offline session needs a site (or set online: true)", "offline-needs-site")
    if "geo" in (session.checkin_methods or []) and session.venue_id is None:
        raise invalid("checkin_methods", "geofenced check-in needs a venue (its coordinates)", "geo-needs-venue")
    venue = None if session.online else session.venue_id  # an online session holds no room
    new = rules.Booking(session.id, session.code, session.starts_at, session.ends_at, session.trainer, session.trainer_employee_id, venue)
    if not new.trainer and new.trainer_employee_id is None and new.venue_id is None:
        return
    nearby = db.scalars(
        select(TrainingSession).where(
            TrainingSession.status != "cancelled",
            TrainingSession.starts_at < session.ends_at,
            TrainingSession.ends_at > session.starts_at,
        )
    )
    others = [rules.Booking(o.id, o.code, o.starts_at, o.ends_at, o.trainer, o.trainer_employee_id, None if o.online else o.venue_id)
              for o in nearby if o is not session]
    room = rules.venue_clash(new, others)
    if room is not None:
        raise _busy(db, session, room, field="venue", code="venue-busy", what="the room is already booked by")
    clash = rules.trainer_clash(new, others)  # None when no trainer is named
    if clash is not None:
        raise _busy(db, session, clash, field="trainer", code="trainer-busy", what="the trainer already teaches")


def _busy(db: Session, session: TrainingSession, other: rules.Booking, *, field: str, code: str, what: str) -> Conflict:
    """409 for a room or a trainer that ``other`` holds at the time, its time in the site's zone."""
    return Conflict(
        f"{what} session {other.code} from {_local(db, other.starts_at, session)} to {_local(db, other.ends_at, session, time_only=True)}",
        code=code, errors=[{"field": field, "code": code, "message": f"overlaps session {other.code}"}], clashing_session=other.code,
    )


def _local(db: Session, moment: datetime, session: TrainingSession, *, time_only: bool = False) -> str:
    """A moment in the zone of the session's site, the zone named (UTC for a session without a site)."""
    site = db.get(Site, session.site_id) if session.site_id is not None else None
    zone = ZoneInfo(site.timezone) if site is not None and site.timezone else ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%H:%M} ({zone.key})" if time_only else f"{local:%Y-%m-%d %H:%M}"


def _apply_fields(db: Session, session: TrainingSession, data: dict) -> None:
    if "site_code" in data or "venue" in data:
        _place(db, session, data.pop("site_code", None), data.pop("venue", None))
    if "trainer_employee_no" in data:
        no = data.pop("trainer_employee_no")
        trainer = employee_ref(db, no, "trainer_employee_no") if no else None
        session.trainer_employee_id = trainer.id if trainer else None
        if trainer and not data.get("trainer"):
            data["trainer"] = trainer.name
    for key, value in data.items():
        setattr(session, key, value)


def create_session(db: Session, body: schemas.SessionCreate, *, now: datetime) -> TrainingSession:
    program = program_ref(db, body.program_code)
    if not program.active:
        raise Conflict(f"program {program.code!r} is retired; it takes no new sessions", code="program-retired")
    sequence = body.sequence or (db.scalar(select(func.max(TrainingSession.sequence)).where(TrainingSession.program_id == program.id)) or 0) + 1
    code = body.code or f"{program.code}-{sequence}"
    if db.scalar(select(TrainingSession.id).where(TrainingSession.code == code)) is not None:
        raise Conflict(f"session {code!r} already exists", code="session-code-taken")
    online = body.online if body.online is not None else program.kind == "online"
    session = TrainingSession(
        code=code, program_id=program.id, sequence=sequence, starts_at=body.starts_at, ends_at=body.ends_at, online=online,
        trainer=program.trainer, trainer_employee_id=program.trainer_employee_id, capacity=body.capacity,
        checkin_methods=body.checkin_methods if body.checkin_methods is not None else ([] if online else ["qr", "manual"]),
        min_participation=body.min_participation or 0.8,
        missing_checkout_policy=body.missing_checkout_policy or "credit-to-end", status="scheduled", created_at=now,
    )
    data = body.model_dump(exclude_none=True, include={"site_code", "venue", "trainer", "trainer_employee_no"})
    if "trainer" in data and "trainer_employee_no" not in data and data["trainer"] != program.trainer:
        session.trainer_employee_id = None  # another trainer than the program's usual one
    _apply_fields(db, session, data)
    _check_schedule(db, session)
    db.add(session)
    db.flush()
    return get_session(db, code)


def update_session(db: Session, code: str, body: schemas.SessionUpdate, *, now: datetime) -> TrainingSession:
    session = get_session(db, code, lock=True)
    if session.status == "cancelled":
        raise Conflict(f"session {code!r} is cancelled", code="session-cancelled")
    data = body.model_dump(exclude_unset=True)
    confirm_past = data.pop("confirm_past", False)
    moved = data.get("starts_at")
    if moved is not None and moved < now <= session.starts_at and not confirm_past:
        live = db.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.session_id == session.id, Enrolment.status.in_(rules.ACTIVE)))
        if live:  # most likely a typo in the date; if not, say so
            raise Conflict(f"session {code!r} has {live} enrolments and would start in the past; send confirm_past: true to move it there",
                           code="moves-into-past", errors=[{"field": "starts_at", "code": "moves-into-past", "message": "in the past, with enrolments"}],
                           enrolments=live)
    for required in ("starts_at", "ends_at", "online", "checkin_methods", "min_participation", "missing_checkout_policy"):
        if required in data and data[required] is None:
            raise invalid(required, f"{required} cannot be empty", "required")
    new_capacity = data.pop("capacity", session.capacity)
    _apply_fields(db, session, data)
    _check_schedule(db, session)
    if new_capacity != session.capacity:
        resize_session(db, session, new_capacity, now=now)
    db.flush()
    return session


def cancel_session(db: Session, code: str, reason: str, *, actor: rules.Actor, now: datetime) -> TrainingSession:
    session = get_session(db, code, lock=True)
    if session.status == "cancelled":
        raise Conflict(f"session {code!r} is already cancelled", code="session-already-cancelled")
    if session.ends_at <= now:
        raise invalid("session_code", f"session {code!r} has already ended", "session-ended")
    session.status, session.cancel_reason = "cancelled", reason
    rows, places = load_roster(db, session)
    apply_changes(db, session, rows, rules.cancel_session(places, actor=actor, reason=reason), now=now)
    db.flush()
    return session


def delete_session(db: Session, code: str) -> None:
    session = get_session(db, code)
    for model, what in ((Enrolment, "enrolments"), (CostItem, "cost items"), (Assessment, "assessments")):
        if db.scalar(select(func.count()).select_from(model).where(model.session_id == session.id)):
            raise Conflict(f"session {code!r} has {what}; cancel it instead of deleting it", code="session-in-use")
    db.delete(session)
    db.flush()
