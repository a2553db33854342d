"""The household file (户档案): one page per household, usable on a phone in the village."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import can_reveal_id_numbers
from app.extensions import db
from app.households.file import household_file, reveal_id_numbers, visible_household

bp = Blueprint("household_file", __name__, url_prefix="/households")


@bp.route("/<int:household_id>")
@login_required
def show(household_id: int) -> str:
    household = visible_household(current_user, household_id)
    return render_template("households/file.html", file=household_file(household), revealed=False,
                           can_reveal=can_reveal_id_numbers(current_user))


@bp.route("/<int:household_id>/reveal-id-numbers", methods=["POST"])
@login_required
def reveal(household_id: int) -> Response:
    """The same page with the full ID numbers, once the reveal is in the audit log; never cached."""
    household = visible_household(current_user, household_id)
    reveal_id_numbers(current_user, household)
    db.session.commit()
    response = make_response(render_template("households/file.html", file=household_file(household),
                                             revealed=True, can_reveal=True))
    response.headers["Cache-Control"] = "no-store"
    return response
