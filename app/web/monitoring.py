"""The national mechanism's lists and the reversal of a risk elimination: the monitoring roster (监测对象名单) and
the elimination list (风险消除名单) of the user's area, on the page and as Excel; 回退 from a case page."""

from __future__ import annotations

import io
from datetime import date
from itertools import islice

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.areas import county_name_of
from app.audit import log as audit
from app.clock import china_today
from app.eliminations.operations import revert_elimination
from app.errors import InvalidInput
from app.excel.tables import DATE, TEXT, TableColumn, write_table
from app.extensions import db
from app.replica import reads_from_replica
from app.reports.monitoring import ROSTER_STATES, elimination_rows, monitoring_roster_rows
from app.reports.scope import ReportScope, areas_for, check_report_access, resolve_scope

bp = Blueprint("monitoring", __name__)
PREVIEW_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROSTER_COLUMNS = (
    TableColumn("序号", 6), TableColumn("镇", 10), TableColumn("村", 12), TableColumn("户主姓名", 10),
    TableColumn("户主证件号码", 21, TEXT), TableColumn("家庭人口", 8), TableColumn("户类型", 10),
    TableColumn("脱贫年度", 10), TableColumn("监测对象类型", 14), TableColumn("风险类型", 16, wrap=True),
    TableColumn("发现渠道", 14), TableColumn("风险识别时间", 12, DATE), TableColumn("风险是否消除", 8),
    TableColumn("风险消除时间", 12, DATE), TableColumn("包抓干部", 10), TableColumn("当前状态", 12),
)
ELIMINATION_COLUMNS = (
    TableColumn("序号", 6), TableColumn("镇", 10), TableColumn("村", 12), TableColumn("户主姓名", 10),
    TableColumn("户主证件号码", 21, TEXT), TableColumn("家庭人口", 8), TableColumn("监测对象类型", 14),
    TableColumn("风险识别时间", 12, DATE), TableColumn("风险消除时间", 12, DATE), TableColumn("监测时长（月）", 10),
    TableColumn("已落实措施（项）", 10), TableColumn("包抓干部", 10),
)


def _scope() -> ReportScope:
    scope = resolve_scope(request.args.get("area"), current_user.area_code)
    check_report_access(current_user, scope)
    return scope


def _state() -> str:
    state = request.args.get("state") or "all"
    if state not in ROSTER_STATES:
        raise InvalidInput(f"名单范围应为：{'、'.join(f'{k}（{v}）' for k, v in ROSTER_STATES.items())}")
    return state


def _period() -> tuple[date, date]:
    today = china_today()
    try:
        first = date.fromisoformat(request.args.get("from") or date(today.year, 1, 1).isoformat())
        last = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError as exc:
        raise InvalidInput("日期格式应为 YYYY-MM-DD") from exc
    if last < first:
        raise InvalidInput("结束日期不能早于开始日期")
    return first, last


@bp.route("/monitoring/roster")
@login_required
@reads_from_replica
def roster() -> str:
    scope, state = _scope(), _state()
    rows = list(islice(monitoring_roster_rows(scope, state), PREVIEW_ROWS + 1))
    return render_template("monitoring/roster.html", rows=rows[:PREVIEW_ROWS], more=len(rows) > PREVIEW_ROWS,
                           scope=scope, state=state, states=ROSTER_STATES, areas=areas_for(current_user, scope))


@bp.route("/monitoring/roster.xlsx")
@login_required
@reads_from_replica
def roster_xlsx() -> Response:
    scope, state = _scope(), _state()
    county, today = county_name_of(scope.code), china_today()
    rows = ([index, r.town, r.village, r.head_name, r.head_id_number, r.size, r.household_kind, r.lifted_year,
             r.category, r.risk_types, r.channel, r.identified_on, "是" if r.eliminated else "否", r.eliminated_on,
             r.cadre, r.status] for index, r in enumerate(monitoring_roster_rows(scope, state), start=1))
    out = io.BytesIO()
    title = f"{county}防止返贫监测对象名单（{ROSTER_STATES[state]}）"
    count = write_table(title, f"单位：{scope.unit_label}　截至：{today.isoformat()}", ROSTER_COLUMNS, rows, out,
                        sheet_name="监测对象名单")
    filename = f"监测对象名单_{scope.file_label}_{today.isoformat()}.xlsx"
    audit.record("monitoring_roster_exported", current_user, filename,
                 {"area": scope.code, "state": state, "households": count})
    db.session.commit()
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)


@bp.route("/monitoring/eliminations")
@login_required
@reads_from_replica
def eliminations() -> str:
    scope, (first, last) = _scope(), _period()
    rows = list(islice(elimination_rows(scope, first, last), PREVIEW_ROWS + 1))
    return render_template("monitoring/eliminations.html", rows=rows[:PREVIEW_ROWS],
                           more=len(rows) > PREVIEW_ROWS, scope=scope, first=first, last=last,
                           areas=areas_for(current_user, scope))


@bp.route("/monitoring/eliminations.xlsx")
@login_required
@reads_from_replica
def eliminations_xlsx() -> Response:
    scope, (first, last) = _scope(), _period()
    county = county_name_of(scope.code)
    rows = ([index, r.town, r.village, r.head_name, r.head_id_number, r.size, r.category, r.identified_on,
             r.eliminated_on, r.months_monitored, r.measures_done, r.cadre]
            for index, r in enumerate(elimination_rows(scope, first, last), start=1))
    out = io.BytesIO()
    count = write_table(f"{county}防止返贫监测对象风险消除名单",
                        f"单位：{scope.unit_label}　风险消除时间：{first.isoformat()} 至 {last.isoformat()}",
                        ELIMINATION_COLUMNS, rows, out, sheet_name="风险消除名单")
    filename = f"风险消除名单_{scope.file_label}_{first.isoformat()}_{last.isoformat()}.xlsx"
    audit.record("elimination_list_exported", current_user, filename,
                 {"area": scope.code, "from": first.isoformat(), "to": last.isoformat(), "households": count})
    db.session.commit()
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)


@bp.route("/cases/<int:case_id>/elimination-reversal", methods=["POST"])
@login_required
def revert(case_id: int) -> Response:
    revert_elimination(case_id, request.form.get("reason", ""), current_user)
    db.session.commit()
    flash("已回退风险消除，该户继续监测帮扶，待办已交驻村工作队", "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)
