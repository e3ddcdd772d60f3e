"""Walk-ins: punches placed in a session whose owner was not enrolled in it (rejected ``walk-in``).

They are no attendance record until HR decides, once per person and session:

- **accept**: the person is enrolled (approved, source ``hr``, HR's reason in the enrolment's history;
  the session may have started or ended and may be full: they were there) and the punches are stored
  again, as accepted events of their original sender, then the figures follow. The same export
  imported later repeats them instead of adding them;
- **dismiss**: the punches stay rejected, with HR's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.attendance.checkin.service import ingest_now
from trainquant.attendance.checkin.verify import WALK_IN
from trainquant.attendance.models import CheckinEvent, WalkInDecision
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.org.models import Employee
from trainquant.pagination import PageParams
from trainquant.training.models import Enrolment, EnrolmentEvent, TrainingSession

DECISIONS = {"accept": "accepted", "dismiss": "dismissed"}


@dataclass(frozen=True)
class WalkIn:
    session_id: int
    session_code: str
    session_title: str
    starts_at: datetime
    employee_id: int
    employee_no: str
    name: str
    punches: tuple[tuple[datetime, str, str], ...]  # (at, kind, source)
    event_ids: tuple[int, ...]
    decision: WalkInDecision | None

    @property
    def status(self) -> str:
        return self.decision.status if self.decision is not None else "open"


def _walk_in_events(db: Session, pairs: list[tuple[int, int]] | None = None) -> list[CheckinEvent]:
    stmt = select(CheckinEvent).where(CheckinEvent.verdict == "rejected", CheckinEvent.reason_code == WALK_IN,
                                      CheckinEvent.session_id.is_not(None), CheckinEvent.employee_id.is_not(None))
    if pairs is not None:
        stmt = stmt.where(CheckinEvent.session_id.in_({s for s, _ in pairs}), CheckinEvent.employee_id.in_({e for _, e in pairs}))
    return list(db.scalars(stmt.order_by(CheckinEvent.at, CheckinEvent.id)))


def list_walk_ins(db: Session, page: PageParams, *, status: str | None = "open", session_code: str | None = None) -> tuple[list[WalkIn], int]:
    """Walk-ins per person and session, newest session first; ``status`` open, accepted, dismissed or None (all)."""
    pairs = select(CheckinEvent.session_id, CheckinEvent.employee_id, func.min(TrainingSession.starts_at).label("starts")).join(
        TrainingSession, TrainingSession.id == CheckinEvent.session_id).where(
        CheckinEvent.verdict == "rejected", CheckinEvent.reason_code == WALK_IN, CheckinEvent.employee_id.is_not(None),
    ).group_by(CheckinEvent.session_id, CheckinEvent.employee_id)
    if session_code:
        pairs = pairs.where(TrainingSession.code == session_code)
    decided = select(WalkInDecision.session_id, WalkInDecision.employee_id, WalkInDecision.status).subquery()
    q = pairs.subquery()
    stmt = select(q.c.session_id, q.c.employee_id).outerjoin(
        decided, (decided.c.session_id == q.c.session_id) & (decided.c.employee_id == q.c.employee_id))
    if status == "open":
        stmt = stmt.where(decided.c.status.is_(None))
    elif status is not None:
        stmt = stmt.where(decided.c.status == status)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    found = [(s, e) for s, e in db.execute(stmt.order_by(q.c.starts.desc(), q.c.session_id, q.c.employee_id)
                                           .offset(page.offset).limit(page.page_size))]
    return _walk_ins(db, found), total


def _walk_ins(db: Session, pairs: list[tuple[int, int]]) -> list[WalkIn]:
    if not pairs:
        return []
    events: dict[tuple[int, int], list[CheckinEvent]] = {}
    for ev in _walk_in_events(db, pairs):
        assert ev.session_id is not None and ev.employee_id is not None  # the query asks for both
        events.setdefault((ev.session_id, ev.employee_id), []).append(ev)
    sessions = {s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_({s for s, _ in pairs})))}
    people = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_({e for _, e in pairs})))}
    decisions = {(d.session_id, d.employee_id): d for d in db.scalars(select(WalkInDecision).where(
        WalkInDecision.session_id.in_({s for s, _ in pairs}), WalkInDecision.employee_id.in_({e for _, e in pairs})))}
    out = []
    for s_id, e_id in pairs:
        s, person, evs = sessions[s_id], people[e_id], events.get((s_id, e_id), [])
        out.append(WalkIn(
            session_id=s_id, session_code=s.code, session_title=s.program.title, starts_at=s.starts_at, employee_id=e_id,
            employee_no=person.employee_no, name=person.name,
            punches=tuple((ev.at, ev.kind or "", ev.source) for ev in evs if ev.at is not None),
            event_ids=tuple(ev.id for ev in evs), decision=decisions.get((s_id, e_id)),
        ))
    return out


def find(db: Session, session_code: str, employee_no: str) -> WalkIn | None:
    """One person's walk-in in one session, or None."""
    session = db.scalar(select(TrainingSession.id).where(TrainingSession.code == session_code))
    person = db.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
    if session is None or person is None:
        return None
    found = _walk_ins(db, [(session, person)])
    return found[0] if found and found[0].event_ids else None


