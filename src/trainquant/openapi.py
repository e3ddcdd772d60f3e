"""The OpenAPI document says what each operation really answers, errors included.

Every error of the API is an RFC 9457 problem (``application/problem+json``, rendered by
``app.install_error_handlers``); the document declares it, for the status codes an operation can
answer, derived from what the route is made of:

- 401 and 503 for every operation that asks who is calling (the API key's last use is written in a
  transaction of its own, which may find the database busy), 403 where it also needs a permission;
- 400 for an operation with a body (one that cannot even be decoded), and 422 for every operation
  that takes a parameter or a body (FastAPI's ``HTTPValidationError`` is
  replaced: a validation error is a problem like every other);
- 404 for an operation with a path parameter (the row it names), a body or a filter (the codes they refer to);
- 409 for every operation that writes (a unique code taken, or a race past the service's checks);
- any other code a route declares itself in ``responses=`` (413 for uploads, 429 ...); one it declares
  with a content type of its own keeps it (the ZKTeco protocol answers in text/plain).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request: the body could not be read (not UTF-8, or not the declared content type)",
    401: "Not authenticated: no API key or session, or one that is unknown or revoked",
    403: "Forbidden: the caller lacks the permission, or the row is outside their data scope",
    404: "Not found: the row named in the path, or a code the body refers to",
    409: "Conflict: a code already taken, a state that does not allow the change, or a concurrent change",
    413: "Payload too large",
    422: "Invalid input: the problem's ``errors`` name each field and why",
    429: "Too many requests",
    503: "Busy: retry after the seconds in Retry-After",
}
WRITES = frozenset({"post", "put", "patch", "delete"})
PAGING = frozenset({"page", "page_size"})


class ProblemFieldError(BaseModel):
    """One field's problem; an import's row errors also carry ``row`` and ``column``."""

    model_config = ConfigDict(extra="allow")

    location: str | None = Field(default=None, description="body, query, path, header or file")
    field: str | None = Field(default=None, description="the field's dotted path within its location")
    code: str | None = Field(default=None, description="a stable error code")
    message: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details. Some problems add members of their own (``import_run_id``, ``existing_id`` ...)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str
    code: str = Field(description="a stable error code (such as session-started), for callers to act on instead of the detail's words")
    instance: str | None = Field(default=None, description="the path of the request")
    errors: list[ProblemFieldError] | None = None


def _calls(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for sub in dependant.dependencies:
        call = sub.call
        names.add(getattr(call, "__name__", ""))
        names |= _calls(sub)
    return names


def _codes(route: RouteContext, method: str) -> set[int]:
    calls = _calls(route.dependant)
    codes: set[int] = set()
    if "get_principal" in calls:
        codes |= {401, 503}
    if any(name.startswith("require_") for name in calls):
        codes.add(403)
    has_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    fields = route.dependant.path_params + route.dependant.query_params + route.dependant.header_params
    fields += [p for sub in route.dependant.dependencies for p in sub.path_params + sub.query_params]
    if has_body or fields:
        codes.add(422)
    if has_body:
        codes.add(400)
    # A path names a row; a body or a filter names rows by their codes (a department, a program ...).
    if has_body or any(p.name not in PAGING for p in fields):
        codes.add(404)
    if method in WRITES:
        codes.add(409)
    return codes


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or TITLES.get(status, "Error"),
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == 503:
        response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return response


def document_problems(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    # FastAPI includes routers lazily: the routes with their prefixes are the route contexts.
    contexts = [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    routes = {(c.path_format, method.lower()): c for c in contexts for method in c.methods or ()}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((path, method))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in _codes(route, method) | declared:
                given = responses.get(str(status), {})
                own = route.original_route.responses.get(status, {}) if isinstance(route.original_route, APIRoute) else {}
                if own.get("content") and PROBLEM not in own["content"]:
                    continue  # the route answers this one in a form of its own (the ZKTeco protocol's text)
                description = given.get("description") if status in declared and status != 422 else None
                responses[str(status)] = _problem_response(status, description)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    return schema


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` builds FastAPI's document once, then declares the problems (see the module doc)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                openapi_version=app.openapi_version, tags=app.openapi_tags, servers=app.servers,
            )
            app.openapi_schema = document_problems(app, schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
