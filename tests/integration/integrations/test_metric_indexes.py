"""Migration 0020: the metric records' indexes as the models declare them, the external-id index of
unmapped records only (and read through), and a downgrade that gives the old index back."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.migrate import alembic_config, upgrade
from trainquant.models import metadata


def test_the_migration_matches_the_metric_record_model(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    mine = [change for change in diff if "metric_records" in repr(change)]
    assert mine == [], mine


def test_only_unmapped_records_are_in_the_external_id_index(engine):
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("metric_records")}
    assert indexes["ix_metric_records_unmapped_external"]["column_names"] == ["external_system", "external_id"]
    assert "ix_metric_records_external" not in indexes
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_metric_records_unmapped_external'")).scalar_one()
            # The effect's read of records whose id was mapped since: through that index, not the metric's.
            plan = " ".join(str(r[-1]) for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT DISTINCT m.external_system, m.external_id FROM metric_records m JOIN external_ids e"
                " ON e.system = m.external_system AND e.external_id = m.external_id WHERE m.status = 'unmapped'")))
        assert "WHERE status = 'unmapped'" in sql
        assert "ix_metric_records_unmapped_external" in plan, plan


def test_the_downgrade_gives_the_old_indexes_back(tmp_path):
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0019")
    names = {i["name"] for i in inspect(engine).get_indexes("metric_records")}
    assert "ix_metric_records_external" in names and "ix_metric_records_unmapped_external" not in names
    upgrade(engine)
    names = {i["name"] for i in inspect(engine).get_indexes("metric_records")}
    assert "ix_metric_records_unmapped_external" in names and "ix_metric_records_external" not in names
    engine.dispose()
