"""/api/v1 for 部门筛查预警 and the departments' measures: a department's monthly list uploaded and what came of
it, the warning rules in force, and the measures a department leads with their progress."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from app.access import can_read_warning_rules, can_see_department_list, department_of
from app.areas import chosen_county
from app.departments import measures as department_measures
from app.departments import uploads
from app.departments.catalogue import DEPARTMENTS
from app.departments.rules import rules_in_force
from app.errors import NotFound, PermissionDenied
from app.extensions import db
from app.models import DepartmentUpload
from app.web.api import _iso, bp, token_required


def upload_json(upload: DepartmentUpload, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": upload.id, "department": upload.department, "department_name": DEPARTMENTS[upload.department].name,
        "month": upload.month, "file_name": upload.file_name, "sha256": upload.sha256, "size": upload.size,
        "rows_total": upload.rows_total, "rows_matched": upload.rows_matched, "rows_already": upload.rows_already,
        "rows_unmatched": upload.rows_total - upload.rows_matched, "rows_warned": upload.rows_warned,
        "leads_created": upload.leads_created, "leads_merged": upload.leads_merged,
        "cases_noted": upload.cases_noted, "uploaded_at": _iso(upload.uploaded_at)}
    if detail:
        body["unmatched"] = list(upload.unmatched)
        body["warned"] = [{"row": r.row_number, "name": r.name, "rules": list(r.rules), "lead_id": r.lead_id,
                           "case_id": r.case_id, "data": r.data} for r in uploads.records_of(upload, warned_only=True)]
    return body


def _reader() -> None:
    if department_of(g.api_user) is None and not can_read_warning_rules(g.api_user):
        raise PermissionDenied("部门名单由县级行业部门上传，县办和督查人员查看")


@bp.route("/department-lists")
@token_required
def department_lists() -> Response:
    _reader()
    return jsonify({"uploads": [upload_json(u) for u in uploads.uploads_of(department_of(g.api_user), g.api_user)]})


@bp.route("/department-lists", methods=["POST"])
@token_required
def upload_department_list() -> tuple[Response, int]:
    """The department's list for a month: multipart `month` (YYYY-MM) and `file` (.xlsx or .csv)."""
    sent = request.files.get("file")
    outcome = uploads.upload_list(g.api_user, request.form.get("month", ""),
                                  sent.stream if sent and sent.filename else None, sent.filename if sent else None)
    db.session.commit()
    return jsonify({**upload_json(outcome.upload, detail=True), "again": outcome.again}), 200 if outcome.again else 201


@bp.route("/department-lists/<int:upload_id>")
@token_required
def department_list(upload_id: int) -> Response:
    found = db.session.get(DepartmentUpload, upload_id)
    if found is None:
        raise NotFound("该名单不存在")
    if not can_see_department_list(g.api_user, found):
        raise PermissionDenied("只能查看本部门上传的名单")
    return jsonify(upload_json(found, detail=True))


@bp.route("/warning-rules")
@token_required
def warning_rules() -> Response:
    """The warning rules in force in the user's county (a city's or province's user: ?county=, else the first)."""
    _reader()
    county, _counties = chosen_county(g.api_user.area_code, request.args.get("county"))
    if county is None:
        raise NotFound("辖区内还没有县")
    return jsonify({"rules": [{"key": r.key, "department": r.department, "label": r.label, "field": r.field,
                               "operator": r.operator, "threshold": r.threshold, "describe": r.describe(),
                               "risk_type": r.risk_type, "national_risk_type": r.national_risk_type,
                               "urgent": r.urgent, "active": r.active,
                               "effective_from": r.effective_from.isoformat() if r.effective_from else None,
                               "source_document": r.source_document}
                              for r in rules_in_force(county.code, department_of(g.api_user), active_only=False)]})


@bp.route("/department-measures")
@token_required
def my_department_measures() -> Response:
    items = department_measures.department_measures(g.api_user, pending_only=request.args.get("all") != "1")
    return jsonify({"measures": [{
        "id": i.measure.id, "case_id": i.case.id, "household": i.case.household.head_name,
        "village_code": i.case.village_code, "content": i.measure.content, "measure_type": i.measure.measure_type,
        "responsible_unit": i.measure.responsible_unit, "deadline": i.measure.deadline.isoformat(),
        "status": i.measure.status, "overdue": i.overdue,
        "completed_on": i.measure.completed_on.isoformat() if i.measure.completed_on else None,
        "progress": [{"recorded_on": p.recorded_on.isoformat(), "note": p.note, "completed": p.completed,
                      "attachment_id": p.attachment_id} for p in i.progress]} for i in items]})


@bp.route("/department-measures/<int:measure_id>/progress", methods=["POST"])
@token_required
def record_measure_progress(measure_id: int) -> tuple[Response, int]:
    """Progress or completion of a measure the department leads: multipart `recorded_on`, `note`, `completed`
    ("1" when done) and an optional `evidence` file (photo or PDF)."""
    evidence = request.files.get("evidence")
    progress = department_measures.record_progress(
        measure_id, g.api_user, request.form.get("recorded_on", ""), request.form.get("note", ""),
        request.form.get("completed") in ("1", "true"), evidence.stream if evidence and evidence.filename else None,
        evidence.filename if evidence and evidence.filename else None)
    db.session.commit()
    return jsonify({"id": progress.id, "measure_id": progress.measure_id,
                    "recorded_on": progress.recorded_on.isoformat(), "note": progress.note,
                    "completed": progress.completed, "attachment_id": progress.attachment_id}), 201
