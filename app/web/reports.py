"""The monthly annexes: 附件1 花名册 and 附件2 台账, shown for the user's area and downloaded as official Excel."""

from __future__ import annotations

import io
from itertools import islice

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.areas import county_name_of
from app.audit import log as audit
from app.clock import china_today
from app.errors import PermissionDenied
from app.extensions import db
from app.replica import reads_from_replica
from app.reports.annexes import ledger_rows, roster_rows
from app.reports.exports import ANNEXES, export_annex
from app.reports.scope import ReportMonth, ReportScope, areas_for, check_report_access, resolve_scope

bp = Blueprint("reports", __name__, url_prefix="/reports")

PREVIEW_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _request_scope() -> tuple[ReportMonth, ReportScope]:
    month_text = request.args.get("month") or ""
    month = ReportMonth.parse(month_text) if month_text else ReportMonth.of(china_today())
    scope = resolve_scope(request.args.get("area"), current_user.area_code)
    check_report_access(current_user, scope)
    return month, scope


@bp.route("/<any(roster, ledger):kind>")
@login_required
@reads_from_replica
def show(kind: str) -> str:
    month, scope = _request_scope()
    rows_of = roster_rows if kind == "roster" else ledger_rows
    rows = list(islice(rows_of(month, scope), PREVIEW_ROWS + 1))
    annex = ANNEXES[kind]
    return render_template(f"reports/{kind}.html", annex=annex, month=month, scope=scope,
                           rows=rows[:PREVIEW_ROWS], more=len(rows) > PREVIEW_ROWS,
                           title=annex.title(county_name_of(scope.code), month),
                           areas=areas_for(current_user, scope))


@bp.route("/<any(roster, ledger):kind>.xlsx")
@login_required
@reads_from_replica
def download(kind: str) -> Response:
    if kind not in ANNEXES:
        raise PermissionDenied("未知的报表")
    month, scope = _request_scope()
    county_name = county_name_of(scope.code)
    out = io.BytesIO()
    count = export_annex(kind, month, scope, county_name, china_today(), out)
    out.seek(0)
    filename = ANNEXES[kind].filename(county_name, month, scope)
    audit.record("annex_exported", current_user, filename,
                 {"annex": kind, "month": month.key, "area": scope.code, "households": count})
    db.session.commit()
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)
