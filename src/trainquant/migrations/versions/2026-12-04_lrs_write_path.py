"""LRS write path: statement links in one B-tree, partial indexes on mostly-empty columns, compressed deliveries, no stored fingerprint (a repeated id compares the canonical forms), watch coverage's video blocks

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 11:20:00.000000
"""

from __future__ import annotations

import hashlib
import zlib

import orjson
import sqlalchemy as sa
from alembic import op

import trainquant.db
from trainquant.learning.packed import extract, wall_time
from trainquant.learning.xapi import statement_key

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

PARTIAL = (("ix_xapi_statements_object_agent", "object_agent_key", "id"), ("ix_xapi_statements_registration", "registration", "id"),
           ("ix_xapi_statements_employee", "employee_id", "id"), ("ix_xapi_statements_target", "target_id"))


def _links(with_rowid: bool, key: tuple[str, ...]) -> None:
    """Rebuild xapi_statement_links with ``key`` as its primary key (SQLite: with or without rowid)."""
    op.create_table('xapi_statement_links_new',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('statement_pk', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('activity', 'agent')", name='ck_xapi_statement_links_kind'),
    sa.ForeignKeyConstraint(['statement_pk'], ['xapi_statements.id'], name='fk_xapi_statement_links_statement_pk_xapi_statements', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(*key, name='pk_xapi_statement_links'),
    sqlite_with_rowid=with_rowid,
    )
    op.execute("INSERT INTO xapi_statement_links_new (kind, value, statement_pk) SELECT kind, value, statement_pk FROM xapi_statement_links")
    op.drop_table('xapi_statement_links')
    op.rename_table('xapi_statement_links_new', 'xapi_statement_links')


def _backfill_blocks(chunk: int = 50_000) -> None:
    """The blocks of the statements stored before 0022, a block per ``chunk`` of them."""
    bind = op.get_bind()
    statements = sa.table('xapi_statements', sa.column('id', sa.Integer), sa.column('employee_id', sa.Integer), sa.column('activity_id', sa.Text),
                          sa.column('stored', trainquant.db.UTCDateTime(timezone=True)), sa.column('stored_by', sa.String), sa.column('document', sa.Text))
    blocks = sa.table('xapi_video_blocks', *(sa.column(c) for c in ('first_pk', 'last_pk', 'stored_from', 'stored_to', 'rows', 'activities', 'sessions')),
                      sa.column('data', sa.LargeBinary))
    after = 0
    while True:
        rows = bind.execute(sa.select(statements.c.id, statements.c.employee_id, statements.c.stored, statements.c.stored_by, statements.c.document)
                            .where(statements.c.id > after, statements.c.employee_id.is_not(None), statements.c.activity_id.is_not(None))
                            .order_by(statements.c.id).limit(chunk)).all()
        if not rows:
            return
        after = rows[-1][0]
        docs = [(pk, employee_id, orjson.loads(document), stored, stored_by) for pk, employee_id, stored, stored_by, document in rows]
        packed = extract((pk, employee_id, doc, stored.timestamp(), wall_time(stored, stored_by, doc).timestamp())
                         for pk, employee_id, doc, stored, stored_by in docs)
        if not len(packed):
            continue
        moments = [stored for _, _, _, stored, _ in docs]
        bind.execute(blocks.insert().values(first_pk=int(packed.records["pk"].min()), last_pk=int(packed.records["pk"].max()), rows=len(packed),
                                            stored_from=min(moments), stored_to=max(moments), activities=orjson.dumps(packed.activities).decode(),
                                            sessions=orjson.dumps(packed.sessions).decode(), data=packed.to_bytes()))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _links(False, ('kind', 'value', 'statement_pk'))
    else:  # PostgreSQL: the heap stays; the primary key becomes the lookup and the twin index goes
        op.drop_index('ix_xapi_statement_links_value', table_name='xapi_statement_links')
        op.drop_constraint('pk_xapi_statement_links', 'xapi_statement_links', type_='primary')
        op.create_primary_key('pk_xapi_statement_links', 'xapi_statement_links', ['kind', 'value', 'statement_pk'])
    for name, *columns in PARTIAL:
        op.drop_index(name, table_name='xapi_statements')
        where = sa.text(f"{columns[0]} IS NOT NULL")
        op.create_index(name, 'xapi_statements', columns, unique=False, sqlite_where=where, postgresql_where=where)
    # In place (ALTER TABLE ... ADD/DROP COLUMN on both databases): a batch copy of xapi_deliveries
    # would drop a table that statements reference.
    op.add_column('xapi_deliveries', sa.Column('compressed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.drop_column('xapi_statements', 'fingerprint')
    op.create_index('ix_xapi_statements_voided', 'xapi_statements', ['id'], unique=False,
                    sqlite_where=sa.text('voided'), postgresql_where=sa.text('voided'))
    op.create_table('xapi_video_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_pk', sa.Integer(), nullable=False),
    sa.Column('last_pk', sa.Integer(), nullable=False),
    sa.Column('stored_from', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stored_to', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('activities', sa.Text(), nullable=False),
    sa.Column('sessions', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_video_blocks'))
    )
    _backfill_blocks()


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table('xapi_video_blocks')
    op.drop_index('ix_xapi_statements_voided', table_name='xapi_statements')
    op.add_column('xapi_statements', sa.Column('fingerprint', sa.String(length=64), server_default='', nullable=False))
    statements = sa.table('xapi_statements', sa.column('id', sa.Integer), sa.column('document', sa.Text), sa.column('fingerprint', sa.String))
    for id_, document in bind.execute(sa.select(statements.c.id, statements.c.document)).all():
        digest = hashlib.sha256(statement_key(orjson.loads(document))).hexdigest()  # as 0021's code wrote it
        bind.execute(statements.update().where(statements.c.id == id_).values(fingerprint=digest))
    deliveries = sa.table('xapi_deliveries', sa.column('id', sa.Integer), sa.column('body', sa.LargeBinary), sa.column('compressed', sa.Boolean))
    for id_, body in bind.execute(sa.select(deliveries.c.id, deliveries.c.body).where(deliveries.c.compressed)).all():
        bind.execute(deliveries.update().where(deliveries.c.id == id_).values(body=zlib.decompress(body)))  # 0021 reads bodies as they are
    op.execute("ALTER TABLE xapi_deliveries DROP COLUMN compressed")
    for name, *columns in PARTIAL:
        op.drop_index(name, table_name='xapi_statements')
        op.create_index(name, 'xapi_statements', columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _links(True, ('statement_pk', 'kind', 'value'))
    else:
        op.drop_constraint('pk_xapi_statement_links', 'xapi_statement_links', type_='primary')
        op.create_primary_key('pk_xapi_statement_links', 'xapi_statement_links', ['statement_pk', 'kind', 'value'])
    op.create_index('ix_xapi_statement_links_value', 'xapi_statement_links', ['kind', 'value', 'statement_pk'], unique=False)
