"""Who may enrol in a program: department kinds, tags, tenure, prerequisites. Pure: standard library only; the time is a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Eligibility:
    """Who may enrol in a program (and, for a mandatory rule, who must). Empty: everyone."""

    department_kinds: frozenset[str] = frozenset()
    tags_any: frozenset[str] = frozenset()
    hired_within_days: int | None = None
    hired_at_least_days: int | None = None
    prerequisites: tuple[str, ...] = ()  # program codes to have completed first

    @classmethod
    def from_json(cls, data: Mapping | None) -> Eligibility:
        data = data or {}
        return cls(
            department_kinds=frozenset(data.get("department_kinds") or ()),
            tags_any=frozenset(data.get("tags_any") or ()),
            hired_within_days=data.get("hired_within_days"),
            hired_at_least_days=data.get("hired_at_least_days"),
            prerequisites=tuple(data.get("prerequisites") or ()),
        )


@dataclass(frozen=True)
class Candidate:
    department_kind: str
    tags: frozenset[str] = frozenset()
    hire_date: date | None = None
    status: str = "active"
    completed: frozenset[str] = frozenset()  # programs with an approved enrolment in a session that has ended


@dataclass(frozen=True)
class Failure:
    condition: str  # the key of Eligibility that failed, or "status"
    message: str


def eligibility_failures(rules: Eligibility, who: Candidate, *, today: date) -> tuple[Failure, ...]:
    out: list[Failure] = []
    if who.status == "left":
        out.append(Failure("status", "the employee has left"))
    if rules.department_kinds and who.department_kind not in rules.department_kinds:
        kinds = ", ".join(sorted(rules.department_kinds))
        out.append(Failure("department_kinds", f"only for {kinds} departments (this employee is in {who.department_kind})"))
    if rules.tags_any and not rules.tags_any & who.tags:
        out.append(Failure("tags_any", f"only for staff tagged {' or '.join(sorted(rules.tags_any))}"))
    days = (today - who.hire_date).days if who.hire_date else None
    if rules.hired_within_days is not None:
        if days is None:
            out.append(Failure("hired_within_days", "the employee's hire date is not recorded"))
        elif days > rules.hired_within_days:
            out.append(Failure("hired_within_days", f"only for staff hired within {rules.hired_within_days} days (hired {days} days ago)"))
    if rules.hired_at_least_days is not None:
        if days is None:
            out.append(Failure("hired_at_least_days", "the employee's hire date is not recorded"))
        elif days < rules.hired_at_least_days:
            out.append(Failure("hired_at_least_days", f"only for staff hired at least {rules.hired_at_least_days} days ago (hired {days} days ago)"))
    missing = [code for code in rules.prerequisites if code not in who.completed]
    if missing:
        out.append(Failure("prerequisites", f"complete {', '.join(missing)} first"))
    return tuple(out)
