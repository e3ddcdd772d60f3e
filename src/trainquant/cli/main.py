"""``trainquant``: set up, serve, import and administer from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trainquant.cli import common
from trainquant.cli.common import console
from trainquant.clock import SystemClock
from trainquant.db import unit_of_work
from trainquant.errors import DomainError

app = typer.Typer(help="TrainQuant: training quantification for language schools.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users who log in to the pages.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    common.migrate()
    from trainquant.migrate import current

    console.print(f"database at revision [bold]{current(common.engine())}[/bold] ({common.settings().database_url})")


@app.command()
def init() -> None:
    """Create or upgrade the database schema."""
    db_upgrade()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (TQ_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (TQ_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="server processes (TQ_WORKERS)")] = None,
) -> None:
    """Serve the pages and the API."""
    common.serve(common.settings(), host=host, port=port, workers=workers)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin | hr | manager | employee")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    employee_no: Annotated[str | None, typer.Option(help="link to an employee (required for role employee)")] = None,
    department: Annotated[str | None, typer.Option(help="department code (required for role manager)")] = None,
) -> None:
    """Create a user who logs in with a password."""
    from trainquant.auth.service import create_user

    common.migrate()
    try:
        with unit_of_work(common.sessions()) as db:
            user = create_user(db, username=username, password=password, role=role, employee_no=employee_no, department_code=department, now=SystemClock().now())
            console.print(f"created user [bold]{user.username}[/bold] ({user.role})")
    except DomainError as exc:
        raise common.fail(exc) from None


@user_app.command("signout")
def user_signout(username: str) -> None:
    """Sign a user out everywhere: every session cookie issued so far stops working."""
    from sqlalchemy import select

    from trainquant.auth.models import User
    from trainquant.auth.service import end_sessions

    common.migrate()
    with unit_of_work(common.sessions()) as db:
        user_id = db.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            common.err_console.print(f"[red]Not found:[/red] no user {username!r}")
            raise typer.Exit(1)
        end_sessions(db, user_id)
    console.print(f"signed [bold]{username}[/bold] out of every session")


@apikey_app.command("create")
def apikey_create(
    name: str,
    scopes: Annotated[str, typer.Option(help="space- or comma-separated, e.g. 'org:read import:write'")],
) -> None:
    """Create an API key; it is printed once and stored only as a digest."""
    from trainquant.auth.service import create_api_key

    common.migrate()
    try:
        with unit_of_work(common.sessions()) as db:
            row, key = create_api_key(db, name=name, scopes=scopes.replace(",", " ").split(), created_by="cli", now=SystemClock().now())
    except DomainError as exc:
        raise common.fail(exc) from None
    console.print(f"API key [bold]{row.name}[/bold] (scopes: {row.scopes}); store it now, it is not shown again:")
    print(key)


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (never the keys themselves)."""
    from sqlalchemy import select

    from trainquant.auth.models import ApiKey

    common.migrate()
    with unit_of_work(common.sessions()) as db:
        table = Table("id", "name", "prefix", "scopes", "created", "last used", "revoked")
        for k in db.scalars(select(ApiKey).order_by(ApiKey.id)):
            table.add_row(str(k.id), k.name, k.prefix, k.scopes, f"{k.created_at:%Y-%m-%d}", f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "", "yes" if k.revoked_at else "")
    console.print(table)


def _register_optional() -> None:
    # The import and demo commands live beside their domains' CLI modules.
    from trainquant.cli import alerts, attendance, connectors, demo, imports, indicators, jobs, training

    imports.register(app)
    demo.register(app)
    indicators.register(app)
    training.register(app)
    alerts.register(app)
    attendance.register(app)
    jobs.register(app)
    connectors.register(app)


_register_optional()

if __name__ == "__main__":
    app()
