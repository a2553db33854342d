"""县级设置: the rules the county sets (time limits, the yearly monitoring line), each with its history; the county
office records a new value, everyone who works an area reads them."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import settings as county_settings
from app.access import can_change_settings, works_an_area
from app.areas import below, chosen_county
from app.clock import china_today
from app.errors import InvalidInput
from app.extensions import db
from app.models import Area

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
@login_required
def _only_area_workers() -> None:
    if not works_an_area(current_user):
        abort(403)


def _county() -> tuple[Area, list[Area]]:
    """The county whose settings the page shows: the user's own, or for a city's or province's supervisor the
    one chosen of theirs (the first by default)."""
    county, counties = chosen_county(current_user.area_code, request.args.get("county"))
    if county is None:
        abort(404)
    return county, counties


def _page(errors: dict[str, list[str]] | None = None, form: dict[str, str] | None = None,
          status: int = 200) -> tuple[str, int]:
    county, counties = _county()
    regions = db.session.scalars(select(Area).where(Area.level.in_(("county", "town")), below(Area.code, county.code))
                                 .order_by(Area.code)).all()
    rules = [(rule, county_settings.current_value(rule, area_code=county.code),
              county_settings.setting_history(rule.key, area_code=county.code))
             for rule in county_settings.RULES.values()]
    names = {area.code: area.name for area in regions}
    lines = county_settings.line_history(area_code=county.code)
    return render_template("settings/index.html", rules=rules, lines=lines, regions=regions, names=names,
                           county=county, counties=counties,
                           may_change=can_change_settings(current_user), errors=errors or {},
                           form=form or {}, today=china_today()), status


@bp.route("")
def index() -> tuple[str, int]:
    return _page()


def _only_the_county_office() -> None:
    if not can_change_settings(current_user):
        abort(403)


@bp.route("/rules/<key>", methods=["POST"])
def change_rule(key: str) -> Response | tuple[str, int]:
    _only_the_county_office()
    form = request.form
    try:
        effective_from = date.fromisoformat(form.get("effective_from", ""))
    except ValueError:
        return _page({"effective_from": ["请填写生效日期（YYYY-MM-DD）"]}, {"rule": key, **form}, 422)
    try:
        county_settings.record_setting(key, form.get("value", ""), effective_from, form.get("source_document", ""),
                                       form.get("note", ""), current_user)
    except InvalidInput as exc:
        db.session.rollback()
        return _page(exc.errors or {"value": [exc.message]}, {"rule": key, **form}, 422)
    db.session.commit()
    flash("设置已保存", "success")
    return redirect(url_for("settings.index"), code=303)


@bp.route("/monitoring-lines", methods=["POST"])
def add_line() -> Response | tuple[str, int]:
    _only_the_county_office()
    form = request.form
    try:
        county_settings.record_line(form.get("year", ""), form.get("region_code", ""), form.get("amount", ""),
                                    form.get("source_document", ""), form.get("note", ""), current_user)
    except InvalidInput as exc:
        db.session.rollback()
        return _page({f"line_{k}": v for k, v in exc.errors.items()}, {"rule": "line", **form}, 422)
    db.session.commit()
    flash("监测标准已保存", "success")
    return redirect(url_for("settings.index"), code=303)
