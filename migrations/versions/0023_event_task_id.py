"""a completed task's history row names the ready-task id it completed, so a second submit of that id is told
who did it and when (409), and only an id that never named a task is 404

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy): the event table's append-only triggers stay as they are.
    op.add_column('event', sa.Column('task_id', sa.Integer(), nullable=True))
    op.create_index('ix_event_task_id', 'event', ['task_id'], unique=False)


def downgrade():
    op.drop_index('ix_event_task_id', table_name='event')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('task_id')
