"""Alembic environment: the engine comes from TrainQuant's own factory (SQLite pragmas included)."""

from __future__ import annotations

from alembic import context

from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.models import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(Settings(), url=url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _not_the_job_queue(name, type_, _parent_names) -> bool:
    # huey keeps its queue in tables of its own (huey_*) when the database is PostgreSQL: not ours to migrate.
    return not (type_ == "table" and name and name.startswith("huey_"))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=_not_the_job_queue,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
