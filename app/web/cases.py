"""Cases: the list of the user's area, and one case with its household, current step and history."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app.access import can_see_case
from app.cases import operations
from app.cases.queries import list_cases
from app.extensions import db
from app.models import Area

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.route("/")
@login_required
def index() -> str:
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = 50
    total, cases = list_cases(current_user, request.args, page, per_page)
    towns = db.session.scalars(select(Area).where(Area.level == "town").order_by(Area.code)).all()
    return render_template("cases/index.html", cases=cases, total=total, page=page, per_page=per_page,
                           towns=towns, args=request.args)


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int) -> str:
    case = operations.get_case(case_id)
    if not can_see_case(current_user, case):
        abort(403)
    tasks = operations.case_ready_tasks(case)
    holders = {t.id: operations.holder_label(t, case) for t in tasks}
    return render_template("cases/show.html", case=case, tasks=tasks, holders=holders,
                           history=operations.case_history(case))
