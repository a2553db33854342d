"""shipped and county diagrams: a version says whether it is the repository's diagram (deployed by init-db) or the
county's (deployed by an administrator), so an upgrade never replaces the county's; a draft may be an upgrade's
shipped diagram offered to the administrator

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("process_version") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=16), server_default="county", nullable=False))
    # Until now init-db deployed with no user and administrators always with theirs.
    op.execute("UPDATE process_version SET origin = 'shipped' WHERE deployed_by_id IS NULL")
    with op.batch_alter_table("process_draft") as batch:
        batch.add_column(sa.Column("shipped_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("process_draft") as batch:
        batch.drop_column("dismissed_at")
        batch.drop_column("shipped_sha256")
    with op.batch_alter_table("process_version") as batch:
        batch.drop_column("origin")
