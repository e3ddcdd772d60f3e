"""indicators say what the source means: windows by meaning, counted programs, attempt rules, one exam each

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 18:00:00.000000

Versions gain what their window means (``window_kind``) and the programs they count; results gain why
they have no data and the days they were taken from. The R1.2 defaults get a second version wherever
HR has not changed them since they were seeded (a version HR made stays theirs). It applies from the
start, like the first: the first read R1.2 wrongly, so every evaluation from now on, of any period,
uses the reading R1.2 means; the runs stored before keep their results and can be read back by id.

- theory study hours: the calendar year, teaching programs only (a marketing course is not theory);
- trial lecture, communication and script scores: the latest attempt in the last 365 days (the best
  attempt let a teacher whose latest lecture scored 81 meet 85);
- (the rating, conversion and process-time changes already compare the 30 days after a person's
  latest training with the 30 before it, isolated, since 0017: they stay as they are);
- the exam gain: IELTS alone, in bands; TOEFL becomes an indicator of its own, in points (a TOEFL
  change mapped onto IELTS bands passed +1 point and failed +13, and the two exams were summed);
- online course hours: the calendar year, administration programs; the error rate: the latest attempt.

Results evaluated before keep what they were: a stored run is never recomputed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

WINDOWS = ("days", "term", "year", "since_training")
SEEDED_BY = "system"
CHANGED_AT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
EFFECTIVE = None  # from the start (see above)
NOTE = "v2: the window, counted programs and attempt rule of what the indicator means"

TEACHING, ADMIN = {"target_kinds": ["teaching"]}, {"target_kinds": ["admin"]}
# code -> (name, English name, metric, params, aggregation, window days, window kind, programs, operator, threshold, unit)
SECOND = {
    "theory_study_hours": ("理论学习时长", "Theory study hours", "study_hours", {}, "sum", 365, "year", TEACHING, ">=", 10.0, "h"),
    "trial_lecture_score": ("试讲评分", "Trial-lecture score", "assessment_score", {"assessment_kind": "trial_lecture"},
                            "last", 365, "days", {}, ">=", 85.0, "score"),
    "exam_score_gain": ("雅思成绩提升", "IELTS score gain", "exam_score_change", {"exam": "ielts"}, "sum", 365, "days", {}, ">=", 0.5, "band"),
    "foreign_teacher_communication": ("外教沟通考核", "Foreign-teacher communication", "assessment_score",
                                      {"assessment_kind": "communication"}, "last", 365, "days", {}, ">=", 90.0, "score"),
    "script_simulation_score": ("话术模拟得分", "Sales-script simulation score", "assessment_score", {"assessment_kind": "script_simulation"},
                                "last", 365, "days", {}, ">=", 90.0, "score"),
    "case_analysis_pass_rate": ("案例分析通过率", "Case-analysis pass rate", "assessment_pass_rate", {"assessment_kind": "case_analysis"},
                                "avg", 365, "days", {}, "=", 100.0, "%"),
    "online_course_hours": ("线上课程学习时长", "Online course hours", "online_hours", {}, "sum", 365, "year", ADMIN, ">=", 8.0, "h"),
    "practical_error_rate": ("实操差错率", "Practical error rate", "error_rate", {"assessment_kind": "error_rate"},
                             "last", 365, "days", {}, "=", 0.0, "%"),
}
# The TOEFL half of the old exam indicator. 5 points is the school's own step on TOEFL's 0-120 scale,
# not a conversion of 0.5 band (HR may change it: a new version).
TOEFL: tuple[str, str, tuple] = ("exam_score_gain_toefl", "language_level", ("托福成绩提升", "TOEFL score gain", "exam_score_change", {"exam": "toefl"},
                                                      "sum", 365, "days", {}, ">=", 5.0, "score"))

modules = sa.table("indicator_modules", sa.column("id", sa.Integer), sa.column("code", sa.String))
indicators = sa.table(
    "indicators", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("module_id", sa.Integer),
    sa.column("current_version", sa.Integer), sa.column("retired_at", trainquant.db.UTCDateTime(timezone=True)),
)
versions = sa.table(
    "indicator_versions",
    sa.column("id", sa.Integer), sa.column("indicator_id", sa.Integer), sa.column("version", sa.Integer),
    sa.column("name", sa.String), sa.column("name_en", sa.String), sa.column("metric", sa.String),
    sa.column("params", sa.JSON), sa.column("aggregation", sa.String), sa.column("window_days", sa.Integer),
    sa.column("window_kind", sa.String), sa.column("programs", sa.JSON),
    sa.column("operator", sa.String), sa.column("threshold", sa.Float), sa.column("unit", sa.String),
    sa.column("weight", sa.Float), sa.column("note", sa.String), sa.column("effective_from", sa.Date),
    sa.column("created_by", sa.String), sa.column("created_at", trainquant.db.UTCDateTime(timezone=True)),
)
evaluations = sa.table("evaluations", sa.column("indicator_version_id", sa.Integer))


def _row(indicator_id: int, number: int, weight: float, definition: tuple) -> dict:
    name, name_en, metric, params, aggregation, days, kind, programs, operator, threshold, unit = definition
    return {
        "indicator_id": indicator_id, "version": number, "name": name, "name_en": name_en, "metric": metric, "params": params,
        "aggregation": aggregation, "window_days": days, "window_kind": kind, "programs": programs, "operator": operator,
        "threshold": threshold, "unit": unit, "weight": weight, "note": NOTE, "effective_from": EFFECTIVE,
        "created_by": SEEDED_BY, "created_at": CHANGED_AT,
    }


def upgrade() -> None:
    op.add_column('indicator_versions', sa.Column('window_kind', sa.String(length=16), server_default='days', nullable=False))
    op.add_column('indicator_versions', sa.Column('programs', sa.JSON(), server_default='{}', nullable=False))
    op.add_column('evaluations', sa.Column('reason', sa.String(length=24), nullable=True))
    op.add_column('evaluations', sa.Column('window_start', sa.Date(), nullable=True))
    op.add_column('evaluations', sa.Column('window_end', sa.Date(), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":  # SQLite adds no constraint to a table in place; the service checks
        op.create_check_constraint(op.f('ck_indicator_versions_window_kind'), 'indicator_versions',
                                   f"window_kind IN ({', '.join(repr(w) for w in WINDOWS)})")

    # Only an indicator still at its seeded first version, not retired: one HR has changed is HR's.
    untouched = dict(conn.execute(
        sa.select(indicators.c.code, indicators.c.id)
        .join(versions, versions.c.indicator_id == indicators.c.id)
        .where(indicators.c.code.in_(SECOND), indicators.c.current_version == 1, indicators.c.retired_at.is_(None),
               versions.c.version == 1, versions.c.created_by == SEEDED_BY)
    ).all())
    weights = dict(conn.execute(sa.select(versions.c.indicator_id, versions.c.weight).where(versions.c.indicator_id.in_(untouched.values()))).all())
    rows = [_row(untouched[code], 2, weights[untouched[code]], SECOND[code]) for code in SECOND if code in untouched]
    if rows:
        op.bulk_insert(versions, rows)
        conn.execute(indicators.update().where(indicators.c.id.in_(untouched.values())).values(current_version=2))
    module_id = conn.scalar(sa.select(modules.c.id).where(modules.c.code == TOEFL[1]))
    exists = conn.scalar(sa.select(indicators.c.id).where(indicators.c.code == TOEFL[0]))
    if module_id is not None and exists is None and "exam_score_gain" in untouched:
        conn.execute(indicators.insert().values(code=TOEFL[0], module_id=module_id, current_version=1))
        new_id = conn.execute(sa.select(indicators.c.id).where(indicators.c.code == TOEFL[0])).scalar_one()
        op.bulk_insert(versions, [_row(new_id, 1, 1.0, TOEFL[2])])


def downgrade() -> None:
    conn = op.get_bind()
    ours = (versions.c.created_by == SEEDED_BY) & (versions.c.note == NOTE)
    toefl = conn.scalar(sa.select(indicators.c.id).where(indicators.c.code == TOEFL[0]))
    mine = sa.select(versions.c.id).where(ours)
    conn.execute(evaluations.delete().where(evaluations.c.indicator_version_id.in_(mine)))
    changed = [i for (i,) in conn.execute(sa.select(versions.c.indicator_id).where(ours, versions.c.version == 2))]
    conn.execute(versions.delete().where(ours))
    if changed:
        conn.execute(indicators.update().where(indicators.c.id.in_(changed)).values(current_version=1))
    if toefl is not None and conn.scalar(sa.select(sa.func.count()).select_from(versions).where(versions.c.indicator_id == toefl)) == 0:
        conn.execute(indicators.delete().where(indicators.c.id == toefl))
    if conn.dialect.name != "sqlite":
        op.drop_constraint(op.f('ck_indicator_versions_window_kind'), 'indicator_versions', type_='check')
    for table, column in (("evaluations", "window_end"), ("evaluations", "window_start"), ("evaluations", "reason"),
                          ("indicator_versions", "programs"), ("indicator_versions", "window_kind")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
