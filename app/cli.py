"""flask --app app … : command groups per noun."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.extensions import db
from app.households.cli import households as households_cli


def register_cli(app: Flask, migrations: Path) -> None:
    # Alembic (through Flask-Migrate: `flask db …`, and init-db below) is loaded here, for commands only.
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(migrations), render_as_batch=True)
    app.cli.add_command(init_db)
    app.cli.add_command(load_demo_command)
    app.cli.add_command(timers)
    app.cli.add_command(overviews)
    app.cli.add_command(processes)
    app.cli.add_command(screenings)
    app.cli.add_command(households_cli)
    app.cli.add_command(roster)
    app.cli.add_command(ledger)
    app.cli.add_command(backup)
    app.cli.add_command(audit)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Apply the migrations and deploy the diagrams of processes/: a changed one becomes the new version, unless
    the county's administrator deployed a version of their own, which is kept (the shipped one is offered)."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    from app.processes import deploy_directory

    report = deploy_directory(current_app.config["PROCESSES_DIR"])
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    from app.identification.operations import open_pending_cases

    opened = open_pending_cases()
    db.session.commit()
    if opened:
        click.echo(f"opened the national case of {opened} risk lead(s) confirmed before this version")
    click.echo("database ready")


@click.command("load-demo")
@with_appcontext
@click.option("--households-per-village", default=20, show_default=True, type=int)
@click.option("--villages-per-town", default=None, type=int, help="default: about 161 villages in all")
@click.option("--towns", default=None, type=int, help="only the first N towns")
@click.option("--empty", is_flag=True, help="the bare county only: areas, households and users, no year of work")
@click.option("--counties", default=1, show_default=True, type=click.IntRange(1, 500),
              help="a city of N counties (石泉县 first, with the year of work; the others bare), with the city's and "
                   "the province's supervisors")
def load_demo_command(households_per_village: int, villages_per_town: int | None, towns: int | None,
                      empty: bool, counties: int) -> None:
    """Load the demo county (石泉县) into an empty database, with the year of work before today made through the
    app's own operations (unless --empty). Does nothing for what is there already."""
    import time

    from app.demo import load_demo
    from app.demo_history import load_demo_history

    counts = load_demo(current_app.config["DEMO_PASSWORD"], towns=towns, villages_per_town=villages_per_town,
                       households_per_village=households_per_village, counties=counties)
    db.session.commit()
    if not counts["areas"]:
        click.echo("demo county already loaded")
    else:
        click.echo("loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if empty:
        return
    started = time.monotonic()
    click.echo("loading the demo county's year of work (screenings, cases, closures) …", nl=False)
    history = load_demo_history(progress=lambda month: click.echo(f" {month}", nl=False))
    click.echo("")
    if not history:
        click.echo("the demo county has its history already")
    else:
        click.echo(f"made {history.get('steps', 0)} steps in {time.monotonic() - started:.0f} s: "
                   + ", ".join(f"{v} {k}" for k, v in history.items() if k != "steps"))


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@click.group(cls=AppGroup)
def timers() -> None:
    """BPMN timers (公示期满 …)."""


@timers.command("run")
@click.option("--once", is_flag=True, help="process the due timers once and exit")
@click.option("--interval", default=30, show_default=True, help="seconds between polls")
@click.option("--now", "now_text", default=None, help="pretend it is this time (ISO 8601; for drills and tests)")
def timers_run(once: bool, interval: int, now_text: str | None) -> None:
    from app.supervision.snapshots import refresh_overviews
    from app.workflow.runtime import process_due_timers

    now = _parse_now(now_text)
    while True:
        moved = process_due_timers(now)
        if moved or once:
            click.echo(f"fired timers of {moved} instance(s)")
        # The city's and the province's overviews, when due (and one worker of several takes it on).
        refreshed = refresh_overviews(now)
        if refreshed or once:
            click.echo(f"refreshed {refreshed} overview snapshot(s)")
        if once:
            return
        time.sleep(interval)


@click.group(cls=AppGroup)
def overviews() -> None:
    """The city's and the province's overviews (snapshots the timer workers refresh)."""


@overviews.command("refresh")
def overviews_refresh() -> None:
    """Compute them now (after a deployment or a large import), whatever the time of the last refresh."""
    from app.supervision.snapshots import refresh_overviews

    started = time.perf_counter()
    written = refresh_overviews(force=True)
    click.echo(f"refreshed {written} overview snapshot(s) in {time.perf_counter() - started:.1f} s")


@click.group(cls=AppGroup)
def processes() -> None:
    """Process diagrams."""


@processes.command("check")
@click.argument("directory", required=False)
def processes_check(directory: str | None) -> None:
    """Check the diagrams: lanes are roles, forms exist, conditions read form fields."""
    from app.processes import check_diagrams

    folder = Path(directory or current_app.config["PROCESSES_DIR"])
    files = {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.bpmn"))}
    problems = check_diagrams(files)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(files)} diagram(s) OK")


@click.group(cls=AppGroup)
def screenings() -> None:
    """Monthly screening."""


@screenings.command("start")
@click.option("--month", required=True, help="YYYY-MM")
def screenings_start(month: str) -> None:
    """Start the month's screening in every village (idempotent)."""
    from app.errors import DomainError
    from app.screenings.operations import start_monthly_screening

    try:
        created = start_monthly_screening(month, actor=None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"started {len(created)} screening(s) for {month}")


@click.group(cls=AppGroup)
def roster() -> None:
    """附件1 返贫风险对象花名册."""


@click.group(cls=AppGroup)
def ledger() -> None:
    """附件2 返贫风险对象帮扶措施台账."""


def _export_command(kind: str) -> click.Command:
    @click.command("export")
    @with_appcontext
    @click.option("--month", default=None, help="YYYY-MM; default: this month")
    @click.option("--town", default=None, help="9-digit town code")
    @click.option("--village", default=None, help="12-digit village code")
    @click.option("--county", default=None, help="6-digit county code (default: COUNTY_CODE)")
    @click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
                  help="file to write; default: the official file name in the current folder")
    def export(month: str | None, town: str | None, village: str | None, county: str | None,
               output: str | None) -> None:
        """Write the annex for the whole county, one town or one village."""
        import os
        import tempfile
        from pathlib import Path

        from app.areas import county_name_of
        from app.clock import china_today
        from app.errors import DomainError
        from app.reports.exports import ANNEXES, export_annex
        from app.reports.scope import ReportMonth, resolve_scope

        if town and village:
            raise click.UsageError("give --town or --village, not both")
        try:
            report_month = ReportMonth.parse(month) if month else ReportMonth.of(china_today())
            scope = resolve_scope(village or town or county, current_app.config["COUNTY_CODE"])
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        county_name = county_name_of(scope.code)
        target = Path(output or ANNEXES[kind].filename(county_name, report_month, scope))
        # Write beside the target and rename, so a failed export never leaves half a file behind.
        handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=target.parent.resolve())
        try:
            with os.fdopen(handle, "wb") as out:
                count = export_annex(kind, report_month, scope, county_name, china_today(), out)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _log_cli_export("annex_exported", target.name,
                        {"annex": kind, "month": report_month.key, "area": scope.code, "households": count})
        click.echo(f"wrote {target} ({count} household(s), {scope.unit_label}, {report_month.label})")

    return export


