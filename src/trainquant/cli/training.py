"""``trainquant training run-mandatory``: apply the mandatory training rules (e.g. from a nightly cron job)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError

training_app = typer.Typer(help="Training programs, sessions and enrolment.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(training_app, name="training")


@training_app.command("run-mandatory")
def run_mandatory(
    rule: Annotated[str | None, typer.Option(help="run only this rule (its code)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show who would be enrolled; write nothing")] = False,
) -> None:
    """Enrol everyone a mandatory rule names (new teachers -> onboarding ...); running it again changes nothing."""
    from trainquant.db import unit_of_work
    from trainquant.training.enrolment import mandatory
    from trainquant.training.lookups import local_today

    common.migrate()
    settings = common.settings()
    now = SystemClock().now()
    try:
        with unit_of_work(common.sessions()) as db:
            report = mandatory.run(
                db, now=now, today=local_today(now, settings.default_timezone), timezone=settings.default_timezone,
                rule_code=rule, dry_run=dry_run,
            )
    except DomainError as exc:
        raise common.fail(exc) from None
    if report.outcomes:
        table = Table("rule", "employee", "name", "outcome", "session", "due")
        for o in report.outcomes:
            table.add_row(o.rule_code, o.employee_no, o.employee_name, o.outcome, o.session_code or "-", o.due_date.isoformat())
        console.print(table)
    prefix = "dry run: would enrol" if dry_run else "enrolled"
    console.print(
        f"{prefix} {report.enrolled}, waiting list {report.waitlisted}, without an upcoming session {report.unscheduled}, "
        f"every session clashing with another of theirs {report.busy}; {report.already} already enrolled, done or exempted"
    )
