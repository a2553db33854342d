"""screening checks: one row per household per monthly screening (逐户逐人排查), the record coverage is counted from;
the screening keeps the counts (households checked within the month, not checked with a reason) in step with them

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("household") as batch:  # 村民小组: the team finds households by it
        batch.add_column(sa.Column("group_name", sa.String(length=32), server_default="", nullable=False))
    with op.batch_alter_table("screening") as batch:
        batch.add_column(sa.Column("households_not_checked", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "screening_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("town_code", sa.String(length=9), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("visitors", sa.String(length=200), nullable=False),
        sa.Column("risks", sa.JSON(), nullable=False),
        sa.Column("medical_out_of_pocket", sa.Integer(), nullable=True),
        sa.Column("months_without_work", sa.Integer(), nullable=True),
        sa.Column("risk_detail", sa.Text(), nullable=False),
        sa.Column("guarantee_gaps", sa.JSON(), nullable=False),
        sa.Column("not_checked_reason", sa.String(length=24), nullable=True),
        sa.Column("not_checked_note", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("photo_type", sa.String(length=32), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_screening_check_household_id_household")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"],
                                name=op.f("fk_screening_check_recorded_by_id_user_account")),
        sa.ForeignKeyConstraint(["registration_id"], ["risk_registration.id"],
                                name=op.f("fk_screening_check_registration_id_risk_registration")),
        sa.ForeignKeyConstraint(["screening_id"], ["screening.id"],
                                name=op.f("fk_screening_check_screening_id_screening")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_check")),
        sa.UniqueConstraint("screening_id", "household_id", name="uq_screening_check_household"),
    )
    op.create_index(op.f("ix_screening_check_screening_id"), "screening_check", ["screening_id"])
    op.create_index(op.f("ix_screening_check_household_id"), "screening_check", ["household_id"])


def downgrade():
    op.drop_index(op.f("ix_screening_check_household_id"), table_name="screening_check")
    op.drop_index(op.f("ix_screening_check_screening_id"), table_name="screening_check")
    op.drop_table("screening_check")
    with op.batch_alter_table("screening") as batch:
        batch.drop_column("households_not_checked")
    with op.batch_alter_table("household") as batch:
        batch.drop_column("group_name")
