"""Finding programs, sessions and employees by their codes, and turning a rule's refusal into an error.

Kept apart from the use cases so that every training module (programs, sessions, enrolment,
assessments, the pages) can look things up without importing one another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from trainquant.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from trainquant.org.models import Employee
from trainquant.training import rules
from trainquant.training.models import Enrolment, Program, TrainingSession

_REFUSALS: dict[str, type[DomainError]] = {"conflict": Conflict, "forbidden": Forbidden, "invalid": Invalid}


def refusal(refused: rules.Refused) -> DomainError:
    """A pure rule's refusal as the DomainError the API answers with (its code and parameters kept)."""
    entry = {"field": refused.field, "code": refused.code, "message": refused.message, **({"params": refused.params} if refused.params else {})}
    return _REFUSALS[refused.kind](refused.message, code=refused.code, errors=[entry] if refused.field else None)


def invalid(field: str, message: str, code: str = "invalid", **params: Any) -> Invalid:
    """A 422 about one field; ``code`` says why (pages translate it), ``params`` fill the translation."""
    entry = {"field": field, "code": code, "message": message, **({"params": params} if params else {})}
    return Invalid(message, code=code, errors=[entry])


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def employee_ref(db: Session, employee_no: str, field: str = "employee_no") -> Employee:
    emp = db.scalar(select(Employee).where(Employee.employee_no == employee_no).options(joinedload(Employee.department)))
    if emp is None:
        raise invalid(field, f"no employee with employee_no {employee_no!r}", "unknown-employee")
    return emp


def get_program(db: Session, code: str) -> Program:
    program = db.scalar(select(Program).where(Program.code == code).options(joinedload(Program.trainer_employee)))
    if program is None:
        raise NotFound(f"no program with code {code!r}")
    return program


def program_ref(db: Session, code: str, field: str = "program_code") -> Program:
    program = db.scalar(select(Program).where(Program.code == code))
    if program is None:
        raise invalid(field, f"no program with code {code!r}", "unknown-program")
    return program


def get_session(db: Session, code: str, *, lock: bool = False) -> TrainingSession:
    stmt = select(TrainingSession).where(TrainingSession.code == code).options(
        joinedload(TrainingSession.program), joinedload(TrainingSession.site), joinedload(TrainingSession.venue),
        joinedload(TrainingSession.trainer_employee),
    )
    # Seat decisions on one session are serialised (PostgreSQL row lock; SQLite has one writer anyway), and
    # read afresh once the lock is held.
    if lock:
        stmt = stmt.with_for_update(of=TrainingSession).execution_options(populate_existing=True)
    session = db.scalar(stmt)
    if session is None:
        raise NotFound(f"no session with code {code!r}")
    return session


def session_ref(db: Session, code: str, field: str = "session_code", *, lock: bool = False) -> TrainingSession:
    try:
        return get_session(db, code, lock=lock)
    except NotFound:
        raise invalid(field, f"no session with code {code!r}", "unknown-session") from None


def seat_counts(db: Session, session_ids: Iterable[int]) -> dict[int, Counter]:
    out: dict[int, Counter] = {}
    rows = db.execute(
        select(Enrolment.session_id, Enrolment.status, func.count()).where(Enrolment.session_id.in_(list(session_ids))).group_by(Enrolment.session_id, Enrolment.status)
    )
    for session_id, status, n in rows:
        out.setdefault(session_id, Counter())[status] = n
    return out
