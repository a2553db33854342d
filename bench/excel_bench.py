"""Excel at county scale: importing the household registry and exporting the county-wide roster (附件1).

Each figure sits beside openpyxl's own time for the same file in the same run (read-only iteration for the
import, a write-only save of the same rows for the export), so the ratio says what our checks, queries and
formatting cost on top of the library.

    .venv/bin/python -m bench.excel_bench [--households 60000] [--roster-rows 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook  # noqa: TID251 (the yardstick: openpyxl on its own)
from sqlalchemy import insert, select

from bench.stats import Timing, measure, measure_beside, report

ROOT = Path(__file__).resolve().parent.parent
VILLAGES = 161
MONTH = "2026-11"
NATIONAL_HEADERS = ["县", "乡(镇)", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "人数", "脱贫年度", "户类型"]


class PostgresCounty:
    """The same county in PostgreSQL (production's database): built once as a template database; each run works on
    a fresh copy of it (CREATE DATABASE … TEMPLATE, PostgreSQL's file copy), as the SQLite runs do on a file copy."""

    def __init__(self, url: str) -> None:
        self.base, self.template = url.rsplit("/", 1)
        self.run = self.template + "_run"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def _admin(self, *statements: str, database: str = "postgres") -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
        engine.dispose()

    def build(self, households_per_village: int) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)', f'CREATE DATABASE "{self.template}"')
        build_database(self.url(self.template), households_per_village)
        # The planner's statistics, as a database in use has them (autovacuum's ANALYZE): without them PostgreSQL
        # guesses at the freshly loaded tables, and each copy inherits the guess.
        self._admin("ANALYZE", database=self.template)

    def fresh(self) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{self.run}" WITH (FORCE)',
                    f'CREATE DATABASE "{self.run}" TEMPLATE "{self.template}"')
        return self.url(self.run)

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.run}" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def make_app(database: Path | str) -> Any:
    from app import create_app

    url = database if isinstance(database, str) else f"sqlite:///{database}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def build_database(database: Path | str, households_per_village: int) -> None:
    from flask_migrate import upgrade

    from app.demo import load_demo
    from app.extensions import db
    from app.processes import deploy_directory

    app = make_app(database)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        deploy_directory(app.config["PROCESSES_DIR"])
        load_demo("Bench-2026", households_per_village=households_per_village)
        db.session.commit()
        db.engine.dispose()


def empty_copy(full: Path, target: Path) -> None:
    """The same county without its households: areas and users only (the import's starting point).
    Made by deleting, because the demo generator names villages from the same random stream as households."""
    import sqlite3

    shutil.copyfile(full, target)
    with sqlite3.connect(target) as connection:
        connection.execute("DELETE FROM household_member")
        connection.execute("DELETE FROM household")
    with sqlite3.connect(target) as connection:
        connection.execute("VACUUM")


def write_registry_file(database: Path, target: Path) -> int:
    """The demo households as the national system exports them: one row per person."""
    from app.extensions import db
    from app.models import Area, Household, Member

    app = make_app(database)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("户成员信息")
    sheet.append(NATIONAL_HEADERS)
    rows = 0
    with app.app_context():
        names = dict(db.session.execute(select(Area.code, Area.name)).all())
        stmt = (select(Household, Member).join(Member, Member.household_id == Household.id)
                .order_by(Household.id, Member.id))
        for household, member in db.session.execute(stmt).yield_per(5000):
            sheet.append(["石泉县", names[household.town_code], names[household.village_code], household.household_no,
                          member.name, member.id_number, member.relation, household.size,
                          household.lifted_year if household.kind == "lifted" else "",
                          "脱贫户" if household.kind == "lifted" else "非贫困户"])
            rows += 1
        db.engine.dispose()
    workbook.save(target)
    return rows


