"""a generic subject reference: ready tasks, history events and visited elements name what they are about by kind
and id (subject_kind, subject_id) instead of one foreign-key column per kind (case_id, screening_id), so a new
kind of subject (a risk lead, a verification, …) needs no migration of these tables

The inbox, a case's history and a case's path read them off (subject_kind, subject_id) indexes; the step-and-time
index of the history carries the pair where it carried the case. The event table keeps its append-only guard:
on PostgreSQL its triggers are switched off for the copy of the old columns (this runs as the tables' owner); on
SQLite the table is rebuilt, which drops them, and they are created again from 0009's definitions.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_INDEXES = {
    "ready_task": ["ix_ready_task_case_id", "ix_ready_task_screening_id"],
    "element_visit": ["ix_element_visit_case_id", "ix_element_visit_screening_id"],
    "event": ["ix_event_step_at", "ix_event_case_step", "ix_event_screening_id"],
}
NEW_INDEXES = {
    "ix_ready_task_subject": ("ready_task", ["subject_kind", "subject_id"]),
    "ix_element_visit_subject": ("element_visit", ["subject_kind", "subject_id"]),
    "ix_event_step_at": ("event", ["bpmn_id", "at", "kind", "decision", "subject_kind", "subject_id"]),
    "ix_event_subject_step": ("event", ["subject_kind", "subject_id", "bpmn_id", "at"]),
}
KINDS = {"case_id": "case", "screening_id": "screening"}
REFERENCED = {"case_id": "household_case", "screening_id": "screening"}


# 0009's SQLite triggers, as they were created there.
SQLITE_GUARD = [
    "CREATE TRIGGER event_no_update BEFORE UPDATE ON event "
    "BEGIN SELECT RAISE(ABORT, 'the audit log (event) is append-only: UPDATE refused'); END",
    "CREATE TRIGGER event_no_delete BEFORE DELETE ON event "
    "BEGIN SELECT RAISE(ABORT, 'the audit log (event) is append-only: DELETE refused'); END",
]


def _guard_off(sqlite):
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS event_no_update")
        op.execute("DROP TRIGGER IF EXISTS event_no_delete")
    else:
        op.execute("ALTER TABLE event DISABLE TRIGGER USER")


def _guard_on(sqlite):
    if sqlite:
        for statement in SQLITE_GUARD:
            op.execute(statement)
    else:
        op.execute("ALTER TABLE event ENABLE TRIGGER USER")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, names in OLD_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table)
    for table in OLD_INDEXES:
        op.add_column(table, sa.Column("subject_kind", sa.String(length=16), nullable=True))
        op.add_column(table, sa.Column("subject_id", sa.Integer(), nullable=True))
    _guard_off(sqlite)
    for table in OLD_INDEXES:
        for column, kind in KINDS.items():
            op.execute(f"UPDATE {table} SET subject_kind = '{kind}', subject_id = {column} "
                       f"WHERE {column} IS NOT NULL")
    for table in OLD_INDEXES:
        kwargs = {"table_kwargs": {"sqlite_autoincrement": True}} if table == "ready_task" else {}
        with op.batch_alter_table(table, **kwargs) as batch:
            for column, referenced in REFERENCED.items():
                if not sqlite:  # SQLite's rebuild leaves out the constraint with its column
                    batch.drop_constraint(f"fk_{table}_{column}_{referenced}", type_="foreignkey")
                batch.drop_column(column)
            if table != "event":  # an audit event may be about no subject (a log-in, an export)
                batch.alter_column("subject_kind", existing_type=sa.String(length=16), nullable=False)
                batch.alter_column("subject_id", existing_type=sa.Integer(), nullable=False)
    _guard_on(sqlite)
    for name, (table, columns) in NEW_INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, (table, _columns) in NEW_INDEXES.items():
        op.drop_index(name, table_name=table)
    for table in OLD_INDEXES:
        kwargs = {"table_kwargs": {"sqlite_autoincrement": True}} if table == "ready_task" else {}
        with op.batch_alter_table(table, **kwargs) as batch:
            for column, referenced in REFERENCED.items():
                batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
                batch.create_foreign_key(f"fk_{table}_{column}_{referenced}", referenced, [column], ["id"])
    _guard_off(sqlite)
    for table in OLD_INDEXES:
        for column, kind in KINDS.items():
            op.execute(f"UPDATE {table} SET {column} = subject_id WHERE subject_kind = '{kind}'")
    for table in OLD_INDEXES:
        kwargs = {"table_kwargs": {"sqlite_autoincrement": True}} if table == "ready_task" else {}
        with op.batch_alter_table(table, **kwargs) as batch:
            batch.drop_column("subject_id")
            batch.drop_column("subject_kind")
    _guard_on(sqlite)
    op.create_index("ix_ready_task_case_id", "ready_task", ["case_id"])
    op.create_index("ix_ready_task_screening_id", "ready_task", ["screening_id"])
    op.create_index("ix_element_visit_case_id", "element_visit", ["case_id"])
    op.create_index("ix_element_visit_screening_id", "element_visit", ["screening_id"])
    op.create_index("ix_event_screening_id", "event", ["screening_id"])
    op.create_index("ix_event_step_at", "event", ["bpmn_id", "at", "kind", "decision", "case_id"])
    op.create_index("ix_event_case_step", "event", ["case_id", "bpmn_id", "at"])
