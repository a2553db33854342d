"""/api/v1/leads: the national mechanism's risk leads over the JSON API, as the pages offer them to staff: the
leads of the user's area, one lead with its verification, income assessment and papers, a declaration received by
telephone, in writing or in person, and the signed 承诺授权书."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, g, jsonify, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from app.access import can_record_leads
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.leads import operations as leads
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import LEAD_STATUSES
from app.models import IncomeAssessment, LeadDocument, LeadVerification, RiskLead
from app.web.api import SUBJECT_JSON, _iso, _json_body, _row_id, bp, token_required


def lead_json(lead: RiskLead, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": lead.id, "receipt_no": lead.receipt_no, "channel": lead.channel, "source": lead.source,
        "source_detail": lead.source_detail, "household_id": lead.household_id,
        "head_name": lead.household.head_name, "village_code": lead.village_code, "town_code": lead.town_code,
        "reporter_name": lead.reporter_name, "reporter_phone": lead.reporter_phone,
        "discovered_on": lead.discovered_on.isoformat(), "risk_types": list(lead.risk_types),
        "description": lead.description, "urgency": lead.urgency, "status": lead.status,
        "status_label": LEAD_STATUSES.get(lead.status, lead.status), "merged_into_id": lead.merged_into_id,
        "open_case_id": lead.open_case_id, "outcome_reason": lead.outcome_reason,
        "created_at": _iso(lead.created_at), "closed_at": _iso(lead.closed_at),
    }
    if detail:
        body["verifications"] = [_verification_json(v) for v in leads.verifications_of(lead)]
        body["income_assessments"] = [_assessment_json(a) for a in leads.assessments_of(lead)]
        body["documents"] = [document_json(d) for d in leads.documents_of(lead)]
    return body


def _verification_json(v: LeadVerification) -> dict[str, Any]:
    return {"visited_on": v.visited_on.isoformat(), "verifiers": v.verifiers, "guarantee_gaps": list(v.guarantee_gaps),
            "findings": v.findings, "confirmed": v.confirmed, "reason": v.reason, "recorded_at": _iso(v.recorded_at)}


def _assessment_json(a: IncomeAssessment) -> dict[str, Any]:
    return {"period_from": a.period_from.isoformat(), "period_to": a.period_to.isoformat(), "persons": a.persons,
            "total_income": str(a.total_income), "business_costs": str(a.business_costs),
            "eligible_spending": str(a.eligible_spending), "per_capita_net": str(a.per_capita_net),
            "per_capita_after_spending": str(a.per_capita_after_spending), "line_amount": str(a.line_amount),
            "within_line": a.within_line, "proposed_category": a.proposed_category,
            "proposed_category_label": MONITORING_CATEGORIES.get(a.proposed_category, a.proposed_category),
            "member_incomes": a.member_incomes, "recorded_at": _iso(a.recorded_at)}


def document_json(d: LeadDocument) -> dict[str, Any]:
    return {"id": d.id, "lead_id": d.lead_id, "kind": d.kind, "file_name": d.file_name,
            "content_type": d.content_type, "size": d.size, "sha256": d.sha256, "uploaded_at": _iso(d.uploaded_at),
            "download_url": url_for("api.download_lead_document", document_id=d.id)}


SUBJECT_JSON["lead"] = lead_json


@bp.route("/leads")
@token_required
def list_leads() -> Response:
    status = request.args.get("status") or None
    if status is not None and status not in LEAD_STATUSES:
        raise InvalidInput(f"status 应为 {'、'.join(LEAD_STATUSES)} 之一")
    return jsonify({"leads": [lead_json(lead) for lead in leads.visible_leads(g.api_user, status)]})


@bp.route("/leads/<int:lead_id>")
@token_required
def get_lead(lead_id: int) -> Response:
    return jsonify(lead_json(leads.visible_lead(lead_id, g.api_user), detail=True))


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    return value if isinstance(value, str) else ""


@bp.route("/leads", methods=["POST"])
@token_required
def record_lead() -> tuple[Response, int]:
    """A declaration received by telephone (12317), in writing or in person, for a household of the user's area."""
    if not can_record_leads(g.api_user):
        raise PermissionDenied("您的角色不能登记风险线索")
    body = _json_body()
    risk_types = body.get("risk_types")
    given = leads.DeclarationInput(
        reporter_name=_text(body, "reporter_name"), reporter_phone=_text(body, "reporter_phone"),
        description=_text(body, "description"),
        risk_types=[t for t in risk_types if isinstance(t, str)] if isinstance(risk_types, list) else [],
        urgency=_text(body, "urgency") or "normal")
    try:
        discovered_on = date.fromisoformat(_text(body, "discovered_on"))
    except ValueError:
        raise InvalidInput("线索未登记，请按提示修改", {"discovered_on": ["请填写申报日期（YYYY-MM-DD）"]}) from None
    lead = leads.record_declaration(g.api_user, _row_id(body.get("household_id")) or 0, _text(body, "source"),
                                    given, discovered_on, member_id=_row_id(body.get("member_id")))
    db.session.commit()
    return jsonify(lead_json(lead, detail=True)), 201


@bp.route("/leads/<int:lead_id>/authorisation", methods=["POST"])
@token_required
def upload_lead_authorisation(lead_id: int) -> tuple[Response, int]:
    """The household's signed 承诺授权书 (photo or PDF), multipart `file`; the same file again answers 200."""
    from werkzeug.exceptions import RequestEntityTooLarge

    from app.collab import operations as collab
    from app.web.collab import FORM_OVERHEAD, too_large

    lead = leads.visible_lead(lead_id, g.api_user)
    request.max_content_length = collab.max_bytes() + FORM_OVERHEAD
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise too_large() from exc
    document, created = leads.store_authorisation(lead, upload.stream if upload is not None else None,
                                                  upload.filename if upload is not None else None, g.api_user)
    db.session.commit()
    return jsonify(document_json(document)), 201 if created else 200


@bp.route("/lead-documents/<int:document_id>")
@token_required
def download_lead_document(document_id: int) -> WerkzeugResponse:
    """A lead's paper, always as a download under its name with its real type's suffix, never rendered."""
    from app.web.collab import attachment_response

    return attachment_response(leads.visible_document(document_id, g.api_user))