def register_roster(database: Path, rows: int) -> None:
    """This month's screening in every village, with `rows` households registered at risk across the county."""
    from app.extensions import db
    from app.models import Household, RiskRegistration, Screening
    from app.screenings.operations import start_monthly_screening

    app = make_app(database)
    with app.app_context():
        start_monthly_screening(MONTH, None)
        db.session.commit()
        screening_of = dict(db.session.execute(select(Screening.village_code, Screening.id)).all())
        households = db.session.execute(select(Household.id, Household.village_code).order_by(Household.id)).all()
        step = max(1, len(households) // rows)
        chosen = households[::step][:rows]
        db.session.execute(insert(RiskRegistration), [
            {"screening_id": screening_of[village], "household_id": hid, "risk_type": "major_illness",
             "reason": "家庭主要劳动力患重大疾病，医疗支出大，收入骤减，存在返贫风险"} for hid, village in chosen])
        db.session.commit()
        db.engine.dispose()


def bench_export(database: Path, repeat: int) -> tuple[Timing, Timing, int]:
    from app.extensions import db
    from app.reports.annexes import roster_rows
    from app.reports.exports import export_annex
    from app.reports.scope import ReportMonth, resolve_scope

    app = make_app(database)
    with app.app_context():
        month, scope = ReportMonth.parse(MONTH), resolve_scope(None, "610922")
        count = 0

        def export() -> None:
            nonlocal count
            count = export_annex("roster", month, scope, "石泉县", date(2026, 11, 29), io.BytesIO())

        ours = measure("export county roster (附件1)", export, repeat)
        values = [(i, r.town, r.village, r.head_name, r.head_id_number, r.size, r.lifted_year, r.risk_type,
                   r.reason, r.cadre) for i, r in enumerate(roster_rows(month, scope), start=1)]

        def floor() -> None:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet()
            for row in values:
                sheet.append(row)
            workbook.save(io.BytesIO())

        library = measure("openpyxl write-only, same rows", floor, repeat)
        db.engine.dispose()
    return ours, library, count


def bench_import(empty_database: Path, registry: Path, repeat: int, workdir: Path,
                 postgres_url: str | None = None,
                 limits: dict[str, int] | None = None) -> tuple[Timing, Timing, Timing]:
    """The registry imported into the county without households by the CLI, beside openpyxl's read of the file.
    With `postgres_url` (a benchmark database's URL), into PostgreSQL: the county is copied there once and each run
    imports into a fresh copy of it (CREATE DATABASE … TEMPLATE). `limits`: upload limits raised in the CLI's
    environment, as a county with a registry larger than the defaults allow sets them (README, Production)."""
    target = workdir / "import.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{target}", **{k: str(v) for k, v in (limits or {}).items()}}
    command = [sys.executable, "-m", "flask", "--app", "app", "households", "import", str(registry)]

    template = postgres_url + "_template" if postgres_url else None
    if postgres_url and template:
        from bench import postgres

        postgres.fresh_database(template)
        postgres.copy_from_sqlite(empty_database, template)
        env["DATABASE_URL"] = postgres_url

    def fresh_copy() -> None:
        if postgres_url and template:
            postgres.copy_database(template, postgres_url)
        else:
            shutil.copyfile(empty_database, target)

    def run_import() -> None:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"import failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    def floor() -> None:
        workbook = load_workbook(registry, read_only=True)
        for _row in workbook.active.iter_rows(values_only=True):
            pass
        workbook.close()

    # In turns with openpyxl's read of the same file (the machine is shared: see bench/stats.py).
    first, library = measure_beside("import registry into an empty county", run_import,
                                    "openpyxl read-only, same file", floor, repeat, setup=fresh_copy)
    again = measure("re-import the same file (no changes)", run_import, repeat)
    if postgres_url:
        from bench import postgres

        postgres.drop_database(postgres_url)
        postgres.drop_database(postgres_url + "_template")
    return first, again, library


DEPARTMENT_HEADERS = ["参保人姓名", "身份证号码", "医疗总费用", "报销金额", "个人自付", "结算日期"]


