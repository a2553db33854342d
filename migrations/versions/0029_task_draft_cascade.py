"""a task's form drafts are dropped by the database with the task's row (a foreign key to ready_task that
cascades), so a step that ends a task does not delete its drafts with a statement of its own; drafts left by tasks
that ended before are removed

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM task_draft WHERE task_uuid NOT IN (SELECT task_uuid FROM ready_task)"))
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_task_draft_task_uuid_ready_task', 'ready_task', ['task_uuid'], ['task_uuid'],
                                    ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.drop_constraint('fk_task_draft_task_uuid_ready_task', type_='foreignkey')
