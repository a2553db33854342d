"""flask --app app households … : the registry import for scripted use."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from app.excel.reading import SpreadsheetRefused
from app.extensions import db

households = AppGroup("households", help="Household registry (农户名单).")


@households.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--valid-only", is_flag=True, help="store the valid households and report the others")
@click.option("--dry-run", is_flag=True, help="check and report, store nothing")
@click.option("--county", default=None, help="6-digit code of the county whose registry FILE is (default: COUNTY_CODE)")
def import_command(file: Path, valid_only: bool, dry_run: bool, county: str | None) -> None:
    """Import FILE (.xlsx: the national system's export or the template). Exits 1 when it refuses."""
    from app.errors import DomainError
    from app.households.operations import import_households, registry_county

    started = time.perf_counter()
    try:
        outcome = import_households(file, county=registry_county(county), valid_only=valid_only, dry_run=dry_run)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    except SpreadsheetRefused as exc:
        db.session.rollback()
        click.echo(f"refused: {exc.message}", err=True)
        raise SystemExit(1) from exc
    for error in outcome.errors:
        where = f"row {error.row}" if error.row else "file"
        click.echo(f"{where}, {error.column or '-'}: {error.message}", err=True)
    counts = outcome.counts
    summary = (f"created {counts.created}, updated {counts.updated}, unchanged {counts.unchanged}, "
               f"rejected {counts.rejected} household(s)")
    if outcome.stored:
        db.session.commit()
        click.echo(f"stored: {summary} ({outcome.validation.person_rows} person rows, "
                   f"{time.perf_counter() - started:.1f} s)")
        return
    db.session.rollback()
    if dry_run and not outcome.errors:
        click.echo(f"dry run, nothing stored: would have {summary}")
        return
    if dry_run and valid_only and not outcome.validation.refused:
        click.echo(f"dry run, nothing stored: would have {summary}")
        raise SystemExit(1)
    click.echo(f"refused: {len(outcome.errors)} error(s), nothing stored"
               + ("" if outcome.validation.refused else " (use --valid-only to store the valid households)"),
               err=True)
    raise SystemExit(1)


@households.command("template")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def template_command(output: Path) -> None:
    """Write the blank import template (.xlsx)."""
    from app.households.workbooks import write_template

    with open(output, "wb") as out:
        write_template(out)
    click.echo(f"wrote {output}")
