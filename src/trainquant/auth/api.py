"""Users and API keys (admin only), and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from trainquant.auth import schemas, service
from trainquant.auth.login import change_password_throttled, recent_failures
from trainquant.auth.models import ApiKey, User
from trainquant.auth.permissions import Principal
from trainquant.auth.throttle import login_throttle
from trainquant.deps import AppClock, CurrentPrincipal, DbSession, ReadSession, keep_session_after_epoch_change, require
from trainquant.errors import Forbidden
from trainquant.pagination import Page, Paging
from trainquant.params import PathId

router = APIRouter(prefix="/api/v1", tags=["auth"])
Admin = Annotated[Principal, require("users:admin")]


@router.get("/me", response_model=schemas.Me)
def me(principal: CurrentPrincipal):
    return schemas.Me(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        permissions=sorted(principal.permissions),
        employee_id=principal.employee_id,
    )


@router.post(
    "/me/password", status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "an API key has no password"}, 429: {"description": "too many wrong current passwords; retry after Retry-After"}},
)
def change_my_password(body: schemas.PasswordChange, request: Request, clock: AppClock, principal: CurrentPrincipal):
    """Every other session of this user ends; the one that asked stays logged in. Wrong current
    passwords count against the account's login limits (429 with Retry-After past them)."""
    if principal.kind != "user":
        raise Forbidden("an API key has no password; log in as a user to change one")
    epoch = change_password_throttled(
        request.app.state.sessionmaker, login_throttle(request.app), user_id=principal.id, current_password=body.current_password,
        new_password=body.new_password, address=request.client.host if request.client else None, now=clock.now(),
    )
    keep_session_after_epoch_change(request, epoch)


@router.get("/users", response_model=list[schemas.UserRead])
def list_users(db: ReadSession, _: Admin):
    return list(db.scalars(select(User).order_by(User.username)))


@router.post("/users", response_model=schemas.UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: schemas.UserCreate, db: DbSession, clock: AppClock, _: Admin):
    return service.create_user(db, now=clock.now(), **body.model_dump())


@router.patch("/users/{user_id}", response_model=schemas.UserRead)
def update_user(user_id: PathId, body: schemas.UserUpdate, db: DbSession, principal: Admin):
    """Change a user's role or a manager's department, or deactivate (signed out at once) / reactivate them."""
    return service.update_user(db, user_id, actor_id=principal.id if principal.kind == "user" else None, role=body.role,
                               department_code=body.department_code, active=body.is_active)


@router.post("/users/{user_id}/signout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out_everywhere(user_id: PathId, db: DbSession, _: Admin):
    """End every session of the user (their API keys, if any, are revoked separately)."""
    service.end_sessions(db, user_id)


@router.get("/login-failures", response_model=Page[schemas.LoginFailureRead])
def list_login_failures(
    db: ReadSession, _: Admin, paging: Paging,
    username: Annotated[str | None, Query(max_length=64, description="only attempts with exactly this name")] = None,
):
    rows, total = recent_failures(db, paging, username=username)
    return Page.of(rows, total, paging)


@router.get("/apikeys", response_model=list[schemas.ApiKeyRead])
def list_keys(db: ReadSession, _: Admin):
    return list(db.scalars(select(ApiKey).order_by(ApiKey.id)))


@router.post("/apikeys", response_model=schemas.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: schemas.ApiKeyCreate, db: DbSession, clock: AppClock, principal: Admin):
    row, key = service.create_api_key(db, name=body.name, scopes=body.scopes, created_by=principal.name, now=clock.now())
    return schemas.ApiKeyCreated(**schemas.ApiKeyRead.model_validate(row).model_dump(), key=key)


@router.delete("/apikeys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: PathId, db: DbSession, clock: AppClock, _: Admin):
    service.revoke_api_key(db, key_id, now=clock.now())
