"""proxy cases of the signal "platform-verdict" (a platform's verdict the school's policy sends to
review), and HR's decisions on walk-ins (``walk_in_decisions``)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD = "signal IN ('shared-device', 'relayed-token', 'impossible-travel', 'timetable-contradiction')"
NEW = "signal IN ('shared-device', 'relayed-token', 'impossible-travel', 'timetable-contradiction', 'platform-verdict')"


def upgrade() -> None:
    op.create_table('walk_in_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('event_ids', sa.JSON(), nullable=False),
    sa.Column('accepted_ids', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', trainquant.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('accepted', 'dismissed')", name=op.f('ck_walk_in_decisions_status')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_walk_in_decisions_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_walk_in_decisions_session_id_training_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_in_decisions')),
    sa.UniqueConstraint('session_id', 'employee_id', name=op.f('uq_walk_in_decisions_session_id_employee_id'))
    )
    with op.batch_alter_table('walk_in_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_in_decisions_session_id'), ['session_id'], unique=False)
    with op.batch_alter_table('proxy_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proxy_cases_signal'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proxy_cases_signal'), NEW)


def downgrade() -> None:
    op.drop_table('walk_in_decisions')
    op.execute("DELETE FROM proxy_cases WHERE signal = 'platform-verdict'")
    with op.batch_alter_table('proxy_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proxy_cases_signal'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proxy_cases_signal'), OLD)
