"""programs name the business metrics they set out to move (``aims``, metric keys; empty by default)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aims', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops a column in place; recreating programs, which sessions
    # reference, would fail on their foreign keys.
    op.drop_column('programs', 'aims')
