"""enrolments and their history record what HR's enrolment overrode (eligibility skipped, an overlap allowed)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 12:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place: a batch copy would drop tables that others reference.
    op.add_column('enrolments', sa.Column('exceptions', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('enrolment_events', sa.Column('exceptions', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE enrolment_events DROP COLUMN exceptions")
    op.execute("ALTER TABLE enrolments DROP COLUMN exceptions")
