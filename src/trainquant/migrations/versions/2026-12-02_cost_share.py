"""cost items carry the share of a cost that serves several runs (``share``, 0 < share <= 1, 1 by
default: ROI counts amount x share), and the category ``delivery`` (coordination of the delivery)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BEFORE = ('trainer_fee', 'venue', 'materials', 'licence', 'travel', 'design', 'needs_analysis', 'evaluation', 'overhead', 'other')
AFTER = ('trainer_fee', 'delivery', 'venue', 'materials', 'licence', 'travel', 'design', 'needs_analysis', 'evaluation', 'overhead', 'other')


def _in(values: tuple[str, ...]) -> str:
    return f"category IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table('cost_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share', sa.Numeric(precision=5, scale=4), server_default='1', nullable=False))
        batch_op.drop_constraint(op.f('ck_cost_items_category'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cost_items_category'), _in(AFTER))
        batch_op.create_check_constraint(op.f('ck_cost_items_share'), 'share > 0 AND share <= 1')


def downgrade() -> None:
    with op.batch_alter_table('cost_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cost_items_share'), type_='check')
        batch_op.drop_constraint(op.f('ck_cost_items_category'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cost_items_category'), _in(BEFORE))
        batch_op.drop_column('share')
