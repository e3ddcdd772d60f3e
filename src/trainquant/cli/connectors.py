"""``trainquant connectors sync NAME`` and ``runs NAME``: a connector's pull from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError

connectors_app = typer.Typer(help="Connectors to the teaching platform, the CRM and the OA system.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="the connector's name, e.g. crm-main")]


def register(app: typer.Typer) -> None:
    app.add_typer(connectors_app, name="connectors")


@connectors_app.command("sync")
def sync(name: Name) -> None:
    """Run (or resume) the connector's pull now, page by page, with a progress bar."""
    from trainquant.integrations.pull import service

    clock = SystemClock()
    with common.progress() as bar:
        task = bar.add_task(f"{name}: pages", total=None)

        def page(run) -> None:
            bar.update(task, completed=run.pages, description=f"{name}: {run.items:,} items, {run.accepted:,} records")

        try:
            run_id = service.sync(common.sessions(), name, settings=common.settings(), clock=clock.now, on_page=page)
        except DomainError as exc:
            raise common.fail(exc) from None
    _show(name, run_id)


@connectors_app.command("runs")
def runs(name: Name, limit: Annotated[int, typer.Option(min=1, max=200)] = 10) -> None:
    """The connector's latest runs."""
    _show(name, None, limit=limit)


def _show(name: str, run_id: int | None, *, limit: int = 1) -> None:
    from trainquant.db import read_only
    from trainquant.integrations.pull import service
    from trainquant.pagination import PageParams

    with read_only(common.sessions())() as db:
        try:
            items, _ = service.list_runs(db, name, PageParams(page=1, page_size=limit))
        except DomainError as exc:
            raise common.fail(exc) from None
    if run_id is not None:
        items = [r for r in items if r.id == run_id]
    table = Table("run", "status", "pages", "items", "accepted", "unmapped", "repeats", "rejected", "retries", "error")
    for r in items:
        table.add_row(str(r.id), r.status + (" (resumable)" if r.resumable else ""), f"{r.pages:,}", f"{r.items:,}", f"{r.accepted:,}",
                      f"{r.unmapped:,}", f"{r.duplicate:,}", f"{r.rejected:,}", str(r.retries), r.error or "")
    console.print(table)
    if any(r.status == "failed" for r in items if r.id == run_id):
        raise typer.Exit(1)
