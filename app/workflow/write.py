"""Writing a step's own rows without the unit of work: a task submit is the hottest path in the system, and
an ORM flush costs more than the statements it sends (bench/profile_submit.py shows where the time goes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Update, bindparam, inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.log import AuditLogIsAppendOnly
from app.extensions import db
from app.models import Event


def table_connection() -> Connection:
    """The session's connection, in its transaction, for table statements (inserts, updates and deletes of a
    step's own rows, and reads of plain rows). Executing there skips the session's ORM execution layer, which costs
    more than a table statement itself. What that layer did for one is kept: pending ORM changes are flushed first
    (as Session.execute's autoflush would, so rows keep the order in which they were made), unless the caller is
    inside `no_autoflush`. It also ran the session's execute listeners: write_columns() keeps the one that
    matters (the audit log's) itself; the runtime's own statements only insert history."""
    session = db.session()
    if session.autoflush:
        session.flush()  # nothing to do, and next to free, when nothing is pending
    return session.connection()


_statements: dict[tuple[str, frozenset[str]], Update] = {}


def write_columns(obj: Any, **values: Any) -> None:
    """UPDATE the row of persistent `obj` with `values` now, in the session's transaction, and tell the object the
    values are its committed state, so no later flush writes them again. For plain columns of single-key rows."""
    state = inspect(obj)
    if not state.persistent:
        raise ValueError(f"write_columns needs a row already in the database, not {state!r}")
    mapper = state.mapper
    table = mapper.local_table
    if table.name == Event.__tablename__:  # what the session's execute listener refuses (app/audit/log.py)
        raise AuditLogIsAppendOnly(f"audit event {state.identity} may not be changed")
    key = (table.name, frozenset(values))
    statement = _statements.get(key)
    if statement is None:  # built once per table and set of columns
        (pk,) = mapper.primary_key
        statement = update(table).where(pk == bindparam("_row_key"))
        _statements[key] = statement
    identity = mapper.primary_key_from_instance(obj)[0]
    table_connection().execute(statement, {**values, "_row_key": identity})
    for name, value in values.items():
        set_committed_value(obj, name, value)
