"""Users, passwords (argon2) and API keys (SHA-256 of a 256-bit secret)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainquant.auth.models import ApiKey, User
from trainquant.auth.permissions import (
    ROLE_PERMISSIONS,
    ROLES,
    DataScope,
    Principal,
    parse_scopes,
    scope_for_role,
)
from trainquant.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from trainquant.org.models import Department, Employee
from trainquant.org.tree import department_parents

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_password_cost(*, time_cost: int, memory_cost_kib: int) -> None:
    """Change argon2's cost (the test suite lowers it; production keeps argon2-cffi's defaults).

    Hashes made with other parameters still verify, and are upgraded at the next login.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
    _DUMMY_HASH = _hasher.hash("not-a-real-password")
API_KEY_PREFIX = "tq_"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must have at least {MIN_PASSWORD_LENGTH} characters", code="password-too-short")
    return _hasher.hash(password)


def create_user(
    db: Session,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    employee_no: str | None = None,
    department_code: str | None = None,
    display_name: str | None = None,
) -> User:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", code="user-exists")
    employee_id = None
    if employee_no:
        employee_id = db.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
        if employee_id is None:
            raise NotFound(f"no employee with employee_no {employee_no!r}", code="user-unknown-employee")
    department_id = None
    if department_code:
        department_id = db.scalar(select(Department.id).where(Department.code == department_code))
        if department_id is None:
            raise NotFound(f"no department with code {department_code!r}", code="user-unknown-department")
    if role == "manager" and department_id is None:
        raise Invalid("a manager needs a department (the scope of what they see)", code="manager-needs-department")
    if role == "employee" and employee_id is None:
        raise Invalid("an employee user must be linked to an employee record (employee_no)", code="user-needs-employee")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        employee_id=employee_id,
        department_id=department_id,
        created_at=now,
    )
    db.add(user)
    db.flush()
    return user


def update_user(
    db: Session,
    user_id: int,
    *,
    actor_id: int | None,
    role: str | None = None,
    department_code: str | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's role (and a manager's department), or deactivate / reactivate them. Someone
    deactivated is signed out everywhere at once and can no longer log in; their history stays. An
    administrator cannot lock themselves out, and one active administrator always remains."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    new_role = role or user.role
    if new_role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, not {new_role!r}")
    department_id = user.department_id
    if department_code == "":
        department_id = None
    elif department_code is not None:
        department_id = db.scalar(select(Department.id).where(Department.code == department_code))
        if department_id is None:
            raise NotFound(f"no department with code {department_code!r}", code="user-unknown-department")
    stays_active = user.is_active if active is None else active
    if user_id == actor_id and (not stays_active or new_role != user.role):
        raise Invalid("you cannot deactivate yourself or change your own role", code="user-self-lockout")
    if user.role == "admin" and user.is_active and (new_role != "admin" or not stays_active):
        # the active administrators, locked: two admins demoting each other at once cannot leave none
        admins = db.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True)).with_for_update()).all()
        if set(admins) <= {user.id}:
            raise Invalid("the school needs at least one active administrator", code="user-last-admin")
    if new_role == "manager" and department_id is None:
        raise Invalid("a manager needs a department (the scope of what they see)", code="manager-needs-department")
    if new_role == "employee" and user.employee_id is None:
        raise Invalid("an employee user must be linked to an employee record (employee_no)", code="user-needs-employee")
    was_active = user.is_active  # every check passed: nothing was changed before this line
    user.role, user.department_id, user.is_active = new_role, department_id, stays_active
    db.flush()
    if was_active and not stays_active:
        end_sessions(db, user.id)
    return user


@dataclass(frozen=True)
class CredentialCheck:
    user_id: int | None  # the user the name matched, active or not
    ok: bool
    reason: str | None  # why not: "wrong-password" | "inactive"


def check_credentials(db: Session, *, username: str, password: str) -> CredentialCheck:
    """Only reads. An unknown name costs the same argon2 verification as a wrong password."""
    user = db.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return CredentialCheck(user.id if user else None, False, "wrong-password")
    if user is None:
        return CredentialCheck(None, False, "wrong-password")
    if not user.is_active:
        return CredentialCheck(user.id, False, "inactive")
    return CredentialCheck(user.id, True, None)


def note_login(db: Session, user_id: int, *, password: str, now: datetime) -> User:
    """After a successful check: the last log-in time, and the hash upgraded to the current cost."""
    user = db.get(User, user_id)
    if user is None:
        raise Unauthorized("wrong username or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


class WrongCurrentPassword(Forbidden):
    title = "Wrong password"
    type_slug = "wrong-password"


def end_sessions(db: Session, user_id: int) -> int:
    """Sign ``user_id`` out everywhere: every cookie carries the epoch it was issued at, and one from an
    earlier epoch is refused (``deps.session_user``). Returns the new epoch."""
    epoch = db.scalar(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1).returning(User.session_epoch))
    if epoch is None:
        raise NotFound(f"no user {user_id}")
    return epoch


def change_password(db: Session, user_id: int, *, current_password: str, new_password: str) -> int:
    """Set a new password after checking the current one; every existing session ends. Returns the new epoch."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        raise WrongCurrentPassword("the current password is wrong") from None
    if new_password == current_password:
        raise Invalid("the new password must differ from the current one")
    user.password_hash = hash_password(new_password)
    db.flush()
    return end_sessions(db, user_id)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def revoke_api_key(db: Session, key_id: int, *, now: datetime) -> ApiKey:
    """Revoke a key (at once: the next request with it is refused); revoking it again changes nothing."""
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}", code="no-api-key")
    row.revoked_at = row.revoked_at or now
    return row


def create_api_key(db: Session, *, name: str, scopes: list[str], created_by: str, now: datetime) -> tuple[ApiKey, str]:
    try:
        parsed = parse_scopes(scopes)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=_digest(key),
        scopes=" ".join(sorted(parsed)),
        created_by=created_by,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row, key


def find_api_key(db: Session, key: str) -> ApiKey:
    """The live key ``key`` names, or Unauthorized. Only reads: a read-only session will do."""
    parts = key.removeprefix(API_KEY_PREFIX).split("_", 1)
    if not key.startswith(API_KEY_PREFIX) or len(parts) != 2:
        raise Unauthorized("malformed API key")
    row = db.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _digest(key)):
        raise Unauthorized("unknown or revoked API key")
    return row


def api_key_principal(row: ApiKey) -> Principal:
    return Principal(
        kind="apikey",
        id=row.id,
        name=f"apikey:{row.name}",
        role=None,
        permissions=frozenset(row.scopes.split()),
        scope=DataScope(all=True),
    )


def note_api_key_use(db: Session, key_id: int, last_used_at: datetime | None, *, now: datetime) -> None:
    """Record when a key was last used, at most once a minute (each record is a write)."""
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        db.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def principal_for_user(db: Session, user: User) -> Principal:
    parents = department_parents(db) if user.role == "manager" else {}
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=user.role,
        permissions=ROLE_PERMISSIONS[user.role],
        scope=scope_for_role(
            user.role, employee_id=user.employee_id, department_id=user.department_id, parent_of=parents
        ),
        employee_id=user.employee_id,
    )
