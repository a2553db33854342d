"""Supervision pages: where cases wait on each diagram (the heatmap), and the diagrams themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from app.access import can_read_warning_statistics, in_area, works_an_area
from app.areas import CODE_LENGTHS
from app.clock import china_moment, china_today
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import LEAD_CHANNELS
from app.models import ProcessVersion
from app.replica import reads_from_replica
from app.supervision.paths import HeatFilter, heatmap, heatmap_units, heatmap_versions
from app.supervision.snapshots import HEATMAP_DAYS, snapshot_heatmap
from app.supervision.warnings import OUTCOMES, warnings_overview

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


@bp.route("/diagrams/<int:version_id>.bpmn")
@login_required
def diagram_xml(version_id: int) -> Response:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound("流程版本不存在")
    return Response(version.bpmn_xml, mimetype="application/xml")


def _day(name: str, default: str) -> datetime:
    text = request.args.get(name) or default
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"日期格式应为 YYYY-MM-DD：{text}") from exc


@bp.route("/warnings")
@login_required
@reads_from_replica
def warnings_page() -> str:
    if not can_read_warning_statistics(current_user):
        raise PermissionDenied("预警统计供县办和督查人员查看")
    today = china_today()
    year = request.args.get("year", type=int) or today.year
    if not 2020 <= year <= today.year:
        raise InvalidInput(f"年份应在 2020 到 {today.year} 之间")
    overview = warnings_overview(year, current_user.area_code, int(current_app.config.get("CERTIFICATION_DAYS", 15)))
    return render_template("supervision/warnings.html", overview=overview, chart_data=overview.chart_data(),
                           outcomes=OUTCOMES, today=today)


@bp.route("/heatmap")
@login_required
@reads_from_replica
def heatmap_page() -> str:
    if not works_an_area(current_user):
        raise PermissionDenied("包抓干部没有督查页面")
    versions = heatmap_versions()
    chosen = request.args.get("version", type=int)
    version = next((v for v in versions if v.id == chosen), None) if chosen else None
    if version is None:
        version = next((v for v in versions if v.process_key == "household_case"), versions[0] if versions else None)
    today = china_today()
    start = _day("from", (today - timedelta(days=HEATMAP_DAYS)).isoformat()).date()
    end = _day("to", today.isoformat()).date()
    if end < start:
        raise InvalidInput("结束日期不能早于开始日期")
    only = HeatFilter(category=request.args.get("category") or "", channel=request.args.get("channel") or "",
                      town=request.args.get("town") or "")
    if only.town and not (len(only.town) == CODE_LENGTHS["town"] and only.town.isdigit()):
        raise InvalidInput(f"镇的代码应为 9 位数字：{only.town}")
    if only.town and not in_area(current_user, only.town):
        raise PermissionDenied("只能查看本辖区内的镇")
    if only.category and only.category not in MONITORING_CATEGORIES:
        raise InvalidInput(f"未知的监测对象类型：{only.category}")
    if only.channel and only.channel not in LEAD_CHANNELS:
        raise InvalidInput(f"未知的发现渠道：{only.channel}")
    since, until = china_moment(start, 0), china_moment(end + timedelta(days=1), 0)
    # Which town is slow at which step: the same figures per town (per county for a city's or province's user).
    kept = snapshot_heatmap(current_user, version, start, end, only, today) if version else None
    heat, snapshot = kept if kept else (heatmap(current_user, version, since, until, only) if version else None, None)
    cells, by_town = (heat.cells, heat.by_town) if heat else ([], None)
    towns = heatmap_units(current_user) if by_town and by_town.unit == "镇" else []
    data = {"kind": "heat", "cells": [c.__dict__ for c in cells], "case_list_url": url_for("cases.index"),
            "xml_url": url_for("supervision.diagram_xml", version_id=version.id) if version else ""}
    return render_template("supervision/heatmap.html", versions=versions, version=version, cells=cells,
                           start=start, end=end, data=data, only=only, by_town=by_town, towns=towns,
                           snapshot=snapshot)