def _resolve(db: Session, session_code: str, employee_no: str) -> tuple[TrainingSession, Employee]:
    session = db.scalar(select(TrainingSession).where(TrainingSession.code == session_code))
    person = db.scalar(select(Employee).where(Employee.employee_no == employee_no))
    if session is None or person is None:
        raise NotFound(f"no walk-in of {employee_no} in session {session_code}")
    return session, person


def decide(db: Session, session_code: str, employee_no: str, decision: str, *, reason: str | None, principal: Principal,
           now: datetime, settings: Settings) -> WalkIn:
    if decision not in DECISIONS:
        raise NotFound(f"no decision {decision!r}; accept or dismiss")
    reason = (reason or "").strip()[:500] or None
    if decision == "accept" and not reason:
        raise Invalid("accepting a walk-in needs a reason (who let them in, and why)", code="walk-in-needs-reason")
    session, person = _resolve(db, session_code, employee_no)
    events = _walk_in_events(db, [(session.id, person.id)])
    if not events:
        raise NotFound(f"no walk-in of {employee_no} in session {session_code}")
    if db.scalar(select(WalkInDecision.id).where(WalkInDecision.session_id == session.id, WalkInDecision.employee_id == person.id)) is not None:
        raise Conflict(f"the walk-in of {employee_no} in session {session_code} was already decided", code="walk-in-decided")
    row = WalkInDecision(session_id=session.id, employee_id=person.id, status=DECISIONS[decision], reason=reason,
                         event_ids=[ev.id for ev in events], accepted_ids=[], decided_by=principal.name[:64], decided_at=now)
    db.add(row)
    if decision == "accept":
        _enrol(db, session, person, reason=f"walk-in accepted: {reason}", actor=principal.name, now=now)
        db.flush()
        accepted: list[int] = []
        # One batch per original sender and source, each stored as that sender's.
        by_sender: dict[tuple[str, str], list[dict]] = {}
        for ev in events:
            by_sender.setdefault((ev.source, ev.origin), []).append(ev.raw)
        for (source, origin), raws in by_sender.items():
            outcome = ingest_now(db, raws, source=source, origin=origin, principal=principal, now=now, settings=settings, walk_ins=True)
            accepted += [v[5] for v in outcome.verdicts if v[2] in ("accepted", "duplicate") and v[5] is not None]
        row.accepted_ids = accepted
    db.flush()
    return _walk_ins(db, [(session.id, person.id)])[0]


def _enrol(db: Session, session: TrainingSession, person: Employee, *, reason: str, actor: str, now: datetime) -> None:
    row = db.scalar(select(Enrolment).where(Enrolment.session_id == session.id, Enrolment.employee_id == person.id))
    if row is None:
        row = Enrolment(session_id=session.id, employee_id=person.id, status="approved", source="hr", reason=reason[:500], created_at=now, updated_at=now)
        db.add(row)
        db.flush()
        db.add(EnrolmentEvent(enrolment_id=row.id, from_status=None, to_status="approved", actor=actor[:64], reason=reason[:500], at=now))
    elif row.status != "approved":
        db.add(EnrolmentEvent(enrolment_id=row.id, from_status=row.status, to_status="approved", actor=actor[:64], reason=reason[:500], at=now))
        row.status, row.reason, row.waitlist_position, row.updated_at = "approved", reason[:500], None, now
