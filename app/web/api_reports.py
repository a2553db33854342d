"""/api/v1 for the two official annexes: 附件1 返贫风险对象花名册 and 附件2 帮扶措施台账 of a month and an area, as JSON
rows (ID numbers masked, as every list shows them) and as the official print-ready Excel (the same file the web
and `flask reports export` write, with full ID numbers; each download is in the audit log)."""

from __future__ import annotations

import io
from itertools import islice
from typing import Any

from flask import Response, g, jsonify, request, send_file

from app.areas import county_name_of
from app.audit import log as audit
from app.clock import china_today
from app.extensions import db
from app.households.idnumber import masked_id
from app.replica import reads_from_replica
from app.reports.annexes import LedgerRow, RosterRow, ledger_rows, roster_rows
from app.reports.exports import ANNEXES, export_annex
from app.reports.scope import ReportMonth, ReportScope, check_report_access, resolve_scope
from app.web.api import bp, token_required

LIMIT = 5000  # rows of one answer; `truncated` says when there were more (the Excel has them all)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month_and_scope() -> tuple[ReportMonth, ReportScope]:
    text = request.args.get("month") or ""
    month = ReportMonth.parse(text) if text else ReportMonth.of(china_today())
    scope = resolve_scope(request.args.get("area"), g.api_user.area_code)
    check_report_access(g.api_user, scope)
    return month, scope


def _roster_row(number: int, r: RosterRow) -> dict[str, Any]:
    return {"number": number, "town": r.town, "village": r.village, "head_name": r.head_name,
            "head_id_number_masked": masked_id(r.head_id_number), "size": r.size, "lifted_year": r.lifted_year,
            "risk_type": r.risk_type, "reason": r.reason, "cadre": r.cadre}


def _ledger_row(number: int, r: LedgerRow) -> dict[str, Any]:
    return {"number": number, "town": r.town, "village": r.village, "head_name": r.head_name,
            "head_id_number_masked": masked_id(r.head_id_number), "size": r.size, "lifted_year": r.lifted_year,
            "risk_type": r.risk_type,
            "measures": [{"content": m.content, "measure_type": m.measure_type,
                          "responsible_unit": m.responsible_unit, "deadline": m.deadline.isoformat(),
                          "done": m.done, "completed_on": m.completed_on.isoformat() if m.completed_on else None}
                         for m in r.measures],
            "deadline": r.deadline.isoformat() if r.deadline else None, "cadre": r.cadre}


@bp.route("/reports/roster", defaults={"kind": "roster"})
@bp.route("/reports/ledger", defaults={"kind": "ledger"})
@token_required
@reads_from_replica
def annex_rows(kind: str) -> Response:
    """The annex's rows for `month` (YYYY-MM, default this month in China) and `area` (default the user's)."""
    month, scope = _month_and_scope()
    if kind == "roster":
        rows = [_roster_row(n, r) for n, r in enumerate(islice(roster_rows(month, scope), LIMIT + 1), start=1)]
    else:
        rows = [_ledger_row(n, r) for n, r in enumerate(islice(ledger_rows(month, scope), LIMIT + 1), start=1)]
    county = county_name_of(scope.code)
    return jsonify({"annex": kind, "title": ANNEXES[kind].title(county, month), "month": month.key,
                    "area_code": scope.code, "unit": scope.unit_label, "rows": rows[:LIMIT],
                    "truncated": len(rows) > LIMIT})


@bp.route("/reports/roster.xlsx", defaults={"kind": "roster"})
@bp.route("/reports/ledger.xlsx", defaults={"kind": "ledger"})
@token_required
@reads_from_replica
def annex_workbook(kind: str) -> Response:
    month, scope = _month_and_scope()
    county = county_name_of(scope.code)
    out = io.BytesIO()
    count = export_annex(kind, month, scope, county, china_today(), out)
    out.seek(0)
    filename = ANNEXES[kind].filename(county, month, scope)
    audit.record("annex_exported", g.api_user, filename,
                 {"annex": kind, "month": month.key, "area": scope.code, "households": count, "via": "api"})
    db.session.commit()
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)
