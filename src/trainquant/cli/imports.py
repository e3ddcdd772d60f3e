"""``trainquant import employees|timetables FILE``: the file import from the command line."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from trainquant.cli import common
from trainquant.cli.common import console, err_console
from trainquant.clock import SystemClock

if TYPE_CHECKING:
    from trainquant.imports.service import ImportKind

SHOWN_ERRORS = 20
PHASES = {"read": "reading", "validate": "validating", "write": "writing"}

import_app = typer.Typer(help="Import employees or timetables from an .xlsx or .csv file.", no_args_is_help=True)

ModeOption = Annotated[
    str,
    typer.Option("--mode", help="all-or-nothing: nothing is written if any row is wrong; valid-only: the valid rows are written"),
]
FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".xlsx, or .csv in UTF-8 or GBK")]


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


@import_app.command("employees")
def import_employees(file: FileArgument, mode: ModeOption = "valid-only") -> None:
    """Create or update employees (工号 is the key; re-importing a file never duplicates anyone)."""
    _run("employees", file, mode)


@import_app.command("timetables")
def import_timetables(file: FileArgument, mode: ModeOption = "valid-only") -> None:
    """Create or update weekly classes (星期) and one-off classes (日期) of teachers."""
    _run("timetables", file, mode)


def _run(kind: ImportKind, file: Path, mode: str) -> None:
    from trainquant.db import unit_of_work
    from trainquant.imports import service

    if not service.is_mode(mode):
        err_console.print(f"[red]--mode must be one of {', '.join(service.MODES)}[/red]")
        raise typer.Exit(2)
    settings = common.settings()
    with file.open("rb") as fh:
        content = fh.read(settings.import_max_bytes + 1)  # one byte past the limit is enough to refuse it
    common.migrate()
    with common.progress(transient=True) as bar:
        task = bar.add_task("reading", total=None)

        def progress(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=PHASES.get(phase, phase), completed=done, total=total)

        with unit_of_work(common.sessions()) as db:
            run = service.run_import(
                db, kind=kind, filename=file.name, content=content, mode=mode,
                actor=f"cli:{_user()}", now=SystemClock().now(), settings=settings, progress=progress,
            )
            errors = service.run_errors(db, run.id, limit=SHOWN_ERRORS)
            total_errors = service.count_errors(db, run.id)
    _print_summary(run, errors, total_errors)
    if run.status == "rejected":
        raise typer.Exit(1)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _print_summary(run, errors, total_errors: int) -> None:
    colour = {"applied": "green", "partial": "yellow", "rejected": "red"}[run.status]
    table = Table(title=f"import #{run.id}: {run.filename} ({run.kind}, {run.mode})", show_header=True)
    for name in ("status", "rows", "created", "updated", "unchanged", "rejected rows"):
        table.add_column(name, justify="left" if name == "status" else "right")
    table.add_row(
        f"[{colour}]{run.status}[/{colour}]", str(run.total_rows), str(run.created_count), str(run.updated_count),
        str(run.unchanged_count), str(run.rejected_count),
    )
    console.print(table)
    if run.repeat_of_id:
        console.print(f"the same file was imported before (import #{run.repeat_of_id}); existing records were updated, none duplicated")
    if run.status == "rejected":
        err_console.print("[red]rejected: nothing was written[/red]")
    if errors:
        listing = Table("row", "column", "code", "message", title=f"first {len(errors)} of {total_errors} errors", title_justify="left")
        for e in errors:
            listing.add_row(str(e.row) if e.row else "file", e.column or "", e.code, e.message)
        err_console.print(listing)
        err_console.print(f"the full error report: GET /api/v1/imports/{run.id}/errors.xlsx")
