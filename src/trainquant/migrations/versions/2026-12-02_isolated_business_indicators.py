"""the seeded business indicators (student-rating lift, 30-day conversion lift, process time change)
read the isolated effect of training (``business_effect_*``) rather than the naive before/after
change: a new version of each, where HR has not changed it since it was seeded

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 00:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

SEEDED_BY = "system"
NOTE = "读取已隔离的培训效果（剔除季节与同期变化）；isolated effect of training: what would have happened anyway taken out"
SWITCH = {"student_rating_improvement": "business_effect_pct", "conversion_lift_30d": "business_effect_points",
          "process_time_change": "business_effect_pct"}
AT = datetime(2026, 12, 2, tzinfo=UTC)

indicators = sa.table("indicators", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("current_version", sa.Integer))
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
    conn = op.get_bind()
    for code, metric in SWITCH.items():
        row = conn.execute(sa.select(indicators.c.id, indicators.c.current_version).where(indicators.c.code == code)).first()
        if row is None or row.current_version != 1:
            continue  # not seeded here, or HR has made it their own
        v1 = conn.execute(sa.select(versions).where(versions.c.indicator_id == row.id, versions.c.version == 1)).mappings().first()
        if v1 is None or v1["created_by"] != SEEDED_BY:
            continue
        conn.execute(versions.insert().values(**{**{k: v for k, v in v1.items() if k != "id"}, "version": 2, "metric": metric, "note": NOTE,
                                                 "created_at": AT}))
        conn.execute(indicators.update().where(indicators.c.id == row.id).values(current_version=2))


def downgrade() -> None:
    conn = op.get_bind()
    for code, metric in SWITCH.items():
        row = conn.execute(sa.select(indicators.c.id).where(indicators.c.code == code)).first()
        if row is None:
            continue
        mine = sa.select(versions.c.id).where(versions.c.indicator_id == row.id, versions.c.version == 2, versions.c.metric == metric,
                                              versions.c.note == NOTE)
        conn.execute(evaluations.delete().where(evaluations.c.indicator_version_id.in_(mine)))
        conn.execute(versions.delete().where(versions.c.id.in_(mine)))
        conn.execute(indicators.update().where(indicators.c.id == row.id, indicators.c.current_version == 2).values(current_version=1))
