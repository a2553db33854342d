"""The benchmark's data on PostgreSQL: one county built on SQLite by the real services (bench/supervision_bench.py,
bench/bulk.py), copied with COPY, then cloned in SQL into a province of counties.

    url = fresh_database("postgresql+psycopg://postgres@127.0.0.1:5432/rpm_bench_city")
    copy_from_sqlite(Path("county.sqlite3"), url)        # the same schema, migrated on both sides
    clone_counties(url, 100)                             # 石泉县 and 99 more: 6 million households at 60,000 each

A clone is the template county with its codes moved to another county's (areas, households, ID numbers with their
check character recomputed, users renamed with the county's prefix) and every id offset by the template's largest,
so the clones carry the same open cases, history, screenings and checks, each pointing at its own rows. The clones'
workflow states are the template's (the read paths measured never deserialise them; a task the drivers complete is
always the template county's, built by the real services).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.demo_data import CITY, PROVINCE, demo_counties

TEMPLATE_COUNTY = "610922"
ID_CHECK = "10X98765432"  # GB 11643: the check character by the weighted sum modulo 11
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# What each cloned table's columns become; a column not named is copied as it is. ("id", None): the row's own id,
# offset; ("fk", table): another table's id, offset as that table's; ("code", None): an area code moved to the
# clone's county; ("idno", None): an ID number moved, check character recomputed; ("subject", None): the id of the
# case or screening the row is about.
CLONED: dict[str, dict[str, tuple[str, str | None]]] = {
    "household": {"id": ("id", None), "household_no": ("code", None), "village_code": ("code", None),
                  "town_code": ("code", None), "head_id_number": ("idno", None)},
    "household_member": {"id": ("id", None), "household_id": ("fk", "household"), "id_number": ("idno", None)},
    "user_account": {"id": ("id", None), "username": ("username", None), "area_code": ("code", None)},
    "workflow_instance": {"id": ("id", None)},
    "screening": {"id": ("id", None), "village_code": ("code", None), "town_code": ("code", None),
                  "instance_id": ("fk", "workflow_instance"), "started_by_id": ("fk", "user_account")},
    "household_case": {"id": ("id", None), "household_id": ("fk", "household"), "screening_id": ("fk", "screening"),
                       "village_code": ("code", None), "town_code": ("code", None),
                       "instance_id": ("fk", "workflow_instance"), "cadre_id": ("fk", "user_account")},
    "risk_registration": {"id": ("id", None), "screening_id": ("fk", "screening"),
                          "household_id": ("fk", "household"), "registered_by_id": ("fk", "user_account"),
                          "case_id": ("fk", "household_case")},
    "screening_check": {"id": ("id", None), "screening_id": ("fk", "screening"), "household_id": ("fk", "household"),
                        "village_code": ("code", None), "town_code": ("code", None),
                        "registration_id": ("fk", "risk_registration"), "recorded_by_id": ("fk", "user_account")},
    "measure": {"id": ("id", None), "case_id": ("fk", "household_case")},
    "ready_task": {"id": ("id", None), "instance_id": ("fk", "workflow_instance"), "task_uuid": ("uuid", None),
                   "village_code": ("code", None), "town_code": ("code", None),
                   "assignee_id": ("fk", "user_account"), "claimed_by_id": ("fk", "user_account"),
                   "subject_id": ("subject", None)},
    "element_visit": {"id": ("id", None), "instance_id": ("fk", "workflow_instance"),
                      "village_code": ("code", None), "town_code": ("code", None),
                      "actor_id": ("fk", "user_account"), "subject_id": ("subject", None)},
    "event": {"id": ("id", None), "instance_id": ("fk", "workflow_instance"), "actor_id": ("fk", "user_account"),
              "on_behalf_of_id": ("fk", "user_account"), "subject_id": ("subject", None)},
}
SUBJECTS = {"case": "household_case", "screening": "screening"}


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(libpq_url(url), **kwargs)


def reachable(url: str) -> bool:
    try:
        with psycopg.connect(libpq_url(make_url(url).set(database="postgres").render_as_string(False)),
                             connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def fresh_database(url: str) -> str:
    """Drop and create the database `url` names; migrate it to the app's schema."""
    name = make_url(url).database
    assert name and name.startswith("rpm_bench"), f"refusing to drop {name!r}: not a benchmark database"
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate(url)
    return url


