"""the steps tasks wait at indexed with their kind and name, so the step filter's choices for a whole province are a
walk of its few distinct steps, not a grouping of every waiting task

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ready_task', schema=None) as batch_op:
        batch_op.drop_index('ix_ready_task_bpmn_id')
        batch_op.create_index('ix_ready_task_step', ['bpmn_id', 'subject_kind', 'name'], unique=False)


def downgrade():
    with op.batch_alter_table('ready_task', schema=None) as batch_op:
        batch_op.drop_index('ix_ready_task_step')
        batch_op.create_index('ix_ready_task_bpmn_id', ['bpmn_id'], unique=False)
