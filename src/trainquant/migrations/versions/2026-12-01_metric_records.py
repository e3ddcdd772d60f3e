"""business metric records (``metric_records``): the teaching platform's, the CRM's and the OA's,
append-only, idempotent per sending system and record id

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metric_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('source_record_id', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('metric_key', sa.String(length=64), nullable=True),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.Column('external_system', sa.String(length=40), nullable=True),
    sa.Column('external_id', sa.String(length=80), nullable=True),
    sa.Column('value', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('period_start', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('period_end', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('batch_index', sa.Integer(), nullable=False),
    sa.Column('content_key', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.CheckConstraint("status IN ('accepted', 'unmapped', 'rejected')", name=op.f('ck_metric_records_status')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_metric_records_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_records'))
    )
    with op.batch_alter_table('metric_records', schema=None) as batch_op:
        batch_op.create_index('ix_metric_records_external', ['external_system', 'external_id'], unique=False)
        batch_op.create_index('ix_metric_records_metric_employee_start', ['metric_key', 'employee_id', 'period_start'], unique=False)
        batch_op.create_index('uq_metric_records_rejected_content', ['content_key'], unique=True, sqlite_where=sa.text("status = 'rejected'"), postgresql_where=sa.text("status = 'rejected'"))
        batch_op.create_index('uq_metric_records_source_record', ['source', 'source_record_id'], unique=True, sqlite_where=sa.text("status != 'rejected'"), postgresql_where=sa.text("status != 'rejected'"))



def downgrade() -> None:
    with op.batch_alter_table('metric_records', schema=None) as batch_op:
        batch_op.drop_index('uq_metric_records_source_record', sqlite_where=sa.text("status != 'rejected'"), postgresql_where=sa.text("status != 'rejected'"))
        batch_op.drop_index('uq_metric_records_rejected_content', sqlite_where=sa.text("status = 'rejected'"), postgresql_where=sa.text("status = 'rejected'"))
        batch_op.drop_index('ix_metric_records_metric_employee_start')
        batch_op.drop_index('ix_metric_records_external')

    op.drop_table('metric_records')
