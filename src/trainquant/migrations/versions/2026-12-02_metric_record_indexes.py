"""the metric records' external-id index holds unmapped records only

Only unmapped records are ever looked up by external id: the mapping page, resolving an id, a
person's records under an id mapped since. Accepted records carry their external id too (what the
system sent), and indexing theirs cost every stored record an insert into one of a few thousand
spots of an index nobody reads them through.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_metric_records_external', table_name='metric_records')
    op.create_index('ix_metric_records_unmapped_external', 'metric_records', ['external_system', 'external_id'],
                    sqlite_where=sa.text("status = 'unmapped'"), postgresql_where=sa.text("status = 'unmapped'"))


def downgrade() -> None:
    op.drop_index('ix_metric_records_unmapped_external', table_name='metric_records')
    op.create_index('ix_metric_records_external', 'metric_records', ['external_system', 'external_id'])