def migrate(url: str) -> None:
    """The app's schema, by its migrations."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        from app.extensions import db

        db.engine.dispose()


def copy_database(source: str, target: str) -> None:
    """`target` made a copy of `source` (CREATE DATABASE … TEMPLATE: nobody may be connected to `source`)."""
    name, origin = make_url(target).database, make_url(source).database
    assert name and name.startswith("rpm_bench"), name
    admin = make_url(target).set(database="postgres").render_as_string(hide_password=False)
    with connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {}")
                           .format(sql.Literal(origin)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                              sql.Identifier(origin)))


def drop_database(url: str) -> None:
    name = make_url(url).database
    assert name and name.startswith("rpm_bench"), name
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _tables_in_order(connection: psycopg.Connection[Any]) -> list[str]:
    """The app's tables, each after the tables its foreign keys point at (self-references aside)."""
    tables = [row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version' ORDER BY table_name")]
    needs: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in connection.execute(
            "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"):
        if child != parent and child in needs and parent in needs:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if not parents - set(ordered))
        if not ready:  # a cycle: the remaining tables in name order (the copy defers nothing it does not need)
            ready = sorted(needs)
        for table in ready:
            ordered.append(table)
            del needs[table]
    return ordered


def _columns(connection: psycopg.Connection[Any], table: str) -> list[str]:
    return [row[0] for row in connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position", (table,))]


def reset_sequences(connection: psycopg.Connection[Any]) -> None:
    for table, column, sequence in connection.execute(
            "SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) "
            "FROM information_schema.columns c WHERE c.table_schema = 'public' "
            "AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL").fetchall():
        connection.execute(sql.SQL("SELECT setval({}, coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
            sql.Literal(sequence), sql.Identifier(column), sql.Identifier(table)))


def _copy_table(source: sqlite3.Connection, target: psycopg.Connection[Any], schema: str, table: str) -> int:
    """The SQLite table's rows into `schema`.`table` with COPY, the columns both have; the number of rows."""
    have = {row[1] for row in source.execute(f"PRAGMA table_info({table})")}
    columns = [c for c in _columns(target, table) if c in have]
    if not columns:
        return 0
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    rows = 0
    with target.cursor().copy(sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
            sql.Identifier(schema), sql.Identifier(table), names)) as copy:
        for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):  # noqa: S608 (schema names)
            copy.write_row(row)
            rows += 1
    return rows


def copy_from_sqlite(database: Path, url: str) -> dict[str, int]:
    """Every row of the SQLite `database` into the migrated PostgreSQL `url` (whose own rows, if the migrations
    wrote any, give way), with COPY, in foreign-key order; then the id sequences and the planner's statistics."""
    counts: dict[str, int] = {}
    source = sqlite3.connect(database)
    with connect(url) as target:
        target.execute("SET session_replication_role = replica")  # the audit log's triggers: these are old rows
        tables = _tables_in_order(target)
        target.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        for table in tables:
            counts[table] = _copy_table(source, target, "public", table)
        reset_sequences(target)
        target.commit()
    source.close()
    analyze(url)
    return {t: n for t, n in counts.items() if n}


def stage_template(database: Path, url: str) -> None:
    """The template county's rows of the tables clone_counties copies, from the SQLite `database` into the schema
    bench_template (no index, no constraint): the clones are made from the county as it was built, whatever the
    measurements did to it since."""
    source = sqlite3.connect(database)
    with connect(url) as target:
        target.execute("DROP SCHEMA IF EXISTS bench_template CASCADE")
        target.execute("CREATE SCHEMA bench_template")
        for table in ("area", *CLONED):
            target.execute(sql.SQL("CREATE TABLE bench_template.{t} (LIKE public.{t})").format(
                t=sql.Identifier(table)))
            _copy_table(source, target, "bench_template", table)
        target.commit()
    source.close()


