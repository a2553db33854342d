"""the national system's data: a member's 人编号 (kept from the national system's export); a reconciliation job's
report of what differs from the registry; and the day a county-procedure case was identified (its county approval,
the latest one), which the national columns call 风险识别时间, filled in from the history for cases approved before

Revision ID: 0020
Revises: 0019
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_no', sa.String(length=32), nullable=True))

    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report', sa.JSON(), nullable=True))

    # The county approval of each county case still standing (the latest, where an objection sent it back), as the
    # China date of the event (stored in UTC): its 风险识别时间.
    connection = op.get_bind()
    approvals = connection.execute(sa.text(
        "SELECT e.subject_id, MAX(e.at) FROM event e JOIN household_case c ON c.id = e.subject_id "
        "WHERE e.subject_kind = 'case' AND e.bpmn_id = 'Task_CountyApprove' AND e.kind = 'task_completed' "
        "AND e.decision = 'approve' AND c.procedure = 'county' AND c.identified_on IS NULL "
        "GROUP BY e.subject_id")).all()
    for case_id, at in approvals:
        moment = _parse(at)
        connection.execute(sa.text("UPDATE household_case SET identified_on = :day WHERE id = :id"),
                           {"day": (moment + timedelta(hours=8)).date(), "id": case_id})


def _parse(value):
    """SQLite hands a DateTime back as text from a raw query."""
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def downgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('report')

    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_column('person_no')

