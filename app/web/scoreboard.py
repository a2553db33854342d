"""Supervision of towns and villages: the monthly scoreboard, and the annual review with its accountability lists
(shown for the user's own area, exported to Excel for referral)."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.areas import counties_below, county_name_of, is_above_county
from app.audit import log as audit
from app.clock import china_today
from app.errors import InvalidInput
from app.extensions import db
from app.models import Area
from app.replica import reads_from_replica
from app.reports.scope import ReportMonth
from app.supervision.annual_review import (
    AnnualReview,
    build_annual_review,
    parse_year,
    workbook_filename,
    write_annual_review,
)
from app.supervision.scoreboard import SupervisionScope, build_scoreboard, resolve_supervision_scope
from app.supervision.snapshots import snapshot_scoreboard

bp = Blueprint("scoreboard", __name__, url_prefix="/supervision")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_ROWS = 200


def _scope() -> SupervisionScope:
    return resolve_supervision_scope(current_user, request.args.get("area") or request.args.get("town"))


def _unit_label(scope: SupervisionScope) -> str:
    if scope.level == "village":
        parent = db.session.get(Area, scope.area.parent_code) if scope.area.parent_code else None
        return f"{parent.name if parent else ''}{scope.area.name}"
    return scope.area.name


@bp.route("/scoreboard")
@login_required
@reads_from_replica
def scoreboard() -> str:
    scope = _scope()
    month_text = (request.args.get("month") or "").strip()
    today = china_today()
    month = ReportMonth.parse(month_text) if month_text else ReportMonth.of(today)
    kept = snapshot_scoreboard(scope, month, today)
    board, snapshot = kept if kept else (
        build_scoreboard(scope, month, today, int(current_app.config.get("CERTIFICATION_DAYS", 15))), None)
    return render_template("supervision/scoreboard.html", board=board, scope=scope, month=month,
                           unit_label=_unit_label(scope), chart_data=board.chart_data(), snapshot=snapshot)


def _review(scope: SupervisionScope) -> AnnualReview:
    today = china_today()
    year = parse_year(request.args.get("year"), today)
    return build_annual_review(scope, year, today, current_app.config["COUNTY_OFFICE_NAME"])


@bp.route("/annual-review")
@login_required
@reads_from_replica
def annual_review() -> str:
    scope = _scope()
    if is_above_county(scope.code):
        # The annual review is each county's (rulebook 五(四)): a city or province chooses the county.
        year = parse_year(request.args.get("year"), china_today())
        return render_template("supervision/annual_review_counties.html", scope=scope, year=year,
                               counties=counties_below(scope.code), unit_label=_unit_label(scope))
    review = _review(scope)
    return render_template("supervision/annual_review.html", review=review, scope=scope,
                           unit_label=_unit_label(scope), preview=PREVIEW_ROWS)


@bp.route("/annual-review.xlsx")
@login_required
@reads_from_replica
def annual_review_export() -> Response:
    scope = _scope()
    if is_above_county(scope.code):
        raise InvalidInput("年度考核按县导出：请先选择一个县")
    review = _review(scope)
    county_name = county_name_of(scope.code)
    unit_label = _unit_label(scope)
    out = io.BytesIO()
    write_annual_review(review, county_name, unit_label, out)
    out.seek(0)
    filename = workbook_filename(county_name, review, unit_label)
    audit.record("annual_review_exported", current_user, filename, {"year": review.year, "area": scope.code})
    db.session.commit()
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)