def analyze(url: str) -> None:
    with connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _id_delta(county: str) -> int:
    """What moving an ID number from the template county to `county` adds to its weighted sum, modulo 11."""
    return sum((int(new) - int(old)) * weight
               for new, old, weight in zip(county, TEMPLATE_COUNTY, ID_WEIGHTS, strict=False)) % 11


def _expression(table: str, column: str, rule: tuple[str, str | None]) -> sql.Composable:
    kind, target = rule
    col = sql.Identifier(column)
    if kind == "id":
        return sql.SQL("{} + {} + k.j * {}").format(col, sql.Placeholder(f"base_{table}"),
                                                     sql.Placeholder(f"off_{table}"))
    if kind == "fk":
        return sql.SQL("{} + {} + k.j * {}").format(col, sql.Placeholder(f"base_{target}"),
                                                     sql.Placeholder(f"off_{target}"))
    if kind == "code":
        return sql.SQL("k.code || substr({}, 7)").format(col)
    if kind == "idno":
        return sql.SQL("k.code || substr({c}, 7, 11) || substr(%(check)s, "
                       "((strpos(%(check)s, right({c}, 1)) - 1 + k.id_delta) %% 11) + 1, 1)").format(c=col)
    if kind == "username":
        return sql.SQL("k.prefix || '_' || {}").format(col)
    if kind == "uuid":
        return sql.SQL("md5({} || k.k)::uuid::text").format(col)
    if kind == "subject":
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {} + {} + k.j * {}").format(sql.Literal(subject), col,
                                                              sql.Placeholder(f"base_{t}"), sql.Placeholder(f"off_{t}"))
            for subject, t in SUBJECTS.items())
        return sql.SQL("CASE subject_kind {} ELSE {} END").format(cases, col)
    raise ValueError(kind)


