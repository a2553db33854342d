"""The audit log (审计日志) for a period: on screen, paged, and as Excel for an accountability referral.
Administrators and the county headquarters' supervisors read it; every export is itself logged."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.access import can_read_audit_log, covers_every_county
from app.areas import county_or_area_name
from app.audit.log import (
    KIND_LABELS,
    AuditQuery,
    count_events,
    export_filename,
    kind_label,
    page_of_events,
    record,
    write_audit_workbook,
)
from app.clock import china_today
from app.extensions import db
from app.replica import reads_from_replica

bp = Blueprint("audit", __name__, url_prefix="/audit")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 100


@bp.before_request
@login_required
def _only_readers() -> None:
    if not can_read_audit_log(current_user):
        abort(403)


def _query() -> tuple[AuditQuery | None, str | None]:
    args = request.args
    try:
        # A reader whose area holds every county reads everything (the timers' events too); otherwise what the
        # users of their own area did.
        area = None if covers_every_county(current_user) else current_user.area_code
        return AuditQuery.parse(args.get("start"), args.get("end"), args.get("kind"), args.get("user"),
                                today=china_today(), area_code=area), None
    except ValueError as exc:
        return None, str(exc)


@bp.route("")
@reads_from_replica
def index() -> tuple[str, int]:
    query, error = _query()
    if query is None:
        fallback = AuditQuery.parse(None, None, today=china_today())
        return render_template("audit/index.html", query=fallback, error=error, events=[], total=0, page=1,
                               per_page=PER_PAGE, kinds=KIND_LABELS, kind_label=kind_label, args={}), 422
    page = max(1, request.args.get("page", 1, type=int) or 1)
    args = {"start": query.start.isoformat(), "end": query.end.isoformat(), "kind": query.kind or None,
            "user": query.username or None}
    return render_template("audit/index.html", query=query, error=None, events=page_of_events(query, page, PER_PAGE),
                           total=count_events(query), page=page, per_page=PER_PAGE, kinds=KIND_LABELS,
                           kind_label=kind_label, args=args), 200


@bp.route("/export.xlsx")
@reads_from_replica
def export() -> Response | tuple[str, int]:
    query, error = _query()
    if query is None:
        return index()
    out = io.BytesIO()
    count = write_audit_workbook(query, county_or_area_name(current_user.area_code), out)
    out.seek(0)
    filename = export_filename(query)
    record("audit_exported", current_user, filename,
           {"start": query.start.isoformat(), "end": query.end.isoformat(), "kind": query.kind,
            "user": query.username, "events": count})
    db.session.commit()
    return send_file(out, mimetype=XLSX, as_attachment=True, max_age=0, download_name=filename)
