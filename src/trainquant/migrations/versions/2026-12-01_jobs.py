"""background jobs on huey: the drain lease goes

The attendance drain no longer takes turns through a lease row (a holder killed with kill -9 kept
it for two minutes, and ``attendance refresh`` refused meanwhile). Drains run as huey jobs, one at
a time through a lock their holder's death lets go of (``flock`` beside a SQLite file, an advisory
lock on PostgreSQL); the pending rows stay the record of what is left to do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('attendance_drain_lease')


def downgrade() -> None:
    lease = op.create_table('attendance_drain_lease',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('until', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_drain_lease'))
    )
    op.bulk_insert(lease, [{'id': 1, 'holder': None, 'until': None}])
