"""check-in events name their sender; idempotency keys per sender; rejected records deduplicated and capped

``checkin_events.origin`` names who sent an event (``apikey:<id>``, ``user:<id>``, ``zkteco:<SN>``,
``wecom`` ...) and ``dedup_key`` becomes ``<origin>|<event id>``: until now every API client shared
the source "api", so client B's event "1001" about another person was answered as a duplicate of
client A's "1001" and dropped. ``content_key`` lets a rejected record sent again be answered as a
repeat of the stored rejection; ``checkin_rejections_per_hour`` counts the rejected records stored
and refused per sender and hour (the cap on how much junk one sender may store).

The rows already stored, read as an auditor would:
- ZKTeco rows: the serial number is known (the device id, or the key ``zkteco:<SN>:...`` itself), so
  the origin is ``zkteco:<SN>`` and the key is rewritten to ``zkteco:<SN>|<SN>:<PIN>:<time>``, exactly
  what a resend computes now.
- Importer rows (WeCom, DingTalk, Feishu, sheets; one account per platform): the origin is the source
  and the key ``<source>|<event id>``.
- Events API and phone-page rows: which API key or user sent them was never recorded and cannot be
  guessed. Their origin is the bare source (``api`` / ``qr-page``: "a sender not known") and their key
  stays ``<source>:<event id>``; the accepted ones' keys are copied, with the person, to
  ``checkin_legacy_keys``. Ingestion reads a new event whose id gives such a key as a retry of that
  event when it is about the same person ("duplicate", whichever sender retries), and as another
  client's event when it is about someone else (judged on its own): no retry is stored twice, and no
  other person's punch is dropped. A database without such rows pays nothing for them.
Existing rejected rows get no content key: the first identical resend after the upgrade is stored
once more, later ones are repeats.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from typing import TypedDict

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Sources whose sender (API key, logged-in user) was not recorded: origin and key stay as they were.
UNKNOWN_SENDER = ('api', 'qr-page')


def _serial_from_key() -> str:
    """The SN in a key ``zkteco:<SN>:...`` (the text between the first two colons)."""
    if op.get_bind().dialect.name == 'postgresql':
        return "split_part(dedup_key, ':', 2)"
    return "substr(dedup_key, 8, instr(substr(dedup_key, 8), ':') - 1)"


class _AlterKey(TypedDict):
    existing_type: sa.String
    type_: sa.String
    existing_nullable: bool


KEY_WIDTHS: _AlterKey = {'existing_type': sa.String(length=160), 'type_': sa.String(length=255), 'existing_nullable': False}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('checkin_events', sa.Column('origin', sa.String(length=96), nullable=True))
    op.add_column('checkin_events', sa.Column('content_key', sa.String(length=64), nullable=True))
    if not sqlite:  # the keys grow by the origin; SQLite does not hold text to its declared length
        op.alter_column('checkin_events', 'dedup_key', **KEY_WIDTHS)

    op.execute(
        f"UPDATE checkin_events SET origin = 'zkteco:' || coalesce(device_id, {_serial_from_key()}) "
        "WHERE source = 'zkteco' AND (device_id IS NOT NULL OR dedup_key LIKE 'zkteco:%:%')"
    )
    op.execute("UPDATE checkin_events SET dedup_key = origin || '|' || substr(dedup_key, 8) WHERE origin IS NOT NULL")
    unknown = ', '.join(f"'{s}'" for s in UNKNOWN_SENDER)
    op.execute(
        "UPDATE checkin_events SET origin = source, dedup_key = source || '|' || substr(dedup_key, length(source) + 2) "
        f"WHERE origin IS NULL AND source NOT IN ({unknown}) AND substr(dedup_key, 1, length(source) + 1) = source || ':'"
    )
    op.execute("UPDATE checkin_events SET origin = source WHERE origin IS NULL")

    # On SQLite one copy of the table does what ALTER cannot (NOT NULL, the declared width).
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        if sqlite:
            batch_op.alter_column('dedup_key', **KEY_WIDTHS)
        batch_op.alter_column('origin', existing_type=sa.String(length=96), nullable=False)
        batch_op.create_index(
            'uq_checkin_events_rejected_content', ['content_key'], unique=True,
            sqlite_where=sa.text('content_key IS NOT NULL'), postgresql_where=sa.text('content_key IS NOT NULL'),
        )
    op.create_table('checkin_rejections_per_hour',
    sa.Column('origin', sa.String(length=96), nullable=False),
    sa.Column('hour', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stored', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('origin', 'hour', name=op.f('pk_checkin_rejections_per_hour'))
    )
    # Plain integers, no foreign keys: a later copy of checkin_events or employees (SQLite's batch
    # mode) would otherwise cascade into these facts.
    legacy = op.create_table('checkin_legacy_keys',
    sa.Column('dedup_key', sa.String(length=160), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('dedup_key', name=op.f('pk_checkin_legacy_keys'))
    )
    op.execute(
        f"INSERT INTO {legacy.name} (dedup_key, event_id, employee_id) "
        f"SELECT dedup_key, id, employee_id FROM checkin_events WHERE verdict = 'accepted' AND source IN ({unknown})"
    )


def downgrade() -> None:
    op.drop_table('checkin_rejections_per_hour')
    op.drop_table('checkin_legacy_keys')
    # ZKTeco and importer keys go back to "<source>:<event id>" (one to one). Events stored through
    # the API or the phone page since the upgrade keep theirs: the old form cannot hold two senders'
    # events of one id. The key column stays 255 wide, as shortening it would cut keys.
    op.execute(
        "UPDATE checkin_events SET dedup_key = source || ':' || substr(dedup_key, length(origin) + 2) "
        "WHERE origin NOT LIKE 'apikey:%' AND origin NOT LIKE 'user:%' AND substr(dedup_key, 1, length(origin) + 1) = origin || '|'"
    )
    with op.batch_alter_table('checkin_events', schema=None) as batch_op:
        batch_op.drop_index('uq_checkin_events_rejected_content')
        batch_op.drop_column('content_key')
        batch_op.drop_column('origin')
