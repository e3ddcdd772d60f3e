"""``trainquant indicators evaluate``: evaluate the indicators at a period end, with a progress bar."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError

KINDS = ("teaching", "marketing", "admin", "other")


def _period_end(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD, e.g. 2026-09-30") from None


def evaluate(
    period_end: Annotated[str, typer.Option("--period-end", help="the last day of the period, YYYY-MM-DD")],
    kind: Annotated[str | None, typer.Option(help="only this department kind: teaching | marketing | admin | other")] = None,
) -> None:
    """Evaluate every indicator in effect at the period end and store the run (earlier runs stay as they are)."""
    from trainquant.db import unit_of_work
    from trainquant.indicators.evaluation import run_evaluation

    end = _period_end(period_end)
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"choose one of {', '.join(KINDS)}", param_hint="--kind")
    common.migrate()
    try:
        with unit_of_work(common.sessions()) as db, common.progress(width=22) as progress:
            task = progress.add_task("evaluating employees", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = run_evaluation(
                db, period_end=end, kind=kind, actor="cli", now=SystemClock().now(),
                tz=ZoneInfo(common.settings().default_timezone), on_progress=advance,
                school_terms=common.settings().school_terms,
            )
            progress.update(task, description="storing results")
    except DomainError as exc:
        raise common.fail(exc) from None
    run = summary.run
    console.print(
        f"run [bold]{run.id}[/bold] at {run.period_end}: {run.employees} employees, {summary.evaluations} results "
        f"([green]{summary.met} met[/green], [red]{summary.not_met} not met[/red], {summary.no_data} no data)"
    )


def register(app: typer.Typer) -> None:
    indicators_app = typer.Typer(help="Indicators: evaluate the framework.", no_args_is_help=True)
    indicators_app.command("evaluate")(evaluate)
    app.add_typer(indicators_app, name="indicators")
