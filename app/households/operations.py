"""Household registry import as operations shared by the web (a background job) and the CLI."""

from __future__ import annotations

import gc
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from flask import Flask, current_app
from sqlalchemy import update

from app.access import can_import_households, in_area
from app.areas import county_of
from app.clock import china_today, utcnow
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.excel.bounded import Budget
from app.excel.reading import Limits, SpreadsheetRefused, check_container, save_upload
from app.extensions import db, table_of
from app.households.importer import Counts, RowError, Validation, counts, store, validate_file
from app.models import Area, ImportJob, User

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024
ERRORS_KEPT = 500  # errors kept on the job row for the page; the error workbook has them all
STALE_AFTER = timedelta(hours=3)


def import_limits() -> Limits:
    return Limits.from_config(current_app.config)


def import_budget() -> Budget:
    return Budget.from_config(current_app.config)


def uploads_folder() -> Path:
    """Uploads and error workbooks: instance/imports unless IMPORTS_FOLDER says otherwise."""
    return Path(current_app.config.get("IMPORTS_FOLDER") or Path(current_app.instance_path) / "imports")


@dataclass(frozen=True)
class ImportOutcome:
    validation: Validation
    counts: Counts
    stored: bool

    @property
    def errors(self) -> list[RowError]:
        return self.validation.errors


def registry_county(code: str | None = None) -> Area:
    """The county whose registry an import is: the one a code lies in (a user's area), by default the county the
    deployment was set up for (COUNTY_CODE)."""
    county = county_of(code or current_app.config["COUNTY_CODE"])
    if county is None:
        raise InvalidInput("农户名单按县导入：请选择一个县")
    return county


def import_households(path: Path, *, county: Area | None = None, valid_only: bool = False, dry_run: bool = False,
                      progress: Callable[[int, int | None], None] | None = None) -> ImportOutcome:
    """Check the file as the county's registry (by default the deployment's county); store it when it is wholly
    valid (or, with valid_only, its valid households). Raises SpreadsheetRefused for a file that cannot be read at
    all. Flushes only; the caller commits."""
    with cycle_collector_paused():
        validation = validate_file(path, limits=import_limits(), budget=import_budget(),
                                   county=county or registry_county(), today=china_today(), progress=progress)
        may_store = not validation.refused and (valid_only or not validation.errors)
        if may_store and not dry_run:
            return ImportOutcome(validation, store(validation), True)
        return ImportOutcome(validation, counts(validation), False)


_pauses = 0
_pauses_lock = threading.Lock()
_collector_was_enabled = True


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """An import builds hundreds of thousands of long-lived objects and no garbage cycles worth collecting; the
    cyclic collector would walk them again and again (4.6 of 29 s for 60,053 households). Paused for the import
    (CLI or web job); concurrent imports (web jobs run in threads) resume it when the last one ends. While paused it
    does not run for the rest of the process either; reference counting still frees nearly everything."""
    global _pauses, _collector_was_enabled
    with _pauses_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_enabled:
                gc.enable()


# ---- background jobs (web) --------------------------------------------------------------------------------

