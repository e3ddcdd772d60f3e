"""connectors to the teaching platform, the CRM and the OA system (secrets encrypted at rest), and
the signed webhook deliveries they sent (``webhook_deliveries``: a replay is answered as a repeat)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:22:15.429378
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('system', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('previous_secret_encrypted', sa.Text(), nullable=True),
    sa.Column('previous_valid_until', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("system IN ('teaching_platform', 'crm', 'oa')", name=op.f('ck_connectors_system')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connectors')),
    sa.UniqueConstraint('name', name=op.f('uq_connectors_name'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=80), nullable=False),
    sa.Column('delivery_id', sa.String(length=120), nullable=True),
    sa.Column('received_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['connectors.id'], name=op.f('fk_webhook_deliveries_connector_id_connectors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('connector_id', 'signature', name=op.f('uq_webhook_deliveries_connector_id_signature'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_connector_id'), ['connector_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_connector_id'))

    op.drop_table('webhook_deliveries')
    op.drop_table('connectors')
