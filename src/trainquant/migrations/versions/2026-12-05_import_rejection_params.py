"""import rejections keep their message's template and values, for the page to say them in the reader's language

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 15:20:00.000000

Rejections stored before keep an empty value: the page shows their English message, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('import_rejections', sa.Column('params', sa.JSON(), server_default='{}', nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE import_rejections DROP COLUMN params")
