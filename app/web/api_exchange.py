"""/api/v1 for the exchange with the national system: a reconciliation of its export (queued, then its report),
importing the reconciled file, following a registry import, and the monitoring roster and the month's changes in
the national columns."""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any

from flask import Response, current_app, g, jsonify, request

from app.access import can_exchange_with_national_system
from app.areas import county_name_of
from app.clock import china_today
from app.errors import InvalidInput, PermissionDenied
from app.exchange import export
from app.exchange import operations as exchange
from app.extensions import db
from app.households import operations as imports
from app.models import ImportJob
from app.replica import reads_from_replica
from app.reports.scope import ReportMonth, ReportScope, check_report_access, resolve_scope
from app.web.api import _iso, bp, token_required

LIMIT = 20000  # persons of one answer; `truncated` says when there were more (the Excel export has them all)


def job_json(job: ImportJob) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id, "kind": job.kind, "status": job.status, "file_name": job.file_name,
        "rows_total": job.rows_total, "rows_done": job.rows_done, "message": job.message,
        "error_count": job.error_count, "errors": list(job.errors or []), "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at)}
    if job.kind == exchange.KIND:
        body["report"] = job.report
        body["may_apply"] = exchange.may_apply(job)
    else:
        body.update(created=job.created_count, updated=job.updated_count, unchanged=job.unchanged_count,
                    rejected=job.rejected_count)
    return body


@bp.route("/national-reconciliations", methods=["POST"])
@token_required
def start_reconciliation() -> tuple[Response, int]:
    """The national system's export (multipart `file`, .xlsx): compared in the background, nothing stored."""
    sent = request.files.get("file")
    if not can_exchange_with_national_system(g.api_user):
        raise PermissionDenied("只有县办和系统管理员可以与国家系统交换数据")
    if sent is None or not sent.filename:
        raise InvalidInput("请上传国家系统导出的农户信息表（file，.xlsx）")
    job = exchange.create_reconciliation(sent.stream, sent.filename, g.api_user)
    db.session.commit()
    imports.start_import_thread(current_app._get_current_object(), job.id,  # type: ignore[attr-defined]
                                exchange.run_reconciliation)
    return jsonify(job_json(job)), 202


@bp.route("/national-reconciliations/<int:job_id>")
@token_required
def reconciliation(job_id: int) -> Response:
    return jsonify(job_json(exchange.get_reconciliation(job_id, g.api_user)))


@bp.route("/national-reconciliations/<int:job_id>/apply", methods=["POST"])
@token_required
def apply_reconciliation(job_id: int) -> tuple[Response, int]:
    """Import the reconciled file into the registry (checked again, stored whole or not at all)."""
    applied = exchange.apply_reconciliation(job_id, g.api_user)
    db.session.commit()
    exchange.discard_file(exchange.get_reconciliation(job_id, g.api_user))
    imports.start_import_thread(current_app._get_current_object(), applied.id)  # type: ignore[attr-defined]
    return jsonify(job_json(applied)), 202


@bp.route("/household-imports/<int:job_id>")
@token_required
def household_import(job_id: int) -> Response:
    return jsonify(job_json(imports.get_import_job(job_id, g.api_user)))


def _scope() -> ReportScope:
    if not can_exchange_with_national_system(g.api_user):
        raise PermissionDenied("只有县办和系统管理员可以与国家系统交换数据")
    scope = resolve_scope(request.args.get("area"), g.api_user.area_code)
    check_report_access(g.api_user, scope)
    return scope


def _table(columns: tuple[export.NationalColumn, ...], rows: Any) -> Response:
    headers = [c.header for c in columns]
    taken = [[v.isoformat() if isinstance(v, date) else v for v in row] for row in islice(rows, LIMIT + 1)]
    return jsonify({"columns": headers, "rows": [dict(zip(headers, row, strict=True)) for row in taken[:LIMIT]],
                    "truncated": len(taken) > LIMIT})


@bp.route("/national-exports/roster")
@token_required
@reads_from_replica
def national_roster() -> Response:
    """监测对象 in the national columns, one object per person (state: monitored | eliminated | all)."""
    scope = _scope()
    state = request.args.get("state") or "monitored"
    if state not in export.ROSTER_STATES:
        raise InvalidInput(f"state 应为 {'、'.join(export.ROSTER_STATES)} 之一")
    return _table(export.COLUMNS, export.roster_rows(scope, state, county_name_of(scope.code)))


@bp.route("/national-exports/changes")
@token_required
@reads_from_replica
def national_changes() -> Response:
    """The month's changes (month: YYYY-MM, default this month) in the national columns, one object per person."""
    scope = _scope()
    month = ReportMonth.parse(request.args.get("month") or ReportMonth.of(china_today()).key)
    return _table(export.CHANGE_COLUMNS, export.change_rows(scope, month, county_name_of(scope.code)))
