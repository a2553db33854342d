"""one county's rows among a hundred: the day of a case's first county approval kept on the case (the scoreboard's
and the annual review's approvals of a period, read off the case's town and that day instead of every county's
approval events), and indexes that lead with the town's code and go on with the status, the day opened, closed or
approved, so that a county's pages read their own towns' rows whatever the number of counties beside them; and a
visited element carries its subject's village and town (as a ready task does), so the heatmap reads one county's
visits of a period, not every county's

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('household_case', sa.Column('approved_at', sa.DateTime(), nullable=True))
    # The cases approved before: their first county approval (the step's id in the shipped diagram, as the
    # scoreboard read it from the history until now).
    op.execute(
        "UPDATE household_case SET approved_at = (SELECT min(e.at) FROM event e WHERE e.subject_kind = 'case' "
        "AND e.subject_id = household_case.id AND e.bpmn_id = 'Task_CountyApprove' AND e.kind = 'task_completed' "
        "AND e.decision = 'approve') WHERE procedure = 'county'")
    op.create_index('ix_household_case_town_approved', 'household_case', ['town_code', 'approved_at'])
    op.create_index('ix_household_case_approved_at', 'household_case', ['approved_at'])  # the whole deployment's
    op.create_index('ix_household_case_town_opened', 'household_case', ['town_code', 'opened_at'])
    op.create_index('ix_household_case_town_status_closed', 'household_case', ['town_code', 'status', 'closed_at'])
    op.create_index('ix_ready_task_town_code', 'ready_task', ['town_code'])
    # The town's code alone: the indexes above lead with it, and with it beside them the planner reads a town's
    # every case to filter the status instead of the town-and-status entries.
    op.drop_index('ix_household_case_town_code', table_name='household_case')
    op.add_column('element_visit', sa.Column('village_code', sa.String(length=12), nullable=True))
    op.add_column('element_visit', sa.Column('town_code', sa.String(length=9), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for kind, table in (("case", "household_case"), ("screening", "screening"), ("lead", "risk_lead")):
        if postgresql:  # one join, not two subqueries a row: tens of millions of visits in a province
            op.execute(f"UPDATE element_visit v SET village_code = s.village_code, town_code = s.town_code "  # noqa: S608
                       f"FROM {table} s WHERE v.subject_kind = '{kind}' AND s.id = v.subject_id")
        else:
            op.execute(
                f"UPDATE element_visit SET village_code = (SELECT s.village_code FROM {table} s "  # noqa: S608
                f"WHERE s.id = element_visit.subject_id), town_code = (SELECT s.town_code FROM {table} s "
                f"WHERE s.id = element_visit.subject_id) WHERE subject_kind = '{kind}'")
    op.create_index('ix_element_visit_diagram_town_completed', 'element_visit',
                    ['diagram_version_id', 'town_code', 'completed_at'])


def downgrade():
    op.drop_index('ix_element_visit_diagram_town_completed', table_name='element_visit')
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of these tables would trip the foreign keys to them.
    op.drop_column('element_visit', 'town_code')
    op.drop_column('element_visit', 'village_code')
    op.create_index('ix_household_case_town_code', 'household_case', ['town_code'])
    op.drop_index('ix_ready_task_town_code', table_name='ready_task')
    op.drop_index('ix_household_case_town_status_closed', table_name='household_case')
    op.drop_index('ix_household_case_town_opened', table_name='household_case')
    op.drop_index('ix_household_case_town_approved', table_name='household_case')
    op.drop_index('ix_household_case_approved_at', table_name='household_case')
    op.drop_column('household_case', 'approved_at')
