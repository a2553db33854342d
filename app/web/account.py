"""The user's own settings: stand-ins during an absence (请假代理)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import can_arrange_stand_ins
from app.clock import china_today
from app.errors import InvalidInput
from app.extensions import db
from app.tasks import operations as task_ops

bp = Blueprint("account", __name__, url_prefix="/account")


def _day(name: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError as exc:
        raise InvalidInput("请填写开始和结束日期（YYYY-MM-DD）") from exc


@bp.route("/stand-ins")
@login_required
def stand_ins() -> str:
    return render_template("account/stand_ins.html", arrangements=task_ops.stand_ins_of(current_user),
                           colleagues=task_ops.colleagues(current_user), today=china_today(),
                           may_arrange=can_arrange_stand_ins(current_user))


@bp.route("/stand-ins", methods=["POST"])
@login_required
def add_stand_in() -> Response:
    arrangement = task_ops.add_stand_in(current_user, request.form.get("stand_in_id", type=int) or 0,
                                        _day("starts_on"), _day("ends_on"), request.form.get("note", ""))
    db.session.commit()
    flash(f"已安排 {arrangement.stand_in.full_name} 在 {arrangement.starts_on} 至 {arrangement.ends_on} 代理您的待办",
          "success")
    return redirect(url_for("account.stand_ins"))


@bp.route("/stand-ins/<int:stand_in_id>/end", methods=["POST"])
@login_required
def end_stand_in(stand_in_id: int) -> Response:
    task_ops.end_stand_in(stand_in_id, current_user)
    db.session.commit()
    flash("已取消代理安排", "info")
    return redirect(url_for("account.stand_ins"))
