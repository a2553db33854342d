"""process drafts (the web modeler)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("based_on_version_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deployed_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["based_on_version_id"], ["process_version.id"],
                                name="fk_process_draft_based_on_version_id_process_version"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name="fk_process_draft_created_by_id_user_account"),
        sa.ForeignKeyConstraint(["deployed_version_id"], ["process_version.id"],
                                name="fk_process_draft_deployed_version_id_process_version"),
        sa.PrimaryKeyConstraint("id", name="pk_process_draft"),
    )
    op.create_index("ix_process_draft_process_key", "process_draft", ["process_key"])


def downgrade():
    op.drop_index("ix_process_draft_process_key", table_name="process_draft")
    op.drop_table("process_draft")
