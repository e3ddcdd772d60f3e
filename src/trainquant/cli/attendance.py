"""``trainquant attendance refresh``: work off event batches whose figures are still pending.

The server's jobs do this after every answered batch; the command is for after a crash or a restore
(the pending rows survive both) and as a nightly safety net. It works at once: a drain killed with
its process holds nothing (``pending.drain_mutex``), and one still running is waited for.
"""

from __future__ import annotations

import typer

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock

attendance_app = typer.Typer(help="Attendance figures.", no_args_is_help=True)
WAIT_S = 300.0  # for a running drain to finish


def register(app: typer.Typer) -> None:
    app.add_typer(attendance_app, name="attendance")


@attendance_app.command("refresh")
def refresh() -> None:
    """Recompute figures, proxy cases and alerts for every batch still pending; running it again does nothing."""
    from trainquant.attendance.checkin.pending import drain_all, pending_count
    from trainquant.db import read_only, unit_of_work

    common.migrate()
    settings, factory, clock = common.settings(), common.sessions(), SystemClock()
    with unit_of_work(read_only(factory)) as db:
        total = pending_count(db)
    if not total:
        console.print("nothing pending: every stored batch has its figures")
        return
    with common.progress() as bar:
        task = bar.add_task("recomputing", total=total)
        done = drain_all(factory, now=clock.now, default_tz=settings.default_timezone, wait_s=WAIT_S,
                         on_round=lambda n: bar.update(task, advance=n))
    with unit_of_work(read_only(factory)) as db:
        left = pending_count(db)
    if left:
        console.print(f"{done} pending batch(es) turned into figures; {left} stored meanwhile are left to the server's jobs")
        return
    console.print(f"[green]done[/green]: {done} pending batch(es) turned into figures")
