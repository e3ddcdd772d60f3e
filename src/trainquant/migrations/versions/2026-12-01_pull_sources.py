"""scheduled pulls from the systems' REST APIs (pull_sources: config, encrypted credentials, cursor, lease) and their run log (sync_runs: position to resume from, counts, errors)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 23:59:02.538572
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pull_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('credentials_encrypted', sa.Text(), nullable=False),
    sa.Column('schedule_minutes', sa.Integer(), nullable=True),
    sa.Column('cursor', sa.String(length=64), nullable=True),
    sa.Column('lease_until', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('schedule_minutes IS NULL OR schedule_minutes >= 5', name=op.f('ck_pull_sources_schedule')),
    sa.ForeignKeyConstraint(['connector_id'], ['connectors.id'], name=op.f('fk_pull_sources_connector_id_connectors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pull_sources')),
    sa.UniqueConstraint('connector_id', name=op.f('uq_pull_sources_connector_id'))
    )
    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('since', sa.String(length=64), nullable=True),
    sa.Column('position', sa.JSON(), nullable=True),
    sa.Column('cursor_max', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('unmapped', sa.Integer(), nullable=False),
    sa.Column('duplicate', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_sync_runs_status')),
    sa.ForeignKeyConstraint(['source_id'], ['pull_sources.id'], name=op.f('fk_sync_runs_source_id_pull_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_source_id'), ['source_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_source_id'))

    op.drop_table('sync_runs')
    op.drop_table('pull_sources')
