"""Set-at-a-time reads and writes for the paths that handle tens of thousands of rows (a department's monthly list),
each the fastest way its database offers, behind one call.

On PostgreSQL a list of values is one array parameter (`= ANY(%s)`): psycopg converts it once, where an IN list of
thousands of values is thousands of parameters to convert, and a statement the server plans anew for each length;
and rows are written with COPY, PostgreSQL's bulk path. On SQLite, IN lists and executemany are its fast paths.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import ARRAY, ColumnElement, Table, any_, insert, literal
from sqlalchemy.types import JSON

from app.extensions import db

SQLITE_CHUNK = 500  # values a statement on SQLite
POSTGRES_CHUNK = 10_000  # values an array parameter on PostgreSQL


def on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """`values` a statement's worth at a time."""
    size = POSTGRES_CHUNK if on_postgres() else SQLITE_CHUNK
    for start in range(0, len(values), size):
        yield values[start:start + size]


def one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL one array parameter."""
    if on_postgres():
        return column == any_(literal(list(values), ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def insert_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    """`rows` (dicts of the table's columns, all with the same keys) into `table`, in the session's transaction."""
    if not rows:
        return
    if not on_postgres():
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[start:start + 5000])
        return
    names = list(rows[0])
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    connection = db.session.connection().connection.driver_connection
    assert connection is not None
    columns = ", ".join(f'"{name}"' for name in names)
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Json(row[name]) if name in as_json and row[name] is not None else row[name]
                            for name in names])
