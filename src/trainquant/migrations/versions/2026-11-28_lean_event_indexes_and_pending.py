"""lean check-in event indexes; pending refreshes

Ingestion pays for every index of ``checkin_events`` on every event: the batch-id and plain
dedup-key indexes (nothing reads by them) and the device/time one (detection reads by person and
time instead) go; (employee_id, at) serves proxy detection's look-around. ``attendance_pending``
lets figures follow a batch in the background without losing it on a crash.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_events_batch_id')
        batch_op.drop_index('ix_checkin_events_dedup_key')
        batch_op.drop_index('ix_checkin_events_device_at')
        batch_op.create_index('ix_checkin_events_employee_at', ['employee_id', 'at'], unique=False)
    op.create_table('attendance_pending',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_event_id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_pending'))
    )


def downgrade() -> None:
    op.drop_table('attendance_pending')
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_events_employee_at')
        batch_op.create_index('ix_checkin_events_device_at', ['device_id', 'at'], unique=False)
        batch_op.create_index('ix_checkin_events_dedup_key', ['dedup_key'], unique=False)
        batch_op.create_index('ix_checkin_events_batch_id', ['batch_id'], unique=False)
