"""check-in event times in one text format on SQLite

Events stored through the bulk insert of revision 0005's release were handed to SQLite's driver as
datetimes, which it writes as "2026-09-01 06:00:00" when there are no microseconds; everything else
(and SQLAlchemy's own comparisons) uses "2026-09-01 06:00:00.000000". The shorter text sorts before
the same instant in the longer one, so a comparison at exactly that second missed the event. This
gives those rows the fraction. PostgreSQL stores timestamps natively and is not touched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 21:50:00
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for column in ("at", "received_at"):
        op.execute(f"UPDATE checkin_events SET {column} = {column} || '.000000' WHERE length({column}) = 19")


def downgrade() -> None:
    pass  # the longer text is what every version reads and writes