def clone_counties(url: str, counties: int, log: Any = print) -> dict[str, Any]:
    """Grow the province to `counties` counties: the province and city areas above the template county (with their
    supervisors), then the counties not there yet cloned from the template as staged (stage_template), with
    demo_counties' codes and names; then the id sequences and the planner's statistics. Called again with a larger
    number, it adds the difference."""
    chosen = demo_counties(counties)
    started = time.perf_counter()
    with connect(url) as connection:
        connection.execute("SET session_replication_role = replica")  # no audit triggers, no FK checks: a copy
        connection.execute("SET maintenance_work_mem = '1GB'")
        cities = sorted({parent for _county, parent in chosen})
        connection.execute("INSERT INTO area (code, name, level, parent_code) VALUES (%s, %s, 'province', NULL) "
                           "ON CONFLICT DO NOTHING", PROVINCE)
        for code in cities:
            name = CITY[1] if code == CITY[0] else f"演示{int(code[2:]) - 49}市"
            connection.execute("INSERT INTO area (code, name, level, parent_code) VALUES (%s, %s, 'city', %s) "
                               "ON CONFLICT DO NOTHING", (code, name, PROVINCE[0]))
        connection.execute("UPDATE area SET parent_code = %s WHERE code = %s", (CITY[0], TEMPLATE_COUNTY))
        connection.execute("INSERT INTO user_account (username, password_hash, full_name, role, area_code, unit, "
                           "active, created_at) SELECT v.username, u.password_hash, v.full_name, 'supervisor', "
                           "v.area, v.unit, true, now() FROM user_account u, (VALUES "
                           "('province_supervisor', '省督查员', %s, '省乡村振兴局'), "
                           "('city_supervisor', '市督查员', %s, '市乡村振兴局')) AS v(username, full_name, area, unit) "
                           "WHERE u.username = 'supervisor' ON CONFLICT DO NOTHING", (PROVINCE[0], CITY[0]))
        offsets = {f"off_{t}": int(connection.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM bench_template.{}")
                                                      .format(sql.Identifier(t))).fetchone()[0]) for t in CLONED}
        have = {row[0] for row in connection.execute("SELECT code FROM area WHERE level = 'county'")}
        new = [(k, code, prefix, name, parent, _id_delta(code))
               for k, ((code, name, prefix), parent) in enumerate(chosen) if k and code not in have]
        # Clone j of this call takes the ids above everything there is now (the app may have added rows since
        # the template was copied): base + j × the template's largest + the template row's id.
        clones = [(k, j, *rest) for j, (k, *rest) in enumerate(new)]
        bases = {f"base_{t}": int(connection.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(
            sql.Identifier(t))).fetchone()[0]) for t in CLONED}
        timings: dict[str, float] = {}
        if clones:
            connection.execute("CREATE TEMP TABLE clone_county (k int, j int, code text, prefix text, name text, "
                               "parent text, id_delta int)")
            with connection.cursor().copy("COPY clone_county FROM STDIN") as copy:
                for row in clones:
                    copy.write_row(row)
            connection.execute(
                "INSERT INTO area (code, name, level, parent_code) SELECT k.code, k.name, 'county', k.parent "
                "FROM clone_county k")
            connection.execute(
                "INSERT INTO area (code, name, level, parent_code, registered_households) "
                "SELECT k.code || substr(a.code, 7), a.name, a.level, k.code || substr(a.parent_code, 7), "
                "a.registered_households FROM clone_county k, bench_template.area a "
                "WHERE a.level IN ('town', 'village') ORDER BY k.k, a.level = 'village', a.code")
            params = {**offsets, **bases, "check": ID_CHECK, "template": TEMPLATE_COUNTY + "%"}
            for table, rules in CLONED.items():
                table_started = time.perf_counter()
                columns = _columns(connection, table)
                select = [_expression(table, c, rules[c]) if c in rules
                          else sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns]
                where = sql.SQL("AND t.role <> 'admin' AND t.area_code LIKE %(template)s") \
                    if table == "user_account" else sql.SQL("")
                statement = sql.SQL("INSERT INTO {table} ({columns}) SELECT {select} "
                                    "FROM clone_county k, bench_template.{table} t WHERE true {where} "
                                    "ORDER BY k.k, t.id").format(
                    table=sql.Identifier(table), columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    select=sql.SQL(", ").join(select), where=where)
                connection.execute(statement, params)
                connection.commit()
                connection.execute("SET session_replication_role = replica")
                timings[table] = round(time.perf_counter() - table_started, 1)
                log(f"    {table}: {len(clones)} more counties ({timings[table]} s)")
        reset_sequences(connection)
        connection.commit()
    analyze_started = time.perf_counter()
    analyze(url)
    return {"counties": counties, "counties_added": len(clones), "clone_seconds": timings,
            "analyze_seconds": round(time.perf_counter() - analyze_started, 1),
            "seconds": round(time.perf_counter() - started, 1)}


def table_counts(url: str, tables: tuple[str, ...] = ("household", "household_member", "household_case",
                                                      "ready_task", "screening", "screening_check", "element_visit",
                                                      "event", "workflow_instance", "user_account", "area")
                 ) -> dict[str, int]:
    with connect(url) as connection:
        counts = {t: int(connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t)))
                         .fetchone()[0]) for t in tables}
        counts["closed_cases"] = int(connection.execute(
            "SELECT count(*) FROM household_case WHERE status = 'closed'").fetchone()[0])
        counts["open_cases"] = int(connection.execute(
            "SELECT count(*) FROM household_case WHERE status <> 'closed'").fetchone()[0])
        counts["database_mb"] = int(connection.execute(
            "SELECT pg_database_size(current_database()) / 1048576").fetchone()[0])
    return counts
