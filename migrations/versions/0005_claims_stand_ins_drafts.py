"""task claims, stand-ins, form drafts; who acted for whom

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ready_task") as batch:
        batch.add_column(sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_ready_task_claimed_by_id", ["claimed_by_id"])
        batch.create_foreign_key("fk_ready_task_claimed_by_id_user_account", "user_account", ["claimed_by_id"], ["id"])
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_event_on_behalf_of_id_user_account", "user_account", ["on_behalf_of_id"], ["id"])
    op.create_table(
        "stand_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stand_in_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["stand_in_id"], ["user_account.id"], name="fk_stand_in_stand_in_id_user_account"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name="fk_stand_in_user_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_stand_in"),
    )
    op.create_index("ix_stand_in_user_id", "stand_in", ["user_id"])
    op.create_index("ix_stand_in_stand_in_id", "stand_in", ["stand_in_id"])
    op.create_table(
        "task_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_uuid", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name="fk_task_draft_user_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_task_draft"),
        sa.UniqueConstraint("task_uuid", "user_id", name="uq_task_draft_task_user"),
    )
    op.create_index("ix_task_draft_task_uuid", "task_draft", ["task_uuid"])


def downgrade():
    op.drop_table("task_draft")
    op.drop_table("stand_in")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint("fk_event_on_behalf_of_id_user_account", type_="foreignkey")
        batch.drop_column("on_behalf_of_id")
    with op.batch_alter_table("ready_task") as batch:
        batch.drop_constraint("fk_ready_task_claimed_by_id_user_account", type_="foreignkey")
        batch.drop_index("ix_ready_task_claimed_by_id")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by_id")
