"""Users and API keys (admin only), and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from sqlalchemy import select

from trainquant.auth import schemas, service
from trainquant.auth.models import ApiKey, User
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, CurrentPrincipal, DbSession, ReadSession, require
from trainquant.errors import NotFound
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


@router.get("/users", response_model=list[schemas.UserRead])
def list_users(db: ReadSession, _: Admin):
    return list(db.scalars(select(User).order_by(User.username)))


@router.post("/users", response_model=schemas.UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: schemas.UserCreate, db: DbSession, clock: AppClock, _: Admin):
    return service.create_user(db, now=clock.now(), **body.model_dump())


@router.get("/apikeys", response_model=list[schemas.ApiKeyRead])
def list_keys(db: ReadSession, _: Admin):
    return list(db.scalars(select(ApiKey).order_by(ApiKey.id)))


@router.post("/apikeys", response_model=schemas.ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: schemas.ApiKeyCreate, db: DbSession, clock: AppClock, principal: Admin):
    row, key = service.create_api_key(db, name=body.name, scopes=body.scopes, created_by=principal.name, now=clock.now())
    return schemas.ApiKeyCreated(**schemas.ApiKeyRead.model_validate(row).model_dump(), key=key)


@router.delete("/apikeys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: PathId, db: DbSession, clock: AppClock, _: Admin):
    row = db.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    row.revoked_at = row.revoked_at or clock.now()
