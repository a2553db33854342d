"""The exchange with the national system as operations for the web and the API: a reconciliation is a background
job (an ImportJob of kind "reconcile") that checks the national system's export and reports what differs, storing
nothing; applying it hands the same file to the registry import, which checks it again against the registry as it
is then and stores it whole or not at all."""

from __future__ import annotations

import logging
import secrets
import shutil
from datetime import timedelta
from pathlib import Path
from typing import IO

from app.access import can_exchange_with_national_system
from app.audit import log as audit
from app.clock import china_today, utcnow
from app.errors import InvalidInput, PermissionDenied
from app.excel.reading import SpreadsheetRefused
from app.exchange.reconcile import reconcile, write_report
from app.extensions import db
from app.households import operations as imports
from app.households.importer import RowError
from app.models import ImportJob, User

log = logging.getLogger(__name__)

KIND = "reconcile"
KEPT_FOR = timedelta(days=7)  # an unapplied reconciliation's file is kept this long, then removed


def _check(actor: User) -> None:
    if not can_exchange_with_national_system(actor):
        raise PermissionDenied("只有县办和系统管理员可以与国家系统交换数据")


def create_reconciliation(stream: IO[bytes], file_name: str, actor: User) -> ImportJob:
    """Keep the upload and queue its reconciliation (the same container checks as a registry import)."""
    _check(actor)
    _remove_expired_files()
    job = imports.create_import_job(stream, file_name, False, actor, kind=KIND)
    audit.record("national_reconciliation_started", actor, job.file_name, {"import_job_id": job.id})
    return job


def get_reconciliation(job_id: int, actor: User) -> ImportJob:
    _check(actor)
    return imports.get_import_job(job_id, actor, kind=KIND)


def report_path(job: ImportJob) -> Path:
    return imports.uploads_folder() / job.stored_name.replace(".xlsx", "-report.xlsx")


def file_kept(job: ImportJob) -> bool:
    return (imports.uploads_folder() / job.stored_name).exists()


def may_apply(job: ImportJob) -> bool:
    report = job.report or {}
    return (job.status == "done" and bool(report.get("applicable")) and not report.get("applied_job_id")
            and file_kept(job))


def run_reconciliation(job_id: int) -> None:
    """Check the file (progress only), compare, write the report; the file stays for applying. An edge: commits."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "queued" or job.kind != KIND:
        return
    source = imports.uploads_folder() / job.stored_name
    errors_path, report_file = imports.error_workbook_path(job), report_path(job)
    db.session.rollback()
    imports.set_job(job_id, status="validating", started_at=utcnow())
    keep = False
    try:
        with imports.cycle_collector_paused():
            try:
                validation = imports.validate_for_job(source, job_id)
            except SpreadsheetRefused as exc:
                imports.set_job(job_id, status="refused", finished_at=utcnow(), message=exc.message, error_count=1,
                                errors=[RowError(None, "", exc.message).as_dict()])
                return
            if validation.refused:
                imports.set_job(job_id, status="refused", finished_at=utcnow(), error_count=len(validation.errors),
                                errors=[e.as_dict() for e in validation.errors[:imports.ERRORS_KEPT]],
                                message="无法比对：文件不是国家系统导出的农户名单格式")
                return
            result = reconcile(validation)
            db.session.rollback()  # the comparison only read
        county, today = imports.job_county(job).name, china_today()
        write_report(result, report_file, f"{county}与国家系统数据比对", f"文件：{job.file_name}　比对日期：{today}")
        if validation.errors:
            from app.households.workbooks import write_error_copy

            write_error_copy(source, errors_path, validation.errors, validation.header_row,
                             limits=imports.import_limits(), budget=imports.import_budget())
        counts = result.as_report()["counts"]
        message = (f"新增 {counts['new']} 户，变更 {counts['changed']} 户，无变化 {counts['unchanged']} 户，"
                   f"缺失 {counts['missing']} 户，冲突 {counts['conflicting']} 户；未保存任何数据")
        keep = result.applicable
        imports.set_job(job_id, status="done", finished_at=utcnow(), rows_done=validation.rows_read,
                        error_count=len(validation.errors),
                        errors=[e.as_dict() for e in validation.errors[:imports.ERRORS_KEPT]],
                        has_error_workbook=bool(validation.errors), created_count=counts["new"],
                        updated_count=counts["changed"], unchanged_count=counts["unchanged"],
                        rejected_count=validation.rejected, report=result.as_report(), message=message)
    except Exception:
        db.session.rollback()
        log.exception("national reconciliation %s failed", job_id)
        imports.set_job(job_id, status="failed", finished_at=utcnow(),
                        message="比对时发生系统错误，请稍后重试或联系管理员")
    finally:
        if not keep:
            source.unlink(missing_ok=True)


def apply_reconciliation(job_id: int, actor: User) -> ImportJob:
    """Import the reconciled file into the registry: a registry import job of the same file (checked again).
    Flushes; the caller commits and starts the job."""
    job = get_reconciliation(job_id, actor)
    if job.status != "done":
        raise InvalidInput("比对尚未完成，不能导入")
    report = dict(job.report or {})
    if report.get("applied_job_id"):
        raise InvalidInput(f"该文件已导入（导入记录 {report['applied_job_id']}）")
    if not report.get("applicable"):
        raise InvalidInput("文件有错误，不能导入：请按比对报告修改后重新比对")
    source = imports.uploads_folder() / job.stored_name
    if not source.exists():
        raise InvalidInput("比对文件已过期被清除，请重新上传比对")
    stored_name = secrets.token_hex(12) + ".xlsx"
    # A copy: the reconciliation's own file goes once this is committed (discard_file), not before.
    shutil.copyfile(source, imports.uploads_folder() / stored_name)
    applied = ImportJob(kind="households", status="queued", file_name=job.file_name, stored_name=stored_name,
                        valid_only=False, created_by_id=actor.id)
    db.session.add(applied)
    db.session.flush()
    report["applied_job_id"] = applied.id
    job.report = report
    audit.record("national_reconciliation_applied", actor, job.file_name,
                 {"import_job_id": job.id, "households_job_id": applied.id})
    return applied


def discard_file(job: ImportJob) -> None:
    (imports.uploads_folder() / job.stored_name).unlink(missing_ok=True)


def _remove_expired_files() -> None:
    """Reconciled files never applied are personal data without a use: removed after KEPT_FOR."""
    folder = imports.uploads_folder()
    cutoff = utcnow() - KEPT_FOR
    for stored_name in db.session.scalars(db.select(ImportJob.stored_name).where(
            ImportJob.kind == KIND, ImportJob.created_at < cutoff)):
        (folder / stored_name).unlink(missing_ok=True)
