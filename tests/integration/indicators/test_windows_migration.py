"""Migration 0027: versions gain their window's meaning and counted programs, results their reason and
window; the defaults HR has not changed get a second version (one HR changed stays HR's); the
downgrade takes it all away again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.migrate import alembic_config, upgrade
from trainquant.models import metadata


def test_the_migration_matches_the_indicator_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    mine = [change for change in diff if "'indicator_versions'" in repr(change) or "'evaluations'" in repr(change)]
    assert mine == [], mine


def _versions(conn, code: str) -> list[tuple]:
    return list(conn.execute(sa.text(
        "SELECT v.version, v.aggregation, v.window_days, v.created_by FROM indicator_versions v "
        "JOIN indicators i ON i.id = v.indicator_id WHERE i.code = :code ORDER BY v.version"), {"code": code}))


def test_a_default_hr_changed_stays_hrs_and_the_downgrade_takes_the_second_versions_away(tmp_path):
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0026")
    assert "window_kind" not in {c["name"] for c in inspect(engine).get_columns("indicator_versions")}
    with engine.begin() as conn:
        assert _versions(conn, "trial_lecture_score") == [(1, "max", 90, "system")]
        assert conn.scalar(sa.text("SELECT count(*) FROM indicators WHERE code = 'exam_score_gain_toefl'")) == 0
        # HR raised the communication bar before the upgrade: their version 2 is theirs
        ind = conn.scalar(sa.text("SELECT id FROM indicators WHERE code = 'foreign_teacher_communication'"))
        conn.execute(sa.text(
            "INSERT INTO indicator_versions (indicator_id, version, name, name_en, metric, params, aggregation, window_days, operator, "
            "threshold, unit, weight, created_by, created_at) VALUES (:i, 2, '外教沟通考核', 'Foreign-teacher communication', "
            "'assessment_score', '{\"assessment_kind\": \"communication\"}', 'max', 180, '>=', 92, 'score', 1, 'hr', :at)"),
            {"i": ind, "at": datetime(2026, 11, 30, tzinfo=UTC).isoformat()})
        conn.execute(sa.text("UPDATE indicators SET current_version = 2 WHERE id = :i"), {"i": ind})
    upgrade(engine)
    with engine.begin() as conn:
        assert _versions(conn, "trial_lecture_score") == [(1, "max", 90, "system"), (2, "last", 365, "system")]
        assert _versions(conn, "foreign_teacher_communication") == [(1, "max", 90, "system"), (2, "max", 180, "hr")]
        assert conn.scalar(sa.text("SELECT window_kind FROM indicator_versions v JOIN indicators i ON i.id = v.indicator_id "
                                   "WHERE i.code = 'foreign_teacher_communication' AND v.version = 2")) == "days"
        assert conn.scalar(sa.text("SELECT count(*) FROM indicators WHERE code = 'exam_score_gain_toefl'")) == 1
        command.downgrade(alembic_config(connection=conn), "0026")
        assert _versions(conn, "trial_lecture_score") == [(1, "max", 90, "system")]
        assert _versions(conn, "foreign_teacher_communication") == [(1, "max", 90, "system"), (2, "max", 180, "hr")]
        assert conn.scalar(sa.text("SELECT current_version FROM indicators WHERE code = 'trial_lecture_score'")) == 1
        assert conn.scalar(sa.text("SELECT count(*) FROM indicators WHERE code = 'exam_score_gain_toefl'")) == 0
    assert "reason" not in {c["name"] for c in inspect(engine).get_columns("evaluations")}
    engine.dispose()
