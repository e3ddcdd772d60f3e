"""The LRS under /xapi (xAPI 1.0.3): one route reads every request the same way (the Alternate Request
Syntax undone, the version header checked, the caller known) and hands it to its resource.

Resources live in ``resources`` (statements) and ``document_resources`` (State, Activity Profile,
Agent Profile, Activities, Agents, About); each is a plain function run in the threadpool, taking the
request as ``LrsRequest`` and returning a Response. Every answer carries X-Experience-API-Version.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from trainquant import bulk
from trainquant.deps import read_body_limited
from trainquant.errors import DomainError, Unauthorized
from trainquant.learning.lrs import document_resources, resources
from trainquant.learning.lrs.http import (
    MAX_BODY,
    VERSION,
    VERSION_HEADER,
    MethodNotAllowed,
    NoResource,
    StatementConflict,
    authenticate,
    check_version,
    read_request,
)
from trainquant.learning.lrs.resources import CONSISTENT_THROUGH
from trainquant.learning.lrs.statements import stored_text

router = APIRouter(prefix="/xapi", include_in_schema=False)
PROBLEM = "application/problem+json"

Handler = Callable[..., Response]
ROUTES: dict[str, dict[str, Handler]] = {
    "statements": {"GET": resources.get_statements, "PUT": resources.put_statement, "POST": resources.post_statements},
    "activities/state": document_resources.STATE,
    "activities/profile": document_resources.ACTIVITY_PROFILE,
    "agents/profile": document_resources.AGENT_PROFILE,
    "activities": {"GET": document_resources.get_activity},
    "agents": {"GET": document_resources.get_agent},
    "about": {"GET": document_resources.get_about},
}
# Writes of many statements give way to people waiting for pages (trainquant.bulk).
BULK = {resources.post_statements}


def _problem(request: Request, err: DomainError) -> Response:
    response = JSONResponse(err.problem(instance=request.url.path), status_code=err.status, media_type=PROBLEM)
    if isinstance(err, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return response


async def _answer(request: Request, resource: str) -> Response:
    body = await read_body_limited(request, MAX_BODY, what="request", advice=" — split the batch")
    lrs = await read_request(request, resource.strip("/"), body)
    methods = ROUTES.get(lrs.resource)
    if methods is None:
        raise NoResource(f"no xAPI resource {lrs.resource!r}")
    method = "GET" if lrs.method == "HEAD" else lrs.method
    handler = methods.get(method)
    if handler is None:
        raise MethodNotAllowed(f"{lrs.method} is not allowed on {lrs.resource}")
    if lrs.resource != "about":
        check_version(lrs)
        lrs.principal = await authenticate(request, lrs, request.app.state.clock.now())
    lrs.extra["prefix"] = request.url.path[: len(request.url.path) - len(resource)].rstrip("/")
    app = request.app
    now = app.state.clock.now()
    if handler in BULK:
        return await bulk.run(app.state.settings.bulk_nice, handler, app, lrs, now)
    return await run_in_threadpool(handler, app, lrs, now)


@router.api_route("/{resource:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
async def lrs(request: Request, resource: str) -> Response:
    try:
        response = await _answer(request, resource)
    except DomainError as err:
        response = _problem(request, err)
    except IntegrityError:
        # Two requests storing one statement id at the same moment: the loser is told to look again.
        response = _problem(request, StatementConflict("the statement id was stored meanwhile by another request; retry to compare", code="xapi-id-race"))
    response.headers[VERSION_HEADER] = VERSION
    if resource.strip("/") == "statements" and "x-experience-api-consistent-through" not in response.headers:
        # Communication 2.1.3: on every answer of the statement resource, errors included.
        response.headers[CONSISTENT_THROUGH] = stored_text(request.app.state.clock.now())
    if request.method == "HEAD":
        # Communication 1.1: HEAD answers as GET would, without the body (its length kept).
        headers = dict(response.headers)
        response = Response(status_code=response.status_code, headers=headers)
    return response
