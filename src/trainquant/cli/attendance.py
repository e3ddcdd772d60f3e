"""``trainquant attendance refresh``: work off event batches whose figures are still pending.

The server does this itself after every answered batch; the command is for after a crash or a
restart (the pending rows survive both), and for a nightly safety net.
"""

from __future__ import annotations

import typer

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock

attendance_app = typer.Typer(help="Attendance figures.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(attendance_app, name="attendance")


@attendance_app.command("refresh")
def refresh() -> None:
    """Recompute figures, proxy cases and alerts for every batch still pending; running it again does nothing."""
    import os
    import socket

    from trainquant.attendance.checkin.pending import (
        drain_once,
        pending_count,
        release_lease,
        take_lease,
    )
    from trainquant.db import unit_of_work

    common.migrate()
    settings, factory, clock = common.settings(), common.sessions(), SystemClock()
    with unit_of_work(factory) as db:
        total = pending_count(db)
    if not total:
        console.print("nothing pending: every stored batch has its figures")
        return
    me = f"cli:{socket.gethostname()}:{os.getpid()}"
    if not take_lease(factory, me, now=clock.now()):
        console.print(f"{total} batch(es) pending; a running server is working them off right now (try again in a few minutes if they stay)")
        return
    done = 0
    try:
        with common.progress() as bar:
            task = bar.add_task("recomputing", total=total)
            while n := drain_once(factory, now=clock.now(), default_tz=settings.default_timezone):
                done += n
                bar.update(task, completed=done)
                take_lease(factory, me, now=clock.now())
    finally:
        release_lease(factory, me)
    console.print(f"[green]done[/green]: {done} pending batch(es) turned into figures")
