"""ready task ids are never reused (SQLite AUTOINCREMENT; PostgreSQL sequences never reuse)

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("ready_task", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("ready_task", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
