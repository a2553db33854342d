"""数据交换 with the national system (county office and admin): reconcile its export with the registry (a report
of what differs, nothing stored), then import it; export the monitoring roster and the month's changes in its
columns."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import can_exchange_with_national_system
from app.areas import county_name_of
from app.audit import log as audit
from app.clock import china_today
from app.errors import InvalidInput
from app.excel.reading import SpreadsheetRefused
from app.exchange import export
from app.exchange import operations as exchange
from app.exchange.reconcile import CONFLICT_KINDS
from app.extensions import db
from app.households import operations as imports
from app.models import ImportJob
from app.replica import reads_from_replica
from app.reports.scope import ReportMonth, ReportScope, check_report_access, resolve_scope

bp = Blueprint("exchange", __name__, url_prefix="/exchange")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _only_the_county_office() -> None:
    if not can_exchange_with_national_system(current_user):
        abort(403)


@bp.route("")
def index() -> tuple[str, int]:
    return _page()


def _page(message: str | None = None, status: int = 200) -> tuple[str, int]:
    jobs = db.session.scalars(select(ImportJob).where(ImportJob.kind == exchange.KIND)
                              .order_by(ImportJob.id.desc()).limit(20)).all()
    today = china_today()
    return render_template("exchange/index.html", jobs=jobs, message=message, states=export.ROSTER_STATES,
                           month=ReportMonth.of(today).key), status


@bp.route("/reconciliations", methods=["POST"])
def reconcile() -> Response | tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("请选择国家系统导出的农户信息表（.xlsx）", 422)
    try:
        job = exchange.create_reconciliation(upload.stream, upload.filename, current_user)
    except SpreadsheetRefused as exc:
        db.session.rollback()
        return _page(exc.message, exc.status)
    db.session.commit()
    imports.start_import_thread(current_app._get_current_object(), job.id,  # type: ignore[attr-defined]
                                exchange.run_reconciliation)
    return redirect(url_for("exchange.job", job_id=job.id), code=303)


@bp.route("/reconciliations/<int:job_id>")
def job(job_id: int) -> Response:
    found = exchange.get_reconciliation(job_id, current_user)
    response = make_response(render_template(
        "exchange/job.html", job=found, report=found.report or {}, may_apply=exchange.may_apply(found),
        conflict_kinds=CONFLICT_KINDS, report_ready=exchange.report_path(found).exists()))
    if found.running:
        response.headers["Refresh"] = "2"
    return response


@bp.route("/reconciliations/<int:job_id>/report.xlsx")
def report_workbook(job_id: int) -> Response:
    found = exchange.get_reconciliation(job_id, current_user)
    path = exchange.report_path(found)
    if not path.exists():
        abort(404)
    name = f"{found.file_name.rsplit('.', 1)[0]}-比对报告.xlsx"
    audit.record("national_reconciliation_exported", current_user, name, {"import_job_id": found.id})
    db.session.commit()
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/reconciliations/<int:job_id>/errors.xlsx")
def error_workbook(job_id: int) -> Response:
    found = exchange.get_reconciliation(job_id, current_user)
    path = imports.error_workbook_path(found)
    if not found.has_error_workbook or not path.exists():
        abort(404)
    name = f"{found.file_name.rsplit('.', 1)[0]}-错误说明.xlsx"
    audit.record("import_errors_exported", current_user, name, {"import_job_id": found.id})
    db.session.commit()
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/reconciliations/<int:job_id>/apply", methods=["POST"])
def apply(job_id: int) -> Response:
    applied = exchange.apply_reconciliation(job_id, current_user)
    db.session.commit()
    exchange.discard_file(exchange.get_reconciliation(job_id, current_user))
    imports.start_import_thread(current_app._get_current_object(), applied.id)  # type: ignore[attr-defined]
    return redirect(url_for("households.job", job_id=applied.id), code=303)


def _scope() -> ReportScope:
    scope = resolve_scope(request.args.get("area"), current_user.area_code)
    check_report_access(current_user, scope)
    return scope


@bp.route("/roster.xlsx")
@reads_from_replica
def roster_workbook() -> Response:
    scope, state = _scope(), request.args.get("state") or "monitored"
    if state not in export.ROSTER_STATES:
        raise InvalidInput(f"名单范围应为：{'、'.join(f'{k}（{v}）' for k, v in export.ROSTER_STATES.items())}")
    county, today = county_name_of(scope.code), china_today()
    out = io.BytesIO()
    count = export.write_national_sheet(export.roster_rows(scope, state, county), out, "监测对象")
    name = f"监测对象_国家系统格式_{scope.file_label}_{export.ROSTER_STATES[state]}_{today.isoformat()}.xlsx"
    audit.record("national_roster_exported", current_user, name, {"area": scope.code, "state": state, "persons": count})
    db.session.commit()
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)


@bp.route("/changes.xlsx")
@reads_from_replica
def changes_workbook() -> Response:
    scope, month = _scope(), ReportMonth.parse(request.args.get("month") or ReportMonth.of(china_today()).key)
    county = county_name_of(scope.code)
    out = io.BytesIO()
    count = export.write_national_sheet(export.change_rows(scope, month, county), out, "监测对象变动",
                                        export.CHANGE_COLUMNS)
    name = f"监测对象变动_国家系统格式_{scope.file_label}_{month.key}.xlsx"
    audit.record("national_changes_exported", current_user, name, {"area": scope.code, "month": month.key,
                                                                     "persons": count})
    db.session.commit()
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)
