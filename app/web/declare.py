"""农户自主申报, the public page (no log-in): a resident declares hardship for their own household from a phone, gets
a receipt number, and later looks up where the declaration stands with it and the last four characters of the ID
number. Rate-limited per address; CSRF-protected like every form."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.leads import operations as leads
from app.leads.vocab import NATIONAL_RISK_TYPES, URGENCIES
from app.models import Area

bp = Blueprint("declare", __name__, url_prefix="/declare")


def _village(code: str | None) -> Area | None:
    area = db.session.get(Area, code) if code and code.isdigit() and len(code) == 12 else None
    return area if area is not None and area.level == "village" else None


def _form_page(errors: dict[str, list[str]] | None = None, message: str | None = None,
               status: int = 200) -> tuple[str, int]:
    village = _village(request.values.get("village"))
    town = db.session.get(Area, village.code[:9]) if village else None
    return render_template("declare/form.html", village=village, town=town, form=request.form, errors=errors or {},
                           message=message, risk_types=NATIONAL_RISK_TYPES, urgencies=URGENCIES), status


@bp.route("")
def form() -> tuple[str, int]:
    return _form_page()


@bp.route("", methods=["POST"])
def submit() -> Response | tuple[str, int]:
    try:
        leads.admit_public_submission("declaration", request.remote_addr, leads.declarations_per_hour())
    except InvalidInput as exc:
        return _form_page(exc.errors, exc.message, exc.status)
    finally:
        db.session.commit()  # the use is counted whatever the declaration's fate
    try:
        given = leads.DeclarationInput(
            reporter_name=request.form.get("name", ""), reporter_phone=request.form.get("phone", ""),
            description=request.form.get("description", ""), risk_types=request.form.getlist("risk_types"),
            urgency=request.form.get("urgency", "normal"))
        lead = leads.declare(request.form.get("name", ""), request.form.get("id_number", ""), given,
                             request.remote_addr)
    except InvalidInput as exc:
        db.session.rollback()
        return _form_page(exc.errors, exc.message, exc.status)
    db.session.commit()
    return render_template("declare/receipt.html", lead=lead), 201


@bp.route("/status", methods=["GET", "POST"])
def status() -> tuple[str, int]:
    if request.method == "GET":
        return render_template("declare/status.html", found=None, message=None, form={}), 200
    try:
        leads.admit_public_submission("declaration_status", request.remote_addr, leads.lookups_per_hour())
    except InvalidInput as exc:
        return render_template("declare/status.html", found=None, message=exc.message, form=request.form), exc.status
    finally:
        db.session.commit()
    try:
        found = leads.declaration_status(request.form.get("receipt_no", ""), request.form.get("id_tail", ""))
    except (InvalidInput, NotFound) as exc:
        db.session.rollback()
        return render_template("declare/status.html", found=None, message=exc.message, form=request.form), exc.status
    return render_template("declare/status.html", found=found, message=None, form={}), 200
