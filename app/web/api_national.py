"""/api/v1 for the national mechanism's cases: their review meetings, elimination checks and reversals in a case's
detail, the monitoring roster and the elimination list of the user's area, and the county office's reversal of a
risk elimination."""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any

from flask import Response, g, jsonify, request

from app.cases import operations as case_ops
from app.clock import china_today
from app.eliminations.operations import checks_of, reversals_of, revert_elimination
from app.errors import InvalidInput
from app.extensions import db
from app.identification.operations import meetings_of
from app.models import Case
from app.replica import reads_from_replica
from app.reports.monitoring import ROSTER_STATES, elimination_rows, monitoring_roster_rows
from app.reports.scope import ReportScope, check_report_access, resolve_scope
from app.web.api import CASE_RECORDS, _iso, _json_body, bp, case_json, token_required

LIMIT = 5000  # rows of one answer; `truncated` says when there were more (the Excel export has them all)


def _meetings(case: Case) -> list[dict[str, Any]]:
    return [{"purpose": m.purpose, "held_on": m.held_on.isoformat(), "place": m.place, "attendees": m.attendees,
             "attendance": m.attendance, "minutes": m.minutes, "decision": m.decision, "category": m.category,
             "reason": m.reason, "recorded_at": _iso(m.recorded_at)} for m in meetings_of(case)]


def _checks(case: Case) -> list[dict[str, Any]]:
    return [{"checked_on": c.checked_on.isoformat(), "verifiers": c.verifiers, "decision": c.decision,
             "findings": c.findings, "per_capita_net": str(c.per_capita_net),
             "eligible_spending": str(c.eligible_spending),
             "per_capita_after_spending": str(c.per_capita_after_spending), "risk_resolved": c.risk_resolved,
             "line_amount": str(c.line_amount) if c.line_amount is not None else None,
             "months_above_line": c.months_above_line, "guarantee_gaps": list(c.guarantee_gaps),
             "new_risk": c.new_risk, "criteria": c.criteria, "recorded_at": _iso(c.recorded_at)}
            for c in checks_of(case)]


def _reversals(case: Case) -> list[dict[str, Any]]:
    return [{"eliminated_on": r.eliminated_on.isoformat(), "reverted_on": r.reverted_on.isoformat(),
             "reason": r.reason, "recorded_at": _iso(r.recorded_at)} for r in reversals_of(case)]


CASE_RECORDS.update(review_meetings=_meetings, elimination_checks=_checks, elimination_reversals=_reversals)


def _scope() -> ReportScope:
    scope = resolve_scope(request.args.get("area"), g.api_user.area_code)
    check_report_access(g.api_user, scope)
    return scope


@bp.route("/monitoring/roster")
@token_required
@reads_from_replica
def monitoring_roster() -> Response:
    """监测对象名单: households identified for monitoring in the user's area (or a part of it)."""
    state = request.args.get("state") or "all"
    if state not in ROSTER_STATES:
        raise InvalidInput(f"state 应为 {'、'.join(ROSTER_STATES)} 之一")
    rows: list[dict[str, Any]] = []
    for row in islice(monitoring_roster_rows(_scope(), state), LIMIT + 1):
        rows.append({"case_id": row.case_id, "town": row.town, "village": row.village, "head_name": row.head_name,
                     "size": row.size, "household_kind": row.household_kind, "lifted_year": row.lifted_year,
                     "category": row.category, "risk_types": row.risk_types, "channel": row.channel,
                     "identified_on": row.identified_on.isoformat(), "eliminated": row.eliminated,
                     "eliminated_on": row.eliminated_on.isoformat() if row.eliminated_on else None,
                     "cadre": row.cadre, "status": row.status})
    return jsonify({"households": rows[:LIMIT], "truncated": len(rows) > LIMIT})


@bp.route("/monitoring/eliminations")
@token_required
@reads_from_replica
def monitoring_eliminations() -> Response:
    """风险消除名单 of a period (`from`, `to`: YYYY-MM-DD; default this year to today)."""
    today = china_today()
    try:
        first = date.fromisoformat(request.args.get("from") or date(today.year, 1, 1).isoformat())
        last = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        raise InvalidInput("日期格式应为 YYYY-MM-DD") from None
    if last < first:
        raise InvalidInput("结束日期不能早于开始日期")
    rows = [{"case_id": r.case_id, "town": r.town, "village": r.village, "head_name": r.head_name, "size": r.size,
             "category": r.category, "identified_on": r.identified_on.isoformat() if r.identified_on else None,
             "eliminated_on": r.eliminated_on.isoformat(), "months_monitored": r.months_monitored,
             "measures_done": r.measures_done, "cadre": r.cadre}
            for r in islice(elimination_rows(_scope(), first, last), LIMIT + 1)]
    return jsonify({"households": rows[:LIMIT], "truncated": len(rows) > LIMIT})


@bp.route("/cases/<int:case_id>/elimination-reversal", methods=["POST"])
@token_required
def revert_case_elimination(case_id: int) -> Response:
    """回退 of a risk elimination, with its reason (the county office): monitoring resumes in the same case."""
    body = _json_body()
    reason = body.get("reason")
    case = revert_elimination(case_id, reason if isinstance(reason, str) else "", g.api_user)
    db.session.commit()
    return jsonify(case_json(case_ops.get_case(case.id), detail=True))
