"""default indicators

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:05:40.112804

The R1.2 default indicators of MISSION.md, as literal data: a migration must give the same rows
whatever the application code looks like later.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SEEDED_AT = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
SEEDED_BY = "system"
SEED_NOTE = "R1.2 default"

# (code, department kind, name, English name)
MODULES = [
    ("teaching_skill", "teaching", "教学技能提升", "Teaching skill"),
    ("language_level", "teaching", "语言能力进阶", "Language level"),
    ("acquisition_skill", "marketing", "获客技巧掌握", "Customer acquisition skill"),
    ("conversion", "marketing", "业绩转化", "Conversion"),
    ("process_familiarity", "admin", "流程熟悉度", "Process familiarity"),
    ("efficiency", "admin", "效率提升", "Efficiency"),
]

# (code, module, name, English name, metric, params, aggregation, window days, operator, threshold, unit)
INDICATORS = [
    ("theory_study_hours", "teaching_skill", "理论学习时长", "Theory study hours",
     "study_hours", {}, "sum", 90, ">=", 10.0, "h"),
    ("trial_lecture_score", "teaching_skill", "试讲评分", "Trial-lecture score",
     "assessment_score", {"assessment_kind": "trial_lecture"}, "max", 90, ">=", 85.0, "score"),
    ("student_rating_improvement", "teaching_skill", "学员评分提升", "Student-rating improvement",
     "business_change_pct", {"business_metric": "student_rating"}, "change", 90, ">=", 5.0, "%"),
    ("exam_score_gain", "language_level", "雅思/托福成绩提升", "IELTS/TOEFL score gain",
     "exam_score_change", {}, "sum", 365, ">=", 0.5, "band"),
    ("foreign_teacher_communication", "language_level", "外教沟通考核", "Foreign-teacher communication",
     "assessment_score", {"assessment_kind": "communication"}, "max", 90, ">=", 90.0, "score"),
    ("script_simulation_score", "acquisition_skill", "话术模拟得分", "Sales-script simulation score",
     "assessment_score", {"assessment_kind": "script_simulation"}, "max", 90, ">=", 90.0, "score"),
    ("case_analysis_pass_rate", "acquisition_skill", "案例分析通过率", "Case-analysis pass rate",
     "assessment_pass_rate", {"assessment_kind": "case_analysis"}, "avg", 90, "=", 100.0, "%"),
    ("conversion_lift_30d", "conversion", "培训后30天转化率提升", "30-day post-training conversion lift",
     "business_change_points", {"business_metric": "conversion_rate"}, "change", 30, ">=", 8.0, "pp"),
    ("online_course_hours", "process_familiarity", "线上课程学习时长", "Online course hours",
     "online_hours", {}, "sum", 90, ">=", 8.0, "h"),
    ("practical_error_rate", "process_familiarity", "实操差错率", "Practical error rate",
     "error_rate", {"assessment_kind": "error_rate"}, "max", 90, "=", 0.0, "%"),
    ("process_time_change", "efficiency", "流程执行时间变化", "Process execution time change",
     "business_change_pct", {"business_metric": "process_time"}, "change", 90, "<=", -15.0, "%"),
]

modules = sa.table(
    "indicator_modules",
    sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("department_kind", sa.String),
    sa.column("name", sa.String), sa.column("name_en", sa.String), sa.column("weight", sa.Float), sa.column("active", sa.Boolean),
)
indicators = sa.table(
    "indicators",
    sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("module_id", sa.Integer),
    sa.column("current_version", sa.Integer),
)
versions = sa.table(
    "indicator_versions",
    sa.column("id", sa.Integer), sa.column("indicator_id", sa.Integer), sa.column("version", sa.Integer),
    sa.column("name", sa.String), sa.column("name_en", sa.String), sa.column("metric", sa.String),
    sa.column("params", sa.JSON), sa.column("aggregation", sa.String), sa.column("window_days", sa.Integer),
    sa.column("operator", sa.String), sa.column("threshold", sa.Float), sa.column("unit", sa.String),
    sa.column("weight", sa.Float), sa.column("note", sa.String), sa.column("effective_from", sa.Date),
    sa.column("created_by", sa.String), sa.column("created_at", trainquant.db.UTCDateTime(timezone=True)),
)
evaluations = sa.table("evaluations", sa.column("indicator_version_id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table('indicator_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_from', sa.Date(), nullable=True))
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('retire_note', sa.String(length=300), nullable=True))
    with op.batch_alter_table('evaluation_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('population', sa.String(length=80), nullable=True))

    conn = op.get_bind()
    # Ids come from the database (explicit ids would leave PostgreSQL's sequences behind).
    op.bulk_insert(modules, [
        {"code": code, "department_kind": kind, "name": name, "name_en": name_en, "weight": 1.0, "active": True}
        for code, kind, name, name_en in MODULES
    ])
    module_ids = dict(conn.execute(sa.select(modules.c.code, modules.c.id)).all())
    op.bulk_insert(indicators, [
        {"code": row[0], "module_id": module_ids[row[1]], "current_version": 1} for row in INDICATORS
    ])
    indicator_ids = dict(conn.execute(sa.select(indicators.c.code, indicators.c.id)).all())
    op.bulk_insert(versions, [
        {
            "indicator_id": indicator_ids[code], "version": 1, "name": name, "name_en": name_en, "metric": metric,
            "params": params, "aggregation": aggregation, "window_days": window, "operator": operator,
            "threshold": threshold, "unit": unit, "weight": 1.0, "note": SEED_NOTE, "effective_from": None,
            "created_by": SEEDED_BY, "created_at": SEEDED_AT,
        }
        for code, _module, name, name_en, metric, params, aggregation, window, operator, threshold, unit in INDICATORS
    ])


def downgrade() -> None:
    conn = op.get_bind()
    seeded = [row[0] for row in INDICATORS]
    ids = [i for (i,) in conn.execute(sa.select(indicators.c.id).where(indicators.c.code.in_(seeded)))]
    version_ids = sa.select(versions.c.id).where(versions.c.indicator_id.in_(ids))
    conn.execute(evaluations.delete().where(evaluations.c.indicator_version_id.in_(version_ids)))
    conn.execute(versions.delete().where(versions.c.indicator_id.in_(ids)))
    conn.execute(indicators.delete().where(indicators.c.id.in_(ids)))
    # A seeded module HR has since put indicators of its own into stays.
    unused = ~sa.exists().where(indicators.c.module_id == modules.c.id)
    conn.execute(modules.delete().where(modules.c.code.in_([m[0] for m in MODULES]), unused))

    with op.batch_alter_table('evaluation_runs', schema=None) as batch_op:
        batch_op.drop_column('population')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_column('retire_note')
        batch_op.drop_column('retired_by')
    with op.batch_alter_table('indicator_versions', schema=None) as batch_op:
        batch_op.drop_column('effective_from')
