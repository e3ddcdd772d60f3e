"""``trainquant alerts check --from D --to D``: raise participation alerts for a period (e.g. nightly)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError

alerts_app = typer.Typer(help="Participation alerts for HR.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-09-01") from None


@alerts_app.command("check")
def check(
    date_from: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD, local)")],
    date_to: Annotated[str, typer.Option("--to", help="last day (YYYY-MM-DD, local)")],
    now: Annotated[str | None, typer.Option(help="pretend it is this moment (ISO, with offset); for the demo")] = None,
) -> None:
    """Check every session that ended in the period, then each department's average; running it again adds nothing."""
    from trainquant.alerts.service import check_period
    from trainquant.db import unit_of_work

    common.migrate()
    settings = common.settings()
    moment = datetime.fromisoformat(now) if now else SystemClock().now()
    try:
        with unit_of_work(common.sessions()) as db:
            got = check_period(db, _day(date_from), _day(date_to), moment, default_tz=settings.default_timezone)
    except DomainError as exc:
        raise common.fail(exc) from None
    console.print(f"checked {got['sessions']} sessions: {got['low_participation']} new low-participation alerts, "
                  f"{got['department_pattern']} new department-pattern alerts")