def create_import_job(stream: IO[bytes], file_name: str, valid_only: bool, actor: User,
                      kind: str = "households") -> ImportJob:
    """Keep the upload under the instance folder and queue a job for it (`kind` "reconcile": the comparison with
    the national system's export, app.exchange). Hostile containers (not an xlsx, encrypted, legacy .xls, zip
    bombs) are refused here, before any job exists."""
    if not can_import_households(actor):
        raise PermissionDenied("只有县办和系统管理员可以导入农户名单")
    stored_name = secrets.token_hex(12) + ".xlsx"
    target = uploads_folder() / stored_name
    save_upload(stream, target, int(current_app.config.get("HOUSEHOLD_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD)))
    try:
        check_container(target, import_limits())
    except SpreadsheetRefused:
        target.unlink(missing_ok=True)
        raise
    job = ImportJob(kind=kind, status="queued", file_name=(file_name or "upload.xlsx")[-255:],
                    stored_name=stored_name, valid_only=valid_only, created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    return job


def get_import_job(job_id: int, actor: User, kind: str = "households") -> ImportJob:
    if not can_import_households(actor):
        raise PermissionDenied("只有县办和系统管理员可以查看导入记录")
    job = db.session.get(ImportJob, job_id)
    if job is None or job.kind != kind or not in_area(actor, job_county(job).code):
        raise NotFound("导入记录不存在")
    if job.running and utcnow() - job.created_at > STALE_AFTER:
        # The process that ran it is gone (a restart); its transaction never committed.
        job.status, job.message = "failed", "导入被中断（服务曾重新启动），未保存任何数据，请重新上传"
        db.session.commit()
    return job


def job_county(job: ImportJob) -> Area:
    """The county whose registry a job's file is: its uploader's."""
    return registry_county(job.created_by.area_code if job.created_by is not None else None)


def error_workbook_path(job: ImportJob) -> Path:
    return uploads_folder() / job.stored_name.replace(".xlsx", "-errors.xlsx")


def set_job(job_id: int, **values: object) -> None:
    """Progress goes through its own short transaction, so the page sees it while the import runs."""
    with db.engine.begin() as connection:
        connection.execute(update(table_of(ImportJob)).where(table_of(ImportJob).c.id == job_id).values(**values))


def run_import_job(job_id: int) -> None:
    """Validate (writing nothing but progress), then store everything in one transaction. An edge: commits."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "queued" or job.kind != "households":
        return
    source, errors_path = uploads_folder() / job.stored_name, error_workbook_path(job)
    valid_only = job.valid_only
    db.session.rollback()
    set_job(job_id, status="validating", started_at=utcnow())
    try:
        with cycle_collector_paused():  # as the CLI import
            finish = _validate_and_store(source, errors_path, job_id, valid_only)
        # The job's last word once the collector runs again: whoever sees the job finished sees that too.
        finish()
    except Exception:
        db.session.rollback()
        log.exception("household import job %s failed", job_id)
        set_job(job_id, status="failed", finished_at=utcnow(),
                 message="导入时发生系统错误，未保存任何数据；请稍后重试或联系管理员")
    finally:
        source.unlink(missing_ok=True)


def _validate_and_store(source: Path, errors_path: Path, job_id: int, valid_only: bool) -> Callable[[], None]:
    """The job's work; returns what writes its final status (refused, or done with the households stored)."""
    from app.households.workbooks import write_error_copy

    try:
        validation = validate_for_job(source, job_id)
    except SpreadsheetRefused as exc:
        message = exc.message
        return lambda: set_job(job_id, status="refused", finished_at=utcnow(), message=message, error_count=1,
                                errors=[RowError(None, "", message).as_dict()])
    errors = validation.errors
    if errors and not validation.refused:
        write_error_copy(source, errors_path, errors, validation.header_row,
                         limits=import_limits(), budget=import_budget())
    summary = {"error_count": len(errors), "errors": [e.as_dict() for e in errors[:ERRORS_KEPT]],
               "has_error_workbook": bool(errors) and not validation.refused, "rows_done": validation.rows_read}
    if validation.refused or (errors and not valid_only):
        final = counts(validation)
        return lambda: set_job(job_id, status="refused", finished_at=utcnow(), rejected_count=final.rejected,
                                message="文件有错误，未导入任何数据；请按错误说明修改后重新上传", **summary)
    set_job(job_id, status="storing")
    stored = store(validation)
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
        status="done", finished_at=utcnow(), created_count=stored.created, updated_count=stored.updated,
        unchanged_count=stored.unchanged, rejected_count=stored.rejected, message=stored.as_text(), **summary))
    return db.session.commit  # the households and the job's "done" in one transaction


def validate_for_job(source: Path, job_id: int) -> Validation:
    """Check the job's file (writing nothing but its progress); the read transaction ends with it."""
    def progress(done: int, total: int | None) -> None:
        set_job(job_id, rows_done=done, rows_total=total)

    try:
        job = db.session.get(ImportJob, job_id)
        assert job is not None
        return validate_file(source, limits=import_limits(), budget=import_budget(), county=job_county(job),
                             today=china_today(), progress=progress)
    except SpreadsheetRefused:
        db.session.rollback()
        raise
    finally:
        db.session.rollback()  # end the read transaction of the validation phase


def start_import_thread(app: Flask, job_id: int,
                        work: Callable[[int], None] | None = None) -> threading.Thread:
    """Run the job (an import, or `work`) beside the web server's threads, in its own application context (its own
    session)."""
    thread = threading.Thread(target=_thread_main, args=(app, job_id, work or run_import_job),
                              name=f"household-import-{job_id}", daemon=True)
    thread.start()
    return thread


def _thread_main(app: Flask, job_id: int, work: Callable[[int], None]) -> None:
    with app.app_context():
        try:
            work(job_id)
        except Exception:  # never let a thread die silently: the job must say it failed
            log.exception("household import job %s crashed", job_id)
            try:
                set_job(job_id, status="failed", finished_at=utcnow(), message="导入时发生系统错误，未保存任何数据")
            except Exception:
                log.exception("could not mark import job %s failed", job_id)
        finally:
            db.session.remove()