def _log_cli_export(kind: str, filename: str, data: dict[str, object]) -> None:
    """Exports from the command line are audited like downloads; "from where" is the operating-system account."""
    import getpass
    import socket

    from app.audit.log import record
    from app.extensions import db

    entry = record(kind, None, filename, {**data, "via": "cli"})
    entry.remote_addr = f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64]
    db.session.commit()


@click.group()
def audit() -> None:
    """The audit log (append-only)."""


@audit.command("export")
@with_appcontext
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD (China time); default: 30 days ago")
@click.option("--to", "end", default=None, help="last day, YYYY-MM-DD, included; default: today")
@click.option("--kind", default=None, help="only this event kind, e.g. login, task_completed, id_number_revealed")
@click.option("--user", "username", default=None, help="only this user name")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
def audit_export(start: str | None, end: str | None, kind: str | None, username: str | None, output: str) -> None:
    """Write the audit log of a period as a print-ready Excel list."""
    import os
    import tempfile
    from pathlib import Path

    from app.audit.log import AuditQuery, write_audit_workbook
    from app.clock import china_today

    try:
        query = AuditQuery.parse(start, end, kind, username, today=china_today())
    except ValueError as exc:
        raise click.UsageError(f"{exc} (dates are YYYY-MM-DD, --from not after --to)") from exc
    target = Path(output)
    handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=target.parent.resolve())
    try:
        with os.fdopen(handle, "wb") as out:
            count = write_audit_workbook(query, current_app.config["COUNTY_NAME"], out)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _log_cli_export("audit_exported", target.name, {"start": query.start.isoformat(), "end": query.end.isoformat(),
                                                     "kind": query.kind, "user": query.username, "events": count})
    click.echo(f"wrote {target} ({count} event(s), {query.start} to {query.end})")


roster.add_command(_export_command("roster"))
ledger.add_command(_export_command("ledger"))


@click.group(cls=AppGroup)
def backup() -> None:
    """Backups of the SQLite database (PostgreSQL: pg_dump / pg_restore)."""


@backup.command("create")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the backup file to write")
def backup_create(output: str) -> None:
    """A consistent copy of the live database, taken while the app runs."""
    from pathlib import Path

    from app.backup import BackupRefused, create_backup

    try:
        size = create_backup(Path(output))
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {output} ({size} bytes, integrity ok)")


@backup.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="confirm: the current data is replaced")
def backup_restore(backup_file: str, yes: bool) -> None:
    """Replace the database with a backup (stop the server and the timer workers first)."""
    from pathlib import Path

    from app.backup import BackupRefused, restore_backup

    if not yes:
        raise click.ClickException("restoring replaces every record; run again with --yes to confirm")
    try:
        restore_backup(Path(backup_file))
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database restored from {backup_file}")
