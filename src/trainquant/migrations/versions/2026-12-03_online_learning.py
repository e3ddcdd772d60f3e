"""online learning: the xAPI LRS (statements as received, filter links, attachments, activities, documents), course videos, quizzes and completions

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 07:43:26.908013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xapi_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('updated_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_activities')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_xapi_activities_activity_id'))
    )
    op.create_table('xapi_attachments',
    sa.Column('sha2', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha2', name=op.f('pk_xapi_attachments'))
    )
    op.create_table('xapi_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stored_by', sa.String(length=40), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_deliveries'))
    )
    op.create_table('xapi_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('agent_key', sa.Text(), nullable=False),
    sa.Column('registration', sa.String(length=36), nullable=False),
    sa.Column('doc_id', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('updated', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('state', 'activity_profile', 'agent_profile')", name=op.f('ck_xapi_documents_kind')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_xapi_documents_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_documents')),
    sa.UniqueConstraint('kind', 'activity_id', 'agent_key', 'registration', 'doc_id', name='uq_xapi_documents_key')
    )
    with op.batch_alter_table('xapi_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xapi_documents_employee_id'), ['employee_id'], unique=False)

    op.create_table('xapi_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('stored', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('actor_key', sa.Text(), nullable=True),
    sa.Column('verb_id', sa.Text(), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=True),
    sa.Column('object_agent_key', sa.Text(), nullable=True),
    sa.Column('target_id', sa.String(length=36), nullable=True),
    sa.Column('registration', sa.String(length=36), nullable=True),
    sa.Column('voiding', sa.Boolean(), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('stored_by', sa.String(length=40), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['xapi_deliveries.id'], name=op.f('fk_xapi_statements_delivery_id_xapi_deliveries'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_xapi_statements_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_statements')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_xapi_statements_statement_id'))
    )
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_statements_activity', ['activity_id', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_actor', ['actor_key', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_employee', ['employee_id', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_object_agent', ['object_agent_key', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_registration', ['registration', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_stored', ['stored', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_stored_by', ['stored_by', 'id'], unique=False)
        batch_op.create_index('ix_xapi_statements_target', ['target_id'], unique=False)
        batch_op.create_index('ix_xapi_statements_verb', ['verb_id', 'id'], unique=False)

    op.create_table('course_videos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('length_s', sa.Float(), nullable=False),
    sa.Column('max_speed', sa.Float(), nullable=False),
    sa.Column('no_skipping', sa.Boolean(), nullable=False),
    sa.Column('media_file', sa.String(length=255), nullable=True),
    sa.Column('media_type', sa.String(length=32), nullable=True),
    sa.Column('created_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length_s > 0', name=op.f('ck_course_videos_length')),
    sa.CheckConstraint('max_speed > 0', name=op.f('ck_course_videos_max_speed')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_course_videos_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_videos')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_course_videos_activity_id')),
    sa.UniqueConstraint('program_id', 'position', name='uq_course_videos_position')
    )
    with op.batch_alter_table('course_videos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_videos_program_id'), ['program_id'], unique=False)

    op.create_table('online_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('watched_seconds', sa.Float(), nullable=False),
    sa.Column('study_seconds', sa.Float(), nullable=False),
    sa.Column('quiz_score', sa.Float(), nullable=True),
    sa.Column('recorded_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_online_completions_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_online_completions_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_online_completions')),
    sa.UniqueConstraint('program_id', 'employee_id', name='uq_online_completions_person')
    )
    with op.batch_alter_table('online_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_completions_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_online_completions_program_id'), ['program_id'], unique=False)

    op.create_table('online_courses',
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('quiz_kind', sa.String(length=32), nullable=True),
    sa.Column('quiz_activity_id', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_online_courses_program_id_programs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_kind'], ['assessment_kinds.code'], name=op.f('fk_online_courses_quiz_kind_assessment_kinds'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('program_id', name=op.f('pk_online_courses')),
    sa.UniqueConstraint('quiz_activity_id', name=op.f('uq_online_courses_quiz_activity_id'))
    )
    op.create_table('xapi_statement_links',
    sa.Column('statement_pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('activity', 'agent')", name=op.f('ck_xapi_statement_links_kind')),
    sa.ForeignKeyConstraint(['statement_pk'], ['xapi_statements.id'], name=op.f('fk_xapi_statement_links_statement_pk_xapi_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_pk', 'kind', 'value', name=op.f('pk_xapi_statement_links'))
    )
    with op.batch_alter_table('xapi_statement_links', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_statement_links_value', ['kind', 'value', 'statement_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('xapi_statement_links', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_statement_links_value')

    op.drop_table('xapi_statement_links')
    op.drop_table('online_courses')
    with op.batch_alter_table('online_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_online_completions_program_id'))
        batch_op.drop_index(batch_op.f('ix_online_completions_employee_id'))

    op.drop_table('online_completions')
    with op.batch_alter_table('course_videos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_videos_program_id'))

    op.drop_table('course_videos')
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_statements_verb')
        batch_op.drop_index('ix_xapi_statements_target')
        batch_op.drop_index('ix_xapi_statements_stored_by')
        batch_op.drop_index('ix_xapi_statements_stored')
        batch_op.drop_index('ix_xapi_statements_registration')
        batch_op.drop_index('ix_xapi_statements_object_agent')
        batch_op.drop_index('ix_xapi_statements_employee')
        batch_op.drop_index('ix_xapi_statements_actor')
        batch_op.drop_index('ix_xapi_statements_activity')

    op.drop_table('xapi_statements')
    with op.batch_alter_table('xapi_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xapi_documents_employee_id'))

    op.drop_table('xapi_documents')
    op.drop_table('xapi_deliveries')
    op.drop_table('xapi_attachments')
    op.drop_table('xapi_activities')
