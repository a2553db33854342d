"""风险线索 for staff: the leads of their area, a declaration received by telephone (12317), in writing or in
person, and the village notice board's QR code for the public declaration page."""

from __future__ import annotations

import io
from datetime import date

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import can_record_leads, in_area, works_an_area
from app.areas import below
from app.cases.queries import search_households
from app.clock import china_today
from app.collab.operations import Refused, max_bytes
from app.errors import InvalidInput
from app.extensions import db
from app.leads import operations as leads
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import (
    AWAITING_DECISION,
    DECLARATION_SOURCES,
    LEAD_CHANNELS,
    LEAD_STATUSES,
    NATIONAL_RISK_TYPES,
    STAFF_SOURCES,
    URGENCIES,
)
from app.leads.workflow import decision_due
from app.models import Area, Case, Household, RiskLead

bp = Blueprint("leads", __name__, url_prefix="/leads")
LABELS = {"MONITORING_CATEGORIES": MONITORING_CATEGORIES, "channels": LEAD_CHANNELS, "sources": DECLARATION_SOURCES,
          "statuses": LEAD_STATUSES,
          "risk_types": NATIONAL_RISK_TYPES, "urgencies": URGENCIES}


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: object) -> None:
    # Before CSRF reads the form: a body far past the attachments' limit is refused unread.
    if endpoint == "leads.upload_authorisation":
        from app.web.collab import FORM_OVERHEAD

        request.max_content_length = max_bytes() + FORM_OVERHEAD


@bp.before_request
@login_required
def _only_area_workers() -> None:
    if not works_an_area(current_user):
        abort(403)


@bp.route("")
def index() -> str:
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    area = request.args.get("area") or None
    areas = [a for a in db.session.scalars(select(Area).where(Area.level.in_(("town", "village")),
                                                              below(Area.code, current_user.area_code))
                                           .order_by(Area.code)) if in_area(current_user, a.code)]
    found = leads.visible_leads(current_user, status, channel=channel, area=area)
    case_ids = [lead.case_id for lead in found if lead.case_id]
    categories = dict(db.session.execute(select(Case.id, Case.category).where(Case.id.in_(case_ids))).all()) \
        if case_ids else {}
    return render_template("leads/index.html", leads=found, categories=categories, status=status, channel=channel,
                           area=area, areas=areas, may_record=can_record_leads(current_user), decision_due=decision_due,
                           today=china_today(), in_hand=AWAITING_DECISION, **LABELS)


def _new_page(errors: dict[str, list[str]] | None = None, message: str | None = None,
              status: int = 200) -> tuple[str, int]:
    household = db.session.get(Household, request.values.get("household_id", type=int) or 0)
    if household is not None and not in_area(current_user, household.village_code):
        household = None
    query = request.args.get("q", "")
    found = search_households(current_user, query, limit=20) if query.strip() else []
    return render_template("leads/new.html", household=household, query=query, found=found,
                           form=request.form, errors=errors or {}, message=message, today=china_today(),
                           staff_sources=STAFF_SOURCES, **LABELS), status


@bp.route("/new")
def new() -> tuple[str, int]:
    if not can_record_leads(current_user):
        abort(403)
    return _new_page()


@bp.route("/new", methods=["POST"])
def create() -> Response | tuple[str, int]:
    if not can_record_leads(current_user):
        abort(403)
    form = request.form
    try:
        discovered_on = date.fromisoformat(form.get("discovered_on", ""))
    except ValueError:
        return _new_page({"discovered_on": ["请填写申报日期（YYYY-MM-DD）"]}, "线索未登记，请按提示修改", 422)
    given = leads.DeclarationInput(reporter_name=form.get("reporter_name", ""),
                                   reporter_phone=form.get("reporter_phone", ""),
                                   description=form.get("description", ""), risk_types=form.getlist("risk_types"),
                                   urgency=form.get("urgency", "normal"))
    try:
        lead = leads.record_declaration(current_user, form.get("household_id", type=int) or 0,
                                        form.get("source", ""), given, discovered_on,
                                        member_id=form.get("member_id", type=int) or None)
    except InvalidInput as exc:
        db.session.rollback()
        return _new_page(exc.errors, exc.message, exc.status)
    db.session.commit()
    if lead.status == "merged":
        flash(f"已登记（受理号 {lead.receipt_no}）：该户已有在办的线索或案件，本条并入一并办理", "warning")
    else:
        flash(f"已登记风险线索，受理号 {lead.receipt_no}（请告知申报人，凭受理号和证件号码后四位查询办理情况）",
              "success")
    return redirect(url_for("leads.index"), code=303)


def _declaration_url(village: Area) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + url_for("declare.form", village=village.code)


@bp.route("/qr/<village_code>")
def qr_sheet(village_code: str) -> str:
    """A sheet for the village notice board: the QR code of the public declaration page and how else to declare."""
    village = db.session.get(Area, village_code)
    if village is None or village.level != "village":
        abort(404)
    if not in_area(current_user, village.code):
        abort(403)
    url = _declaration_url(village)
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode("utf-8").split("?>", 1)[-1]  # inline in the page: no XML declaration
    town = db.session.get(Area, village.code[:9])
    return render_template("leads/qr.html", village=village, town=town, url=url, svg=svg)


@bp.route("/<int:lead_id>")
def show(lead_id: int) -> str:
    lead = leads.visible_lead(lead_id, current_user)
    return render_template("leads/show.html", lead=lead, documents=leads.documents_of(lead),
                           decision_due=decision_due(lead), today=china_today(), in_hand=AWAITING_DECISION,
                           verifications=leads.verifications_of(lead), assessments=leads.assessments_of(lead),
                           **LABELS)


@bp.route("/<int:lead_id>/authorisation", methods=["POST"])
def upload_authorisation(lead_id: int) -> Response | tuple[str, int]:
    """The signed 承诺授权书, uploaded from the verification task's page (or the lead's): back to where it came from."""
    lead = leads.visible_lead(lead_id, current_user)
    upload = request.files.get("file")
    try:
        leads.store_authorisation(lead, upload.stream if upload and upload.filename else None,
                                  upload.filename if upload else None, current_user)
    except Refused as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(lead), code=303)
    db.session.commit()
    flash("承诺授权书已上传", "success")
    return redirect(_back(lead), code=303)


def _back(lead: RiskLead) -> str:
    task_id = request.form.get("task_id", type=int)
    return url_for("tasks.show", task_id=task_id) if task_id else url_for("leads.show", lead_id=lead.id)


@bp.route("/documents/<int:document_id>")
def document(document_id: int) -> Response:
    from app.web.collab import attachment_response

    return attachment_response(leads.visible_document(document_id, current_user))
