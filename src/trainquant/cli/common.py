"""What every command needs: settings, a migrated engine, a console that prints clearly."""

from __future__ import annotations

import os
from functools import cache

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import Engine

from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker
from trainquant.errors import DomainError

console = Console()
err_console = Console(stderr=True)


@cache
def settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        err_console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


@cache
def engine() -> Engine:
    return make_engine(settings())


def sessions():
    return make_sessionmaker(engine())


def progress(*, width: int | None = None, transient: bool = False) -> Progress:
    """The progress bar every long command shows; ``width`` pads the description so the bars line up."""
    description = "{task.description}" if width is None else f"{{task.description:<{width}}}"
    return Progress(
        SpinnerColumn(), TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=transient
    )


def serve(s: Settings, *, host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    """Serve the app with uvicorn; several workers are separate processes, each building the app from the environment."""
    import uvicorn

    from trainquant.jobs.consumer import start_beside_server, stop_beside_server

    host, port, workers = host or s.host, port or s.port, workers or s.workers
    # The embedded consumer runs in a process of its own beside the server processes (jobs/consumer.py);
    # they, built from the environment when there are several, run none themselves.
    consumer = start_beside_server(s) if s.jobs_embedded else None
    os.environ["TQ_JOBS_EMBEDDED"] = "false"
    try:
        if workers == 1:
            from trainquant.app import create_app

            uvicorn.run(create_app(s.model_copy(update={"jobs_embedded": False})), host=host, port=port, proxy_headers=True)
        else:
            uvicorn.run("trainquant.app:create_app", factory=True, host=host, port=port, workers=workers, proxy_headers=True,
                        timeout_worker_healthcheck=s.worker_healthcheck_s)
    finally:
        if consumer is not None:
            stop_beside_server(consumer)


def migrate() -> None:
    from trainquant.migrate import upgrade

    upgrade(engine())


def fail(exc: DomainError) -> typer.Exit:
    err_console.print(f"[red]{exc.title}:[/red] {exc.message}")
    for e in exc.errors[:20]:
        err_console.print(f"  - {e}")
    return typer.Exit(1)
