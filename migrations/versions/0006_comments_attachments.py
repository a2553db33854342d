"""comments and attachments on cases and their tasks

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=True),
        sa.Column("bpmn_id", sa.String(length=64), nullable=True),
        sa.Column("task_name", sa.String(length=160), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["household_case.id"], name="fk_comment_case_id_household_case"),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"], name="fk_comment_author_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_comment"),
    )
    op.create_index("ix_comment_case_id", "comment", ["case_id"])
    op.create_index("ix_comment_task_uuid", "comment", ["task_uuid"])
    op.create_index("ix_comment_author_id", "comment", ["author_id"])
    op.create_index("ix_comment_created_at", "comment", ["created_at"])
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=True),
        sa.Column("bpmn_id", sa.String(length=64), nullable=True),
        sa.Column("task_name", sa.String(length=160), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["household_case.id"], name="fk_attachment_case_id_household_case"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user_account.id"],
                                name="fk_attachment_uploaded_by_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_attachment"),
    )
    op.create_index("ix_attachment_case_id", "attachment", ["case_id"])
    op.create_index("ix_attachment_task_uuid", "attachment", ["task_uuid"])
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])
    op.create_index("ix_attachment_uploaded_by_id", "attachment", ["uploaded_by_id"])
    op.create_index("ix_attachment_uploaded_at", "attachment", ["uploaded_at"])


def downgrade():
    # The files under ATTACHMENTS_DIR are left in place; they are only bytes named by their checksum.
    op.drop_table("attachment")
    op.drop_table("comment")
