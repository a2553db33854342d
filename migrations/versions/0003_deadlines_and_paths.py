"""due dates on ready tasks; element visits (each case's path on its diagram); supervision indexes

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ready_task") as batch:
        batch.add_column(sa.Column("diagram_version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("from_bpmn_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_ready_task_diagram_version_id", ["diagram_version_id"])
        batch.create_index("ix_ready_task_due_on", ["due_on"])
        batch.create_foreign_key("fk_ready_task_diagram_version_id_process_version", "process_version",
                                 ["diagram_version_id"], ["id"])
    op.create_table(
        "element_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("screening_id", sa.Integer(), nullable=True),
        sa.Column("diagram_version_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("bpmn_id", sa.String(length=64), nullable=False),
        sa.Column("element_type", sa.String(length=40), nullable=False),
        sa.Column("from_bpmn_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=160), nullable=True),
        sa.Column("ready_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.id"], name="fk_element_visit_actor_id_user_account"),
        sa.ForeignKeyConstraint(["case_id"], ["household_case.id"], name="fk_element_visit_case_id_household_case"),
        sa.ForeignKeyConstraint(["diagram_version_id"], ["process_version.id"],
                                name="fk_element_visit_diagram_version_id_process_version"),
        sa.ForeignKeyConstraint(["instance_id"], ["workflow_instance.id"],
                                name="fk_element_visit_instance_id_workflow_instance"),
        sa.ForeignKeyConstraint(["screening_id"], ["screening.id"], name="fk_element_visit_screening_id_screening"),
        sa.PrimaryKeyConstraint("id", name="pk_element_visit"),
    )
    op.create_index("ix_element_visit_instance_id", "element_visit", ["instance_id"])
    op.create_index("ix_element_visit_case_id", "element_visit", ["case_id"])
    op.create_index("ix_element_visit_screening_id", "element_visit", ["screening_id"])
    # The heatmap reads one diagram version's visits finished in a period.
    op.create_index("ix_element_visit_diagram_completed", "element_visit", ["diagram_version_id", "completed_at"])


    # Supervision's periods: cases opened/closed in a month or year, measures due, approvals in a period.
    op.create_index("ix_household_case_opened_at", "household_case", ["opened_at"])
    op.create_index("ix_household_case_closed_at", "household_case", ["closed_at"])
    op.create_index("ix_measure_deadline", "measure", ["deadline"])
    op.create_index("ix_event_bpmn_id_at", "event", ["bpmn_id", "at"])
    op.create_index("ix_household_case_town_status", "household_case", ["town_code", "status"])
    op.create_index("ix_household_case_village_status", "household_case", ["village_code", "status"])


def downgrade():
    op.drop_index("ix_household_case_village_status", table_name="household_case")
    op.drop_index("ix_household_case_town_status", table_name="household_case")
    op.drop_index("ix_event_bpmn_id_at", table_name="event")
    op.drop_index("ix_measure_deadline", table_name="measure")
    op.drop_index("ix_household_case_closed_at", table_name="household_case")
    op.drop_index("ix_household_case_opened_at", table_name="household_case")
    op.drop_table("element_visit")
    with op.batch_alter_table("ready_task") as batch:
        batch.drop_constraint("fk_ready_task_diagram_version_id_process_version", type_="foreignkey")
        batch.drop_index("ix_ready_task_due_on")
        batch.drop_index("ix_ready_task_diagram_version_id")
        batch.drop_column("from_bpmn_id")
        batch.drop_column("due_on")
        batch.drop_column("diagram_version_id")
