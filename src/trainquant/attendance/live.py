"""What the attendance pages show: a session's live board and one person's history.

Minutes so far come from ``rules.attended`` with the window closed at *now* while the session runs
(the stored records close it at the scheduled end), so the board never has an algorithm of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trainquant.attendance import rules
from trainquant.attendance.models import AttendanceRecord, CheckinEvent
from trainquant.attendance.service import TeachingCalendar, excluded_event_ids
from trainquant.auth.permissions import DataScope
from trainquant.org.models import Employee
from trainquant.training.lookups import get_session
from trainquant.training.models import Enrolment, TrainingSession

IN_ROOM, LEFT, NEVER_CAME = "in", "left", "never-came"
# After the end nobody is "in the room": whoever never checked out stayed to the end (how that time
# counts is the session's missing-checkout policy, in the figures).
STAYED = "stayed"
LAST_EVENTS = 12
# While a session runs, everyone inside has "no check-out" and everyone not yet there is "absent":
# true but noise on a live board, so those two flags wait for the end.
LIVE_NOISE = frozenset({rules.FLAG_NO_CHECKOUT, rules.FLAG_ABSENT})


@dataclass(frozen=True)
class BoardRow:
    employee_no: str
    name: str
    department: str
    state: str  # IN_ROOM (running or not started) | STAYED (ended) | LEFT | NEVER_CAME
    enrolled: bool
    first_in: datetime | None
    left_at: datetime | None
    figures: rules.Attendance
    flags: tuple[str, ...]


@dataclass(frozen=True)
class BoardEvent:
    id: int
    at: datetime | None
    employee_no: str | None
    name: str | None
    kind: str | None
    method: str | None
    verdict: str
    reason_code: str | None


@dataclass
class Board:
    session: TrainingSession
    window: rules.Window
    running: bool
    ended: bool
    rows: list[BoardRow] = field(default_factory=list)
    events: list[BoardEvent] = field(default_factory=list)

    def of(self, state: str) -> list[BoardRow]:
        return [r for r in self.rows if r.state == state]

    @property
    def attended_seconds(self) -> int:
        return sum(r.figures.attended_seconds for r in self.rows if r.enrolled)

    @property
    def participation(self) -> float | None:
        """The enrolled people's minutes so far over everyone's possible minutes so far."""
        enrolled = [r for r in self.rows if r.enrolled]
        possible = self.window.seconds * len(enrolled)
        return self.attended_seconds / possible if possible else None


def live_window(s: TrainingSession, now: datetime) -> rules.Window:
    """The session's window with its end at ``now`` while it runs (nothing yet before the start)."""
    end = min(max(now, s.starts_at), s.ends_at)
    return rules.Window(s.starts_at, end, s.missing_checkout_policy)


def board(db: Session, code: str, scope: DataScope, *, now: datetime, default_tz: str) -> Board:
    s = get_session(db, code)
    window = live_window(s, now)
    result = Board(session=s, window=window, running=s.starts_at <= now < s.ends_at, ended=now >= s.ends_at)
    excluded = excluded_event_ids(db, [s.id])
    events = list(db.scalars(select(CheckinEvent).where(CheckinEvent.session_id == s.id).order_by(CheckinEvent.id)))
    punches: dict[int, list[rules.Punch]] = defaultdict(list)
    for e in events:
        if e.verdict == "accepted" and e.employee_id is not None and e.id not in excluded and e.at is not None and e.kind is not None:
            punches[e.employee_id].append(rules.Punch(e.at, e.kind, f"{e.id:012d}"))
    enrolled = set(db.scalars(select(Enrolment.employee_id).where(Enrolment.session_id == s.id, Enrolment.status == "approved")))
    people_ids = sorted(enrolled | set(punches))
    people = {
        e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(people_ids)).options(joinedload(Employee.department)))
    } if people_ids else {}
    visible = {i for i, e in people.items() if scope.allows(department_id=e.department_id, employee_id=e.id)}
    calendar = TeachingCalendar(db, visible, default_tz)
    for eid in sorted(visible, key=lambda i: people[i].employee_no):
        emp, mine = people[eid], punches.get(eid, [])
        figures = rules.attended(mine, window, calendar.classes(eid, window.start, window.end))
        ordered = sorted(mine, key=rules.Punch.sort_key)
        if not ordered:
            state = NEVER_CAME
        else:
            state = (STAYED if result.ended else IN_ROOM) if ordered[-1].kind == rules.IN else LEFT
        first_in = next((p.at for p in ordered if p.kind == rules.IN), None)
        left_at = ordered[-1].at if state == LEFT else None
        flags = figures.flags - LIVE_NOISE if not result.ended else figures.flags - {rules.FLAG_ABSENT}
        result.rows.append(BoardRow(
            employee_no=emp.employee_no, name=emp.name, department=emp.department.name if emp.department else "",
            state=state, enrolled=eid in enrolled, first_in=first_in, left_at=left_at, figures=figures, flags=tuple(sorted(flags)),
        ))
    shown = [e for e in events if scope.all or e.employee_id in visible]
    for e in reversed(shown[-LAST_EVENTS:]):
        who = people.get(e.employee_id) if e.employee_id is not None else None
        result.events.append(BoardEvent(
            id=e.id, at=e.at, employee_no=who.employee_no if who else e.employee_ref, name=who.name if who else None,
            kind=e.kind, method=e.method, verdict=e.verdict, reason_code=e.reason_code,
        ))
    return result


@dataclass(frozen=True)
class HistoryRow:
    code: str
    program: object
    starts_at: datetime
    ends_at: datetime
    held: str  # "ended" | "running" | "upcoming": only an ended session's figures are final and counted
    attended_minutes: float
    scheduled_minutes: float
    participation: float
    late_minutes: float
    early_leave_minutes: float
    flags: tuple[str, ...]
    min_participation: float


def history(db: Session, employee: Employee, *, now: datetime) -> list[HistoryRow]:
    rows = db.execute(
        select(AttendanceRecord, TrainingSession)
        .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
        .where(AttendanceRecord.employee_id == employee.id)
        .options(joinedload(TrainingSession.program))
        .order_by(TrainingSession.starts_at, TrainingSession.code)
    ).all()
    return [
        HistoryRow(
            code=s.code, program=s.program, starts_at=s.starts_at, ends_at=s.ends_at,
            held="ended" if now >= s.ends_at else "running" if now >= s.starts_at else "upcoming",
            attended_minutes=rules.minutes(r.attended_seconds), scheduled_minutes=rules.minutes(r.scheduled_seconds),
            participation=r.participation, late_minutes=rules.minutes(r.late_seconds),
            early_leave_minutes=rules.minutes(r.early_leave_seconds), flags=tuple(r.flags), min_participation=s.min_participation,
        )
        for r, s in rows
    ]
