"""Household registry import (county office and admin): upload, progress, results, template, error copy."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import can_import_households
from app.audit import log as audit
from app.excel.reading import SpreadsheetRefused
from app.extensions import db
from app.households import operations
from app.models import ImportJob

bp = Blueprint("households", __name__, url_prefix="/households")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _only_importers() -> None:
    if not can_import_households(current_user):
        abort(403)


@bp.route("/import")
def import_page() -> tuple[str, int]:
    return _page()


def _page(message: str | None = None, status: int = 200) -> tuple[str, int]:
    jobs = db.session.scalars(select(ImportJob).where(ImportJob.kind == "households")
                            .order_by(ImportJob.id.desc()).limit(20)).all()
    return render_template("households/import.html", jobs=jobs, message=message), status


@bp.route("/import", methods=["POST"])
def upload() -> Response | tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("请选择要导入的 Excel 文件（.xlsx）", 422)
    try:
        job = operations.create_import_job(upload.stream, upload.filename, request.form.get("valid_only") == "1",
                                           current_user)
    except SpreadsheetRefused as exc:
        db.session.rollback()
        return _page(exc.message, exc.status)
    db.session.commit()
    operations.start_import_thread(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("households.job", job_id=job.id), code=303)


@bp.route("/import/jobs/<int:job_id>")
def job(job_id: int) -> Response:
    found = operations.get_import_job(job_id, current_user)
    response = make_response(render_template("households/job.html", job=found))
    if found.running:
        response.headers["Refresh"] = "2"  # the page reloads itself until the job is over; no script needed
    return response


@bp.route("/import/jobs/<int:job_id>/errors.xlsx")
def error_workbook(job_id: int) -> Response:
    found = operations.get_import_job(job_id, current_user)
    path = operations.error_workbook_path(found)
    if not found.has_error_workbook or not path.exists():
        abort(404)
    stem = found.file_name.rsplit(".", 1)[0]
    audit.record("import_errors_exported", current_user, f"{stem}-错误说明.xlsx", {"import_job_id": found.id})
    db.session.commit()
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=f"{stem}-错误说明.xlsx")


@bp.route("/import/template.xlsx")
def template() -> Response:
    from app.households.workbooks import write_template

    out = io.BytesIO()
    write_template(out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name="农户名单导入模板.xlsx")
