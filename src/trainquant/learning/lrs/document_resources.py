"""The State, Activity Profile and Agent Profile resources, and Activities, Agents and About
(Communication 2.2-2.8), as ``api.lrs`` hands them over."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import select

from trainquant.auth.permissions import Principal, xapi_allows
from trainquant.db import read_only, unit_of_work
from trainquant.errors import Forbidden
from trainquant.learning.lrs import documents
from trainquant.learning.lrs.documents import DocumentKey
from trainquant.learning.lrs.http import BadRequest, ForgedActor, LrsRequest
from trainquant.learning.lrs.query import agent_param, timestamp_param
from trainquant.learning.lrs.resources import json_response
from trainquant.learning.models import XapiActivity
from trainquant.learning.xapi.facts import agent_key
from trainquant.learning.xapi.formats import is_iri
from trainquant.org.models import Employee

SUPPORTED_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]


@dataclass(frozen=True)
class DocumentResource:
    kind: str
    id_param: str
    activity: bool  # takes activityId
    agent: bool  # takes agent
    registration: bool  # takes registration
    read_need: str
    write_need: str
    # Profiles: a PUT onto an existing document without If-Match / If-None-Match is a 409 (Communication 3.1).
    require_precondition: bool

    @property
    def params(self) -> set[str]:
        names = {self.id_param, "since"}
        if self.activity:
            names.add("activityId")
        if self.agent:
            names.add("agent")
        if self.registration:
            names.add("registration")
        return names


def _check(lrs: LrsRequest, resource: DocumentResource, need: str) -> Principal:
    principal = lrs.principal
    assert principal is not None
    if not xapi_allows(principal.permissions, need):
        raise Forbidden(f"these credentials may not use {lrs.resource} (scope {need})", code="xapi-scope")
    unknown = sorted(set(lrs.params) - resource.params)
    if unknown:
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)} for {lrs.resource}", code="xapi-unknown-parameter")
    return principal


def _own_agent(app: FastAPI, principal: Principal, agent: dict[str, Any]) -> int | None:
    """A learner's session may use only its own State and Agent Profile documents; returns the employee."""
    if principal.kind != "user" or principal.can("xapi:all"):
        return None
    with read_only(app.state.sessionmaker)() as db:
        employee = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    home = app.state.settings.home_page()
    account: dict[str, Any] = agent["account"] if isinstance(agent.get("account"), dict) else {}
    if employee is None or account.get("homePage") != home or account.get("name") != employee.employee_no:
        raise ForgedActor("a learner's session reads and writes only its own documents (agent: your account on this school)", code="xapi-forged-actor")
    return employee.id


def _key(app: FastAPI, lrs: LrsRequest, resource: DocumentResource, principal: Principal) -> tuple[DocumentKey, int | None]:
    params = lrs.params
    activity_id = agent = registration = ""
    employee_id = None
    if resource.activity:
        activity_id = params.get("activityId", "")
        if not activity_id:
            raise BadRequest(f"{lrs.resource} needs activityId", code="xapi-missing-parameter", parameter="activityId")
        if not is_iri(activity_id):
            raise BadRequest(f"activityId is an IRI, not {activity_id!r}", code="xapi-bad-parameter", parameter="activityId")
    if resource.agent:
        if "agent" not in params:
            raise BadRequest(f"{lrs.resource} needs agent", code="xapi-missing-parameter", parameter="agent")
        value = agent_param(params["agent"])
        key = agent_key(value)
        if key is None:
            raise BadRequest("agent must be an Agent or an identified Group", code="xapi-bad-parameter", parameter="agent")
        agent = key
        employee_id = _own_agent(app, principal, value)
    if resource.registration and "registration" in params:
        try:
            registration = str(uuid.UUID(params["registration"]))
        except ValueError:
            raise BadRequest(f"registration is a UUID, not {params['registration']!r}", code="xapi-bad-parameter", parameter="registration") from None
    return DocumentKey(resource.kind, activity_id, agent, registration), employee_id


def _etag(tag: str) -> str:
    return f'"{tag}"'


