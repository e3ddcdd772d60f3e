"""an employee's way of working marked as their department's template for a business metric (R3.3);
at most one current per department and metric

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('department_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('metric_key', sa.String(length=64), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('before', sa.Float(), nullable=True),
    sa.Column('after', sa.Float(), nullable=True),
    sa.Column('effect', sa.Float(), nullable=True),
    sa.Column('band', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('marked_by', sa.String(length=64), nullable=False),
    sa.Column('marked_at', trainquant.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_by', sa.String(length=64), nullable=True),
    sa.Column('retired_at', trainquant.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_department_templates_department_id_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_department_templates_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_department_templates_program_id_programs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_templates'))
    )
    with op.batch_alter_table('department_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_templates_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_department_templates_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index('uq_department_templates_current', ['department_id', 'metric_key'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))



def downgrade() -> None:
    with op.batch_alter_table('department_templates', schema=None) as batch_op:
        batch_op.drop_index('uq_department_templates_current', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.drop_index(batch_op.f('ix_department_templates_employee_id'))
        batch_op.drop_index(batch_op.f('ix_department_templates_department_id'))

    op.drop_table('department_templates')
