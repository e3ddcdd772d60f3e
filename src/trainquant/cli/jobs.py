"""``trainquant worker`` (the job consumer for production), ``trainquant backup`` and ``trainquant restore``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.errors import DomainError


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("backup")(backup)
    app.command("restore")(restore)


def make_jobs():
    from trainquant.jobs.tasks import Jobs

    return Jobs(common.settings(), common.sessions, SystemClock().now)


def worker(
    workers: Annotated[int | None, typer.Option(min=1, max=32, help="worker threads (TQ_JOBS_WORKERS)")] = None,
    periodic: Annotated[bool, typer.Option(help="also run the periodic jobs (the sweep, the nightly backup); keep it on one worker process")] = True,
    beside: Annotated[int | None, typer.Option(hidden=True, help="run as the consumer `serve` starts beside itself (that server's pid)")] = None,
) -> None:
    """Run background jobs: figures after check-in batches, the sweep, the nightly backup.

    For deployments that set TQ_JOBS_EMBEDDED=false (several servers, PostgreSQL or Redis for the
    queue); by default `serve` runs a consumer of its own. Ctrl-C stops after the running jobs.
    """
    from trainquant.jobs.consumer import JobConsumer, close_storage, run_beside
    from trainquant.jobs.queue import jobs_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    s = common.settings()
    jobs = make_jobs()
    n = workers or s.jobs_workers
    if beside is not None:
        run_beside(jobs, s.instance_folder() / "jobs.consumer.lock", workers=n, server_pid=beside, nice=s.bulk_nice)
        return
    where = jobs_url(s).split("@")[-1]  # never a password
    console.print(f"job worker: {n} thread(s), queue at {where}{'' if periodic else ', periodic jobs off'}")
    try:
        JobConsumer(jobs, workers=n, periodic=periodic).run()
    finally:
        close_storage(jobs)


def backup(
    to: Annotated[Path | None, typer.Option("--to", help="file to write (default: TQ_BACKUP_DIR/trainquant-<date>-<time>.sqlite3 or .pgdump)")] = None,
    keep: Annotated[int | None, typer.Option(help="then delete all but the newest N backups in that folder (default: TQ_BACKUP_KEEP; 0 keeps all)")] = None,
) -> None:
    """Back the database up while it serves (SQLite's online backup API; pg_dump on PostgreSQL)."""
    from trainquant.jobs import backup as backups

    s = common.settings()
    dest = to or s.backups_dir() / backups.backup_name(s, SystemClock().now())
    try:
        with common.progress() as bar:
            task = bar.add_task("backing up" if s.is_sqlite else "backing up (tables)", total=None)
            made = backups.backup(s, dest, progress=lambda done, total: bar.update(task, completed=done, total=total))
    except DomainError as exc:
        raise common.fail(exc) from None
    except RuntimeError as exc:
        common.err_console.print(f"[red]backup failed:[/red] {exc}")
        raise typer.Exit(1) from None
    pruned = backups.prune(made.parent, s.backup_keep if keep is None else keep) if to is None or keep is not None else []
    console.print(f"[green]backup written[/green]: {made} ({made.stat().st_size / 1e6:.1f} MB)"
                  + (f"; {len(pruned)} older backup(s) deleted" if pruned else ""))


def restore(
    source: Annotated[Path, typer.Argument(help="a file written by `trainquant backup`")],
    force: Annotated[bool, typer.Option("--force", help="replace a database that already holds data")] = False,
) -> None:
    """Replace the database with a backup. Stop the server and workers first."""
    from trainquant.attendance.checkin.pending import pending_count
    from trainquant.db import read_only, unit_of_work
    from trainquant.jobs import backup as backups

    s = common.settings()
    try:
        with common.progress() as bar:
            task = bar.add_task("restoring", total=None)
            backups.restore(s, source, force=force, progress=lambda done, total: bar.update(task, completed=done, total=total))
    except DomainError as exc:
        raise common.fail(exc) from None
    except RuntimeError as exc:
        common.err_console.print(f"[red]restore failed:[/red] {exc}")
        raise typer.Exit(1) from None
    common.engine().dispose()  # connections opened before the restore see the old file
    common.migrate()  # a backup from an older release is brought up to this one's schema
    with unit_of_work(read_only(common.sessions())) as db:
        left = pending_count(db)
    console.print(f"[green]restored[/green] from {source}"
                  + (f"; {left} check-in batch(es) were still pending: the server's jobs (or `attendance refresh`) finish them" if left else ""))
