"""supervision indexes: a period's county approvals straight off the event step-and-time index (covering: kind,
decision and case come with it), one case's events of a step off the case index, a month's closures off the
case status-and-closed-at index

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The event indexes start with the columns of the ones they replace, so they serve every read those served; the
# closed-at one gives way to status and closed-at (every reader of closed_at asks for a status too, or for both
# NULL and a range: the ledger, which starts from other indexes).
INDEXES = {
    "ix_event_step_at": ("event", ["bpmn_id", "at", "kind", "decision", "case_id"]),
    "ix_event_case_step": ("event", ["case_id", "bpmn_id", "at"]),
    "ix_household_case_status_closed_at": ("household_case", ["status", "closed_at"]),
}
REPLACED = {
    "ix_event_bpmn_id_at": ("event", ["bpmn_id", "at"]),
    "ix_event_case_id": ("event", ["case_id"]),
    "ix_household_case_closed_at": ("household_case", ["closed_at"]),
}


def upgrade():
    # Plain CREATE/DROP INDEX: the event table keeps its append-only triggers (no batch table rebuild).
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)
    for name, (table, _columns) in REPLACED.items():
        op.drop_index(name, table_name=table)


def downgrade():
    for name, (table, columns) in REPLACED.items():
        op.create_index(name, table, columns, unique=False)
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
