"""one drainer at a time across worker processes

With several server workers each ran its own drainer over the same pending batches: they computed
the same figures side by side, and the one that wrote second found its rows partly taken and
computed them again while holding the write lock. ``attendance_drain_lease`` (one row) says who
drains; the others leave their batches to it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease = op.create_table('attendance_drain_lease',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('until', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_drain_lease'))
    )
    op.bulk_insert(lease, [{'id': 1, 'holder': None, 'until': None}])


def downgrade() -> None:
    op.drop_table('attendance_drain_lease')
