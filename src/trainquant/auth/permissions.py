"""Roles, permissions and data scopes: pure, so the authorisation matrix can be read and tested."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ROLES = ("admin", "hr", "manager", "employee")

# Every route names one of these; API keys carry a subset as their scopes.
PERMISSIONS = {
    "org:read": "read departments, sites, employees, profiles and timetables (within the data scope)",
    "org:write": "create and change departments, sites, venues, employees and timetables",
    "growth:write": "add entries to a growth profile (within the data scope)",
    "import:write": "import employees and timetables from files",
    "users:admin": "manage users and API keys",
    "training:read": "see programs and sessions; one's own enrolments (others' within the data scope)",
    "training:enrol": "request enrolment for oneself, cancel one's own request",
    "training:approve": "approve or reject enrolment requests (within the data scope)",
    "training:manage": "create programs, sessions, mandatory rules and costs; enrol others; override decisions",
    "assessments:write": "record assessment results (within the data scope)",
    "indicators:read": "see indicator definitions and results (results within the data scope)",
    "indicators:write": "add, edit (as a new version) and retire indicators; run evaluations",
    "reports:read": "training effect reports and their exports (within the data scope)",
    "attendance:read": "see attendance figures and check-in events (within the data scope)",
    "attendance:write": "send check-in events (devices, platforms, the check-in page)",
    "attendance:manage": "manual check-ins, devices, the proxy review queue, and running the alert checks",
    "alerts:read": "see participation alerts (within the data scope: a manager their departments')",
    "alerts:handle": "acknowledge and resolve participation alerts (within the data scope)",
    "metrics:read": "see business metric records (teaching platform, CRM, OA) and the ids waiting for mapping",
    "metrics:write": "send business metric records (connectors, imports) and map unknown ids",
    "integrations:manage": "connect the teaching platform, the CRM and the OA system: connectors and their secrets",
    # xAPI 1.0.3's own scopes (Communication 4.2), for the LRS under /xapi.
    "xapi:statements/write": "store xAPI statements (an employee's own player: about oneself only)",
    "xapi:statements/read": "read every xAPI statement",
    "xapi:statements/read/mine": "read the xAPI statements these credentials stored",
    "xapi:state": "read and write xAPI State documents (a player's resume position)",
    "xapi:define": "read the LRS's activity definitions and agents",
    "xapi:profile": "read and write xAPI Activity and Agent Profile documents",
    "xapi:all/read": "read everything in the LRS",
    "xapi:all": "everything in the LRS",
}

# An employee's own player: its statements, its resume position, and what it stored read back.
_LEARNER = {"xapi:statements/write", "xapi:statements/read/mine", "xapi:state"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "hr": frozenset(PERMISSIONS) - {"users:admin"},
    "manager": frozenset(
        {"org:read", "growth:write", "training:read", "training:enrol", "training:approve", "assessments:write",
         "indicators:read", "reports:read", "attendance:read", "attendance:write", "alerts:read", "alerts:handle", *_LEARNER}
    ),
    "employee": frozenset({"org:read", "training:read", "training:enrol", "indicators:read", "attendance:read", "attendance:write", *_LEARNER}),
}

# What each LRS need is granted by (Communication 4.2: "all" covers every scope, "all/read" every read).
XAPI_NEEDS: dict[str, frozenset[str]] = {
    "statements/write": frozenset({"xapi:statements/write", "xapi:all"}),
    "statements/read": frozenset({"xapi:statements/read", "xapi:all/read", "xapi:all"}),
    "statements/read/mine": frozenset({"xapi:statements/read/mine"}),
    "state/read": frozenset({"xapi:state", "xapi:all/read", "xapi:all"}),
    "state/write": frozenset({"xapi:state", "xapi:all"}),
    "profile/read": frozenset({"xapi:profile", "xapi:all/read", "xapi:all"}),
    "profile/write": frozenset({"xapi:profile", "xapi:all"}),
    "define/read": frozenset({"xapi:define", "xapi:profile", "xapi:statements/read", "xapi:all/read", "xapi:all"}),
}


def xapi_allows(permissions: frozenset[str], need: str) -> bool:
    return bool(permissions & XAPI_NEEDS[need])


@dataclass(frozen=True)
class DataScope:
    """Which employees' data a principal may see: all, a set of departments, or one person."""

    all: bool = False
    department_ids: frozenset[int] = frozenset()
    employee_id: int | None = None

    def allows(self, *, department_id: int | None, employee_id: int | None) -> bool:
        if self.all:
            return True
        if employee_id is not None and employee_id == self.employee_id:
            return True
        return department_id is not None and department_id in self.department_ids


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "apikey"
    id: int
    name: str
    role: str | None
    permissions: frozenset[str]
    scope: DataScope
    employee_id: int | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def subtree(root_id: int, parent_of: Mapping[int, int | None]) -> frozenset[int]:
    """The department ``root_id`` and every department below it."""
    children: dict[int, list[int]] = {}
    for dept, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(dept)
    seen: set[int] = set()
    stack = [root_id]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(children.get(node, ()))
    return frozenset(seen)


def scope_for_role(
    role: str, *, employee_id: int | None, department_id: int | None, parent_of: Mapping[int, int | None]
) -> DataScope:
    if role in ("admin", "hr"):
        return DataScope(all=True)
    if role == "manager" and department_id is not None:
        return DataScope(department_ids=subtree(department_id, parent_of), employee_id=employee_id)
    return DataScope(employee_id=employee_id)


def parse_scopes(raw: Iterable[str]) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in raw if s.strip())
    unknown = sorted(scopes - set(PERMISSIONS))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(PERMISSIONS))}")
    if not scopes:
        raise ValueError("an API key needs at least one scope")
    return scopes