def write_department_list(database: Path, target: Path, rows: int, warn_every: int | None = 100) -> int:
    """The medical-insurance bureau's monthly list of `rows` settlements of the county's members (one in
    `warn_every` over the yearly out-of-pocket amount; none when None), in its own columns, as an office's Excel
    would hold it."""
    from app.extensions import db
    from app.models import Member

    app = make_app(database)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("结算明细")
    sheet.append(DEPARTMENT_HEADERS)
    written = 0
    with app.app_context():
        for number, (name, id_number) in enumerate(db.session.execute(
                select(Member.name, Member.id_number).order_by(Member.id).limit(rows)).yield_per(5000)):
            out_of_pocket = 12000 if warn_every and number % warn_every == 0 else 300 + number % 900
            sheet.append([name, id_number, out_of_pocket * 4, out_of_pocket * 3, out_of_pocket,
                          f"{MONTH}-{1 + number % 28:02d}"])
            written += 1
        db.engine.dispose()
    workbook.save(target)
    return written


def bench_department_list(full: Path | PostgresCounty, department_list: Path, repeat: int, workdir: Path,
                          label: str = "department list: check, match, rules, leads") -> tuple[Timing, Timing,
                                                                                                  dict[str, int]]:
    """部门筛查预警: the department's upload (read in the bounded child, every row checked, matched to the registry's
    members, the rules tested, the records stored and the leads raised, committed) on a fresh copy of the county each
    run (a SQLite file, or a PostgreSQL database), beside openpyxl's own read-only iteration of the same file."""
    from app.extensions import db
    from app.models import User

    target = workdir / "department.sqlite3"
    state: dict[str, Any] = {}

    def fresh_copy() -> None:
        if isinstance(full, PostgresCounty):
            app = make_app(full.fresh())
        else:
            shutil.copyfile(full, target)
            app = make_app(target)
        app.config["IMPORTS_FOLDER"] = str(workdir / "imports")
        state["app"] = app

    def upload() -> None:
        from app.departments.uploads import upload_list

        app = state["app"]
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == "department_yibao"))
            with open(department_list, "rb") as stream:
                outcome = upload_list(user, MONTH, stream, department_list.name)
            db.session.commit()
            state["counts"] = {"rows": outcome.upload.rows_total, "matched": outcome.upload.rows_matched,
                               "warned": outcome.upload.rows_warned, "leads": outcome.upload.leads_created}
            db.engine.dispose()

    def floor() -> None:
        workbook = load_workbook(department_list, read_only=True)
        for _row in workbook.active.iter_rows(values_only=True):
            pass
        workbook.close()

    ours, library = measure_beside(label, upload, "openpyxl read-only, same file", floor, repeat, setup=fresh_copy)
    return ours, library, state.get("counts", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--roster-rows", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--import-repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "instance" / "bench-excel.json")
    args = parser.parse_args()
    per_village = math.ceil(args.households / VILLAGES)
    with tempfile.TemporaryDirectory(prefix="bench-excel-") as folder:
        workdir = Path(folder)
        started = time.perf_counter()
        full, empty = workdir / "county.sqlite3", workdir / "areas.sqlite3"
        build_database(full, per_village)
        empty_copy(full, empty)
        registry = workdir / "registry.xlsx"
        people = write_registry_file(full, registry)
        register_roster(full, args.roster_rows)
        print(f"set-up: {per_village * VILLAGES} households, {people} person rows "
              f"({registry.stat().st_size / 1e6:.1f} MB), {time.perf_counter() - started:.0f} s", flush=True)
        export, export_floor, count = bench_export(full, args.repeat)
        first, again, import_floor = bench_import(empty, registry, args.import_repeat, workdir)
    print(f"\nroster rows exported: {count}")
    print(report([(export, export_floor), (first, import_floor), (again, import_floor)]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "households": per_village * VILLAGES, "person_rows": people, "roster_rows": count,
        "timings": [t.as_dict() for t in (export, export_floor, first, again, import_floor)],
    }, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
