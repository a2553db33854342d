"""The household file (户档案): one page per household, usable on a phone in the village."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.households.file import household_file, visible_household

bp = Blueprint("household_file", __name__, url_prefix="/households")


@bp.route("/<int:household_id>")
@login_required
def show(household_id: int) -> str:
    household = visible_household(current_user, household_id)
    return render_template("households/file.html", file=household_file(household))
