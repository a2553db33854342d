"""Thin blueprints per user kind; they parse the request, call one operation, render or redirect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.extensions import db, login_manager


def register_web(app: Flask) -> None:
    from app.web import (
        account,
        admin,
        api,
        api_departments,  # noqa: F401 (its routes join the api blueprint)
        api_exchange,  # noqa: F401 (its routes join the api blueprint)
        api_leads,  # noqa: F401 (its routes join the api blueprint)
        api_measures,  # noqa: F401 (its routes join the api blueprint)
        api_national,  # noqa: F401 (its routes join the api blueprint)
        api_reports,  # noqa: F401 (its routes join the api blueprint)
        audit,
        auth,
        cases,
        collab,
        declare,
        departments,
        errors,
        exchange,
        household_file,
        households,
        leads,
        monitoring,
        notices,
        reports,
        scoreboard,
        screenings,
        settings,
        supervision,
        tasks,
    )

    # Every <int:…> in a URL is a row id: one past a 32-bit integer column (PostgreSQL int4) must answer 404, not
    # reach the database as a number it cannot hold (a server error).
    app.url_map.converters["int"] = RowId
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"
    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(screenings.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(households.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(scoreboard.bp)
    app.register_blueprint(collab.bp)
    app.register_blueprint(household_file.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(leads.bp)
    app.register_blueprint(declare.bp)
    app.register_blueprint(monitoring.bp)
    app.register_blueprint(departments.bp)
    app.register_blueprint(exchange.bp)
    errors.register(app)
    _register_template_helpers(app)


class RowId(IntegerConverter):
    """An id past 2**31 - 1 becomes 0, which names no row: the view answers "not found" as for any unknown id
    (refusing the match instead would make Werkzeug answer 405 to a POST, from the GET rule of the same path)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= 2**31 - 1 else 0


@login_manager.user_loader
def _load_user(user_id: str) -> Any:
    from app.models import User

    return db.session.get(User, int(user_id))


def _register_template_helpers(app: Flask) -> None:
    from app.clock import to_china
    from app.households.idnumber import masked_id
    from app.roles import role_label
    from app.vocab import (
        CASE_STATUSES,
        CHECK_OUTCOMES,
        DECISION_LABELS,
        GUARANTEE_ITEMS,
        HOUSEHOLD_KINDS,
        MEASURE_TYPES,
        NOT_CHECKED_REASONS,
        PROCEDURES,
        RISK_LEVELS,
        RISK_TYPES,
        SCREENING_STATUSES,
    )

    @app.template_filter("cst")
    def _cst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return to_china(value).strftime(fmt) if value else ""

    from app.leads.income import MONITORING_CATEGORIES
    from app.leads.vocab import DECLARATION_SOURCES, LEAD_CHANNELS, LEAD_STATUSES, NATIONAL_RISK_TYPES, URGENCIES
    from app.notices.lists import KINDS as NOTICE_KINDS

    app.template_filter("masked_id")(masked_id)
    # The pages ask app.access what the user may do, as the views do: no role names in templates.
    from app import access

    for predicate in (access.is_administrator, access.works_an_area, access.can_read_audit_log,
                      access.can_import_households, access.can_act_on, access.can_change_settings,
                      access.can_revert_elimination, access.can_read_warning_rules,
                      access.can_read_warning_statistics, access.can_exchange_with_national_system,
                      access.can_write_on_case, access.only_supervises, access.can_approve_in_batch):
        app.jinja_env.globals[predicate.__name__] = predicate
    app.template_filter("risk_label")(lambda key: RISK_TYPES.get(key, key))
    app.template_filter("guarantee_label")(lambda key: GUARANTEE_ITEMS.get(key, key))

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        inbox_count = 0
        if current_user.is_authenticated and not request.path.startswith("/api/"):
            from app.tasks.inbox import count_open

            inbox_count = count_open(current_user)  # counted up to 1001: the badge reads "1000+" beyond
        return {
            "role_label": role_label,
            "RISK_TYPES": RISK_TYPES,
            "RISK_LEVELS": RISK_LEVELS,
            "CASE_STATUSES": CASE_STATUSES,
            "SCREENING_STATUSES": SCREENING_STATUSES,
            "MEASURE_TYPES": MEASURE_TYPES,
            "HOUSEHOLD_KINDS": HOUSEHOLD_KINDS,
            "DECISION_LABELS": DECISION_LABELS,
            "CHECK_OUTCOMES": CHECK_OUTCOMES,
            "GUARANTEE_ITEMS": GUARANTEE_ITEMS,
            "LEAD_CHANNELS": LEAD_CHANNELS,
            "LEAD_STATUSES": LEAD_STATUSES,
            "DECLARATION_SOURCES": DECLARATION_SOURCES,
            "NATIONAL_RISK_TYPES": NATIONAL_RISK_TYPES,
            "URGENCIES": URGENCIES,
            "MONITORING_CATEGORIES": MONITORING_CATEGORIES,
            "PROCEDURES": PROCEDURES,
            "NOTICE_KINDS": NOTICE_KINDS,
            "NOT_CHECKED_REASONS": NOT_CHECKED_REASONS,
            "inbox_count": inbox_count,
            "county_name": _county_name(),
        }

    def _county_name() -> str:
        """The user's county (in a city's or province's deployment, the area they supervise), else the one the
        deployment was set up for."""
        if not current_user.is_authenticated:
            return str(app.config["COUNTY_NAME"])
        from app.areas import county_name_of, is_above_county

        if is_above_county(current_user.area_code):
            return current_user.area.name
        return county_name_of(current_user.area_code, app.config["COUNTY_NAME"])
