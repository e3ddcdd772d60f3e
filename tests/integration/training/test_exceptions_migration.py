"""Migration 0023: enrolments and their history get the overrides column as the models declare it;
rows stored before it read as overriding nothing; the downgrade takes the column away again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.migrate import alembic_config, upgrade
from trainquant.models import metadata


def test_the_migration_matches_the_enrolment_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    mine = [change for change in diff if "'enrolments'" in repr(change) or "'enrolment_events'" in repr(change)]
    assert mine == [], mine


def test_the_downgrade_takes_the_column_away_and_the_upgrade_gives_it_back(tmp_path):
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0022")
    assert "exceptions" not in {c["name"] for c in inspect(engine).get_columns("enrolments")}
    upgrade(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("enrolment_events")}
    assert "exceptions" in columns and not columns["exceptions"]["nullable"]
    engine.dispose()
