"""部门筛查预警 and the departments' measures: a department uploads its monthly list (and maps its columns once,
downloads its template), sees what came of each upload and records the progress of the measures it leads; the
county office sets the warning rules; the county's supervisors read everything."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import (
    can_change_warning_rules,
    can_read_warning_rules,
    can_see_department_list,
    can_upload_department_list,
    department_of,
)
from app.areas import COUNTY_LENGTH, chosen_county, county_name_of
from app.clock import china_today
from app.departments import measures as department_measures
from app.departments import uploads
from app.departments.catalogue import DEPARTMENTS
from app.departments.rules import OPERATORS, record_rule, rule_history, rules_in_force
from app.errors import InvalidInput, NotFound
from app.excel.tables import TEXT, TableColumn, write_table
from app.extensions import db
from app.leads.vocab import NATIONAL_RISK_TYPES
from app.models import DepartmentUpload
from app.vocab import RISK_TYPES

bp = Blueprint("departments", __name__, url_prefix="/departments")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _only_county_roles() -> None:
    if department_of(current_user) is None and not can_read_warning_rules(current_user):
        abort(403)


def _index(message: str | None = None, problems: list[str] | None = None, total: int = 0,
           status: int = 200) -> tuple[str, int]:
    code = department_of(current_user)
    return render_template(
        "departments/index.html", department=DEPARTMENTS.get(code or ""),
        uploads=uploads.uploads_of(code, current_user),
        departments=DEPARTMENTS, message=message, problems=problems or [], total=total,
        month=request.form.get("month") or china_today().strftime("%Y-%m"),
        pending=department_measures.pending_count(current_user)), status


@bp.route("")
def index() -> tuple[str, int]:
    return _index()


@bp.route("/uploads", methods=["POST"])
def upload() -> Response | tuple[str, int]:
    if not can_upload_department_list(current_user):
        abort(403)
    sent = request.files.get("file")
    try:
        outcome = uploads.upload_list(current_user, request.form.get("month", ""),
                                      sent.stream if sent and sent.filename else None, sent.filename if sent else None)
    except uploads.ListRefused as exc:
        db.session.rollback()
        return _index(exc.message, [str(p) for p in exc.problems[:uploads.PROBLEMS_LISTED]], exc.total, exc.status)
    except InvalidInput as exc:
        db.session.rollback()
        return _index(exc.message, None, 0, exc.status)
    db.session.commit()
    if outcome.again:
        flash(f"该文件已于 {outcome.upload.uploaded_at:%Y-%m-%d} 上传过（{outcome.upload.month} 名单），未重复导入",
              "warning")
    else:
        flash("名单已导入：" + summary(outcome.upload), "success")
    return redirect(url_for("departments.show_upload", upload_id=outcome.upload.id), code=303)


def summary(upload: DepartmentUpload) -> str:
    unmatched = upload.rows_total - upload.rows_matched
    return (f"共 {upload.rows_total} 行，匹配农户 {upload.rows_matched} 行，未匹配 {unmatched}"
            f" 行；触发预警 {upload.rows_warned} 行：新风险线索 {upload.leads_created} 条，并入在办线索 "
            f"{upload.leads_merged} 条，在监测户案件备注 {upload.cases_noted} 户")


@bp.route("/uploads/<int:upload_id>")
def show_upload(upload_id: int) -> str:
    found = db.session.get(DepartmentUpload, upload_id)
    if found is None:
        raise NotFound("该名单不存在")
    if not can_see_department_list(current_user, found):
        abort(403)
    return render_template("departments/upload.html", upload=found, department=DEPARTMENTS[found.department],
                           records=uploads.records_of(found, warned_only=True), summary=summary(found))


@bp.route("/mapping")
def mapping() -> tuple[str, int] | str:
    if not can_upload_department_list(current_user):
        abort(403)
    return _mapping_page()


def _mapping_page(errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int] | str:
    code = department_of(current_user) or ""
    department = DEPARTMENTS[code]
    values = request.form if request.method == "POST" else uploads.saved_mapping(
        code, current_user.area_code[:COUNTY_LENGTH])
    page = render_template("departments/mapping.html", department=department, values=values, errors=errors or {})
    return (page, status) if status != 200 else page


@bp.route("/mapping", methods=["POST"])
def save_mapping() -> Response | tuple[str, int] | str:
    if not can_upload_department_list(current_user):
        abort(403)
    try:
        uploads.save_mapping(current_user, request.form.to_dict())
    except InvalidInput as exc:
        db.session.rollback()
        return _mapping_page(exc.errors, exc.status)
    db.session.commit()
    flash("已保存本部门名单的列对应，下次上传按这些列名读取", "success")
    return redirect(url_for("departments.index"), code=303)


@bp.route("/template.xlsx")
def template() -> Response:
    code = department_of(current_user)
    if code is None:
        abort(403)
    department = DEPARTMENTS[code]
    headers = uploads.headers_of(department, current_user.area_code[:COUNTY_LENGTH])
    columns = [TableColumn(headers[f.key][0], 22 if f.key == "id_number" else 14,
                           TEXT if f.key == "id_number" else None) for f in department.all_fields]
    out = io.BytesIO()
    write_table(f"{county_name_of(current_user.area_code)}{department.name}月度名单",
                f"{department.what}；证件号码列请设为文本，每人一行", columns, [], out, sheet_name="名单")
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, max_age=0,
                     download_name=f"{department.name}月度名单模板.xlsx")


@bp.route("/rules")
def rules() -> tuple[str, int] | str:
    return _rules_page()


def _rules_page(errors: dict[str, list[str]] | None = None, editing: str | None = None,
                status: int = 200) -> tuple[str, int] | str:
    if not can_read_warning_rules(current_user):
        abort(403)
    code = department_of(current_user)
    county, counties = chosen_county(current_user.area_code, request.args.get("county"))
    if county is None:
        abort(404)
    found = rules_in_force(county.code, code, active_only=False)
    page = render_template("departments/rules.html", rules=found, departments=DEPARTMENTS, operators=OPERATORS,
                           county=county, counties=counties,
                           risk_types=RISK_TYPES, national_risk_types=NATIONAL_RISK_TYPES,
                           may_change=can_change_warning_rules(current_user), errors=errors or {},
                           editing=editing, form=request.form, today=china_today(),
                           history={r.key: rule_history(r.key, county.code) for r in found})
    return (page, status) if status != 200 else page


@bp.route("/rules/<key>", methods=["POST"])
def change_rule(key: str) -> Response | tuple[str, int] | str:
    if not can_change_warning_rules(current_user):
        abort(403)
    try:
        record_rule(current_user, key, request.form.to_dict())
    except InvalidInput as exc:
        db.session.rollback()
        return _rules_page(exc.errors, key, exc.status)
    db.session.commit()
    flash("预警规则已保存（自生效日期起用于新上传的名单）", "success")
    return redirect(url_for("departments.rules"), code=303)


@bp.route("/rules", methods=["POST"])
def add_rule() -> Response | tuple[str, int] | str:
    return change_rule(request.form.get("key", ""))


@bp.route("/measures")
def measures() -> str:
    if department_of(current_user) is None:
        abort(403)
    show_all = request.args.get("all") == "1"
    return render_template("departments/measures.html", department=DEPARTMENTS[department_of(current_user) or ""],
                           items=department_measures.department_measures(current_user, pending_only=not show_all),
                           show_all=show_all, today=china_today())


@bp.route("/measures/<int:measure_id>/progress", methods=["POST"])
def record_progress(measure_id: int) -> Response:
    evidence = request.files.get("evidence")
    department_measures.record_progress(
        measure_id, current_user, request.form.get("recorded_on", ""), request.form.get("note", ""),
        request.form.get("completed") == "1", evidence.stream if evidence and evidence.filename else None,
        evidence.filename if evidence and evidence.filename else None)
    db.session.commit()
    flash("已登记" + ("落实完成" if request.form.get("completed") == "1" else "进展"), "success")
    return redirect(url_for("departments.measures"), code=303)
