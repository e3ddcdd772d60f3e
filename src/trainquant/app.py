"""The FastAPI application: settings, engine and clock are built in the lifespan, never at import."""

from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from trainquant import __version__
from trainquant.checkpoint import Checkpointer
from trainquant.clock import Clock, SystemClock
from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, sqlite_file
from trainquant.errors import Conflict, DomainError, Invalid, Unauthorized
from trainquant.i18n import current_locale, pick_locale
from trainquant.jobs.tasks import Jobs
from trainquant.openapi import install_openapi
from trainquant.web.api_docs import install_api_docs
from trainquant.web.security_headers import SecurityHeaders

log = logging.getLogger("trainquant")
STATIC_DIR = Path(__file__).parent / "web" / "static"
PROBLEM = "application/problem+json"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/iclock/", "/xapi/")) or "application/json" in request.headers.get("accept", "")


def _problem(request: Request, err: DomainError) -> Response:
    if _wants_json(request):
        response = JSONResponse(err.problem(instance=request.url.path), status_code=err.status, media_type=PROBLEM)
        retry_after = getattr(err, "retry_after_s", None)  # e.g. the login limits (auth/throttle.py)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response
    if isinstance(err, Unauthorized):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    from trainquant.web.templating import render

    return render(request, "error.html", {"error": err}, status_code=err.status)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        out.append({"location": loc[0] if loc else None, "field": ".".join(loc[1:]) or None, "code": e.get("type"), "message": e.get("msg")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _problem(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        where = ", ".join(f"{e['field'] or e['location']}: {e['message']}" for e in errors[:5])
        return _problem(request, Invalid(f"the request is not valid ({where})", errors=errors))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # A race past the service's own checks (two requests creating the same code): a conflict, not a 500.
        log.warning("integrity error on %s: %s", request.url.path, exc.orig)
        return _problem(request, Conflict("the change conflicts with data stored meanwhile; reload and try again"))

    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, exc: DataError) -> Response:
        # The database refused a value the request carried past validation (a NUL character in a path or
        # a query string, which PostgreSQL text cannot hold; a number out of its column's range): the
        # client's input, so a 422, never a 500. Bodies refuse such values themselves (StrictInput).
        log.warning("value refused by the database on %s: %s", request.url.path, exc.orig)
        return _problem(request, Invalid("the request holds a value the database cannot store (such as a NUL character)", code="unstorable-value"))

    @app.exception_handler(OperationalError)
    async def busy_error(request: Request, exc: OperationalError) -> Response:
        # SQLite's single writer was busy for longer than the busy timeout: ask for a retry, never a 500.
        if "locked" not in str(exc.orig).lower() and "busy" not in str(exc.orig).lower():
            raise exc
        log.warning("database busy on %s: %s", request.url.path, exc.orig)
        err = DomainError("the database is busy; retry in a few seconds")
        err.status, err.title, err.type_slug, err.code = 503, "Service busy", "busy", "busy"
        response = _problem(request, err)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        err = DomainError(str(exc.detail))
        err.status, err.title, err.type_slug = exc.status_code, str(exc.detail), f"http-{exc.status_code}"
        err.code = err.type_slug
        return _problem(request, err)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, engine=None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own_engine = engine is None
        checkpointer = None
        if own_engine:
            database_file = sqlite_file(settings.database_url)
            app.state.engine = make_engine(settings, background_checkpoint=database_file is not None)
            app.state.sessionmaker = make_sessionmaker(app.state.engine)
            if database_file is not None:  # WAL checkpoints off the request path (checkpoint.py)
                checkpointer = Checkpointer(database_file).start()
        if own_engine:
            # A page waiting on a thread that judges a check-in batch (or drains) gets the GIL back after
            # every query only when the other thread lets go: every switch interval (5 ms by default).
            sys.setswitchinterval(settings.switch_interval_ms / 1000)
        consumer = None
        if own_engine and settings.jobs_embedded:
            from trainquant.jobs.consumer import EmbeddedConsumer

            # `serve` runs the consumer in a process of its own and builds its apps with jobs_embedded off;
            # this is for the app served some other way (and the browser tests). One per machine (jobs/consumer.py).
            consumer = EmbeddedConsumer(app.state.jobs, settings.instance_folder() / "jobs.consumer.lock", workers=settings.jobs_workers)
            consumer.start()
        yield
        if consumer is not None:
            consumer.stop()
        if checkpointer is not None:
            checkpointer.stop()
        if own_engine:
            app.state.engine.dispose()

    app = FastAPI(
        title="TrainQuant",
        version=__version__,
        description="Training quantification for language-training schools.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served from local files by web/api_docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    # Background jobs (trainquant/jobs): figures after answered event batches, the nightly backup.
    # Tests hand in an engine: their tasks run at once, in the caller's thread.
    app.state.jobs = Jobs(settings, lambda: app.state.sessionmaker, app.state.clock.now, immediate=engine is not None)
    if engine is not None:
        # Tests hand in their own engine; routes may run before the lifespan in that case.
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)

    @app.middleware("http")
    async def locale_middleware(request: Request, call_next):
        locale = pick_locale(
            request.query_params.get("lang"),
            request.cookies.get("tq_lang"),
            request.headers.get("accept-language"),
            settings.default_locale,
        )
        token = current_locale.set(locale)
        request.state.locale = locale
        try:
            response = await call_next(request)
        finally:
            current_locale.reset(token)
        if request.query_params.get("lang") == locale:
            response.set_cookie("tq_lang", locale, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="tq_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    install_error_handlers(app)
    install_api_docs(app)

    from trainquant.alerts.api import router as alerts_api
    from trainquant.alerts.pages import router as alerts_pages
    from trainquant.analytics.api import router as reports_api
    from trainquant.analytics.pages import router as reports_pages
    from trainquant.attendance.api import router as attendance_api
    from trainquant.attendance.checkin.api import router as checkin_api
    from trainquant.attendance.checkin.pages import router as checkin_pages
    from trainquant.attendance.devices.api import router as devices_api
    from trainquant.attendance.devices.pages import router as devices_pages
    from trainquant.attendance.devices.push import router as zkteco_push
    from trainquant.attendance.pages import router as attendance_pages
    from trainquant.attendance.platforms.api import router as attendance_imports_api
    from trainquant.attendance.proxy.api import router as review_api
    from trainquant.attendance.proxy.pages import router as review_pages
    from trainquant.auth.api import router as auth_api
    from trainquant.imports.api import router as imports_api
    from trainquant.imports.pages import router as import_pages
    from trainquant.indicators.api import router as indicators_api
    from trainquant.indicators.pages import router as indicators_pages
    from trainquant.integrations.connectors.api import router as connectors_api
    from trainquant.integrations.connectors.pages import router as connectors_pages
    from trainquant.integrations.metrics.api import router as metrics_api
    from trainquant.integrations.metrics.pages import router as metrics_pages
    from trainquant.integrations.outbox.api import router as outbox_api
    from trainquant.integrations.pull.api import router as pull_api
    from trainquant.learning.lrs.api import router as lrs_api
    from trainquant.learning.pages import router as learning_pages
    from trainquant.org.api import router as org_api
    from trainquant.org.pages import router as org_pages
    from trainquant.org.sites_pages import router as sites_pages
    from trainquant.training.assessments.api import router as assessments_api
    from trainquant.training.assessments.pages import router as assessments_pages
    from trainquant.training.enrolment.api import router as enrolment_api
    from trainquant.training.enrolment.pages import router as enrolment_pages
    from trainquant.training.programs.api import router as programs_api
    from trainquant.training.programs.pages import router as programs_pages
    from trainquant.training.scheduling.api import router as scheduling_api
    from trainquant.training.scheduling.pages import router as slots_pages
    from trainquant.training.sessions.api import router as sessions_api
    from trainquant.training.sessions.pages import router as sessions_pages
    from trainquant.web.pages import router as pages

    routers = (
        auth_api,
        org_api,
        imports_api,
        pages,
        org_pages,
        import_pages,
        indicators_api,
        indicators_pages,
        programs_api,
        sessions_api,
        enrolment_api,
        assessments_api,
        programs_pages,
        sessions_pages,
        enrolment_pages,
        assessments_pages,
        attendance_api,
        checkin_api,
        attendance_pages,
        checkin_pages,
        attendance_imports_api,
        zkteco_push,
        reports_api,
        reports_pages,
        review_api,
        scheduling_api,
        alerts_api,
        review_pages,
        slots_pages,
        alerts_pages,
        devices_api,
        devices_pages,
        sites_pages,
        metrics_api,
        metrics_pages,
        connectors_api,
        connectors_pages,
        pull_api,
        outbox_api,
        lrs_api,
        learning_pages,
    )
    for router in routers:
        app.include_router(router)
    install_openapi(app)
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    return app
