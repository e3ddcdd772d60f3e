"""proxy cases of the signal "platform-verdict": a platform's verdict the school's policy sends to review

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD = "signal IN ('shared-device', 'relayed-token', 'impossible-travel', 'timetable-contradiction')"
NEW = "signal IN ('shared-device', 'relayed-token', 'impossible-travel', 'timetable-contradiction', 'platform-verdict')"


def upgrade() -> None:
    with op.batch_alter_table('proxy_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proxy_cases_signal'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proxy_cases_signal'), NEW)


def downgrade() -> None:
    op.execute("DELETE FROM proxy_cases WHERE signal = 'platform-verdict'")
    with op.batch_alter_table('proxy_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_proxy_cases_signal'), type_='check')
        batch_op.create_check_constraint(op.f('ck_proxy_cases_signal'), OLD)