def _handlers(resource: DocumentResource) -> dict[str, Callable[[FastAPI, LrsRequest, datetime], Response]]:
    def get(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
        principal = _check(lrs, resource, resource.read_need)
        key, _ = _key(app, lrs, resource, principal)
        doc_id = lrs.params.get(resource.id_param)
        with read_only(app.state.sessionmaker)() as db:
            if doc_id is None:
                return json_response(documents.ids(db, key, since=timestamp_param(lrs.params, "since")))
            if "since" in lrs.params:
                raise BadRequest(f"since lists ids; it does not go with {resource.id_param}", code="xapi-bad-parameter", parameter="since")
            stored = documents.read(db, key, doc_id)
        return Response(stored.content, media_type=stored.content_type,
                        headers={"ETag": _etag(stored.etag), "Last-Modified": format_datetime(stored.updated, usegmt=True)})

    def write(merge: bool) -> Callable[[FastAPI, LrsRequest, datetime], Response]:
        def handler(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
            principal = _check(lrs, resource, resource.write_need)
            key, employee_id = _key(app, lrs, resource, principal)
            doc_id = lrs.params.get(resource.id_param)
            if not doc_id:
                raise BadRequest(f"{lrs.method} {lrs.resource} needs {resource.id_param}", code="xapi-missing-parameter", parameter=resource.id_param)
            if "since" in lrs.params:
                raise BadRequest("since belongs to GET", code="xapi-bad-parameter", parameter="since")
            with unit_of_work(app.state.sessionmaker) as db:
                tag = documents.write(db, key, doc_id, content=lrs.body, content_type=lrs.content_type, headers=lrs.headers,
                                      merge=merge, now=now, employee_id=employee_id,
                                      require_precondition=resource.require_precondition)
            return Response(status_code=204, headers={"ETag": _etag(tag)})

        return handler

    def delete(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
        principal = _check(lrs, resource, resource.write_need)
        key, _ = _key(app, lrs, resource, principal)
        doc_id = lrs.params.get(resource.id_param)
        if doc_id is None and resource.kind != "state":
            raise BadRequest(f"DELETE {lrs.resource} needs {resource.id_param}", code="xapi-missing-parameter", parameter=resource.id_param)
        with unit_of_work(app.state.sessionmaker) as db:
            documents.remove(db, key, doc_id, headers=lrs.headers)
        return Response(status_code=204)

    return {"GET": get, "PUT": write(False), "POST": write(True), "DELETE": delete}


STATE = _handlers(DocumentResource("state", "stateId", True, True, True, "state/read", "state/write", False))
ACTIVITY_PROFILE = _handlers(DocumentResource("activity_profile", "profileId", True, False, False, "profile/read", "profile/write", True))
AGENT_PROFILE = _handlers(DocumentResource("agent_profile", "profileId", False, True, False, "profile/read", "profile/write", True))


def _define(lrs: LrsRequest, allowed: set[str]) -> None:
    principal = lrs.principal
    assert principal is not None
    if not xapi_allows(principal.permissions, "define/read"):
        raise Forbidden(f"these credentials may not read {lrs.resource}", code="xapi-scope")
    unknown = sorted(set(lrs.params) - allowed)
    if unknown:
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)} for {lrs.resource}", code="xapi-unknown-parameter")


def get_activity(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    """The LRS's canonical definition of an activity (the definitions its statements carried, merged)."""
    _define(lrs, {"activityId"})
    activity_id = lrs.params.get("activityId")
    if not activity_id:
        raise BadRequest("GET activities needs activityId", code="xapi-missing-parameter", parameter="activityId")
    if not is_iri(activity_id):
        raise BadRequest(f"activityId is an IRI, not {activity_id!r}", code="xapi-bad-parameter", parameter="activityId")
    with read_only(app.state.sessionmaker)() as db:
        definition = db.scalar(select(XapiActivity.definition).where(XapiActivity.activity_id == activity_id))
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition is not None:
        activity["definition"] = orjson.loads(definition)
    return json_response(activity)


def get_agent(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    """The Person the agent parameter names (Communication 2.4): each identifier as a one-element list."""
    _define(lrs, {"agent"})
    if "agent" not in lrs.params:
        raise BadRequest("GET agents needs agent", code="xapi-missing-parameter", parameter="agent")
    agent = agent_param(lrs.params["agent"])
    if agent.get("objectType") == "Group":
        raise BadRequest("GET agents takes an Agent, not a Group", code="xapi-bad-parameter", parameter="agent")
    person: dict[str, Any] = {"objectType": "Person"}
    for name in ("name", "mbox", "mbox_sha1sum", "openid", "account"):
        if name in agent:
            person[name] = [agent[name]]
    return json_response(person)


def get_about(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    if lrs.params:
        raise BadRequest(f"about takes no parameters, not {', '.join(sorted(lrs.params))}", code="xapi-unknown-parameter")
    return json_response({"version": SUPPORTED_VERSIONS, "extensions": {}})
