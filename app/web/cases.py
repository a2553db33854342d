"""Cases: the list of the user's area (where each case waits, whose move, due when), its Excel export, and one
case with its household, current step, path on the diagram and history."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from app.access import can_change_cadre, can_see_case
from app.areas import below, county_or_area_name, is_above_county
from app.audit import log as audit
from app.cases import operations
from app.clock import china_today, to_china
from app.deadlines.calendar import uncovered_years
from app.excel.tables import DATE, DATETIME, TEXT, TableColumn, write_table
from app.extensions import db
from app.households.idnumber import masked_id
from app.models import Area
from app.supervision.cases import SORTS, CaseFilters, all_case_rows, case_page, waiting_steps
from app.supervision.paths import case_path
from app.tasks import operations as task_ops
from app.vocab import OPEN_CASE_STATUSES

bp = Blueprint("cases", __name__, url_prefix="/cases")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 50

EXPORT_COLUMNS = (
    TableColumn("编号", 8), TableColumn("户主", 10), TableColumn("证件号码", 21, TEXT), TableColumn("镇", 10),
    TableColumn("村", 14), TableColumn("风险类型", 12), TableColumn("状态", 10),
    TableColumn("当前环节", 28, wrap=True), TableColumn("办理单位/人", 28, wrap=True),
    TableColumn("等待起始", 17, DATETIME), TableColumn("到期日", 12, DATE), TableColumn("逾期天数", 9),
    TableColumn("程序", 14), TableColumn("监测对象类型", 14), TableColumn("发现渠道", 14),
)


def _areas(town: str | None) -> tuple[list[tuple[str, str]], list[Area]]:
    """Towns ((code, name)) and villages the user may filter by: their own area and below. Above a county, each
    town named with its county (every county has its 城关镇), and the villages of the chosen town only."""
    if not is_above_county(current_user.area_code):
        found = db.session.scalars(select(Area).where(below(Area.code, current_user.area_code))
                                   .order_by(Area.code)).all()
        return [(a.code, a.name) for a in found if a.level == "town"], [a for a in found if a.level == "village"]
    county = aliased(Area)
    towns = [(code, f"{county_name}{name}") for code, name, county_name in db.session.execute(
        select(Area.code, Area.name, county.name).join(county, county.code == Area.parent_code)
        .where(Area.level == "town", below(Area.code, current_user.area_code)).order_by(Area.code))]
    villages = list(db.session.scalars(select(Area).where(Area.level == "village", below(Area.code, town))
                                       .order_by(Area.code))) if town and len(town) == 9 else []
    return towns, villages


@bp.route("/")
@login_required
def index() -> str:
    filters = CaseFilters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    listing = case_page(current_user, filters, page, PER_PAGE)
    rows = listing.rows
    towns, villages = _areas(filters.town)
    return render_template("cases/index.html", rows=rows, listing=listing, page=page, towns=towns,
                           villages=villages, filters=filters, args=filters.as_args(),
                           steps=waiting_steps(current_user), sorts=SORTS, today=china_today(),
                           uncovered=uncovered_years(*(r.due_on for r in rows if r.due_on)))


@bp.route("/export.xlsx")
@login_required
def export() -> Response:
    filters = CaseFilters.from_args(request.args)
    today = china_today()
    rows = ([r.id, r.head_name, masked_id(r.head_id_number), r.town, r.village,
             r.risk_type_label, r.status_label, r.steps, r.holders,
             to_china(r.waiting_since).replace(tzinfo=None) if r.waiting_since else None, r.due_on,
             r.days_overdue or None, r.procedure_label, r.category_label, r.channel_label]
            for r in all_case_rows(current_user, filters))
    out = io.BytesIO()
    title = f"{county_or_area_name(current_user.area_code)}返贫监测帮扶案件清单"
    count = write_table(title, f"单位：{current_user.area.name}　导出日期：{today.isoformat()}", EXPORT_COLUMNS, rows,
                        out, sheet_name="案件清单")
    out.seek(0)
    filename = f"案件清单_{current_user.area.name}_{today.isoformat()}.xlsx"
    audit.record("case_list_exported", current_user, filename,
                 {"filters": {k: v for k, v in request.args.items() if v}, "cases": count})
    db.session.commit()
    return send_file(out, mimetype=XLSX, as_attachment=True, max_age=0, download_name=filename)


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int) -> str:
    case = operations.get_case(case_id)
    if not can_see_case(current_user, case):
        abort(403)
    tasks = operations.case_ready_tasks(case)
    holders = {t.id: operations.holder_label(t, case) for t in tasks}
    cadres = task_ops.cadres_for(case) if case.cadre_id and can_change_cadre(current_user, case) \
        and case.status in OPEN_CASE_STATUSES else []
    return render_template("cases/show.html", case=case, tasks=tasks, holders=holders,
                           history=operations.case_history(case), path=case_path(case), cadres=cadres,
                           diagram_url=url_for("cases.diagram", case_id=case.id),
                           panels=operations.case_panels(case, current_user), today=china_today())


@bp.route("/<int:case_id>/cadre", methods=["POST"])
@login_required
def change_cadre(case_id: int) -> Response:
    case = operations.get_case(case_id)
    task_ops.change_cadre(case, current_user, request.form.get("user_id", type=int) or 0)
    db.session.commit()
    flash("已更换包抓干部，其待办已转给新干部", "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/<int:case_id>/diagram")
@login_required
def diagram(case_id: int) -> str:
    case = operations.get_case(case_id)
    if not can_see_case(current_user, case):
        abort(403)
    return render_template("cases/diagram.html", case=case, path=case_path(case),
                           history=operations.case_history(case))
