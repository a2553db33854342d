"""inbox indexes: each branch of an inbox (a group's tasks in a village, a town or the county; the tasks assigned
to one person) reads its page off one index, in due-date order, whatever the number of open tasks

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_ready_task_inbox_village": ["role", "village_code", "assignee_id", "due_on", "ready_since"],
    "ix_ready_task_inbox_town": ["role", "town_code", "assignee_id", "due_on", "ready_since"],
    "ix_ready_task_inbox_county": ["role", "assignee_id", "due_on", "ready_since"],
    "ix_ready_task_inbox_assignee": ["assignee_id", "due_on", "ready_since"],
}
# Prefixes of the new ones.
REPLACED = {
    "ix_ready_task_role_village": ["role", "village_code"],
    "ix_ready_task_role_town": ["role", "town_code"],
    "ix_ready_task_assignee_id": ["assignee_id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "ready_task", columns, unique=False)
    for name in REPLACED:
        op.drop_index(name, table_name="ready_task")


def downgrade():
    for name, columns in REPLACED.items():
        op.create_index(name, "ready_task", columns, unique=False)
    for name in INDEXES:
        op.drop_index(name, table_name="ready_task")
