"""Rules a county changes are data with history, editable in the app: the yearly monitoring line (监测范围) per
region with its source document, and time limits from a day on. The county office records them; every change is
a new row and an audit event; a refused value stores nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.clock import china_today
from app.extensions import db
from app.models import CountySetting, Event, MonitoringLine
from app.settings import line_for, setting_value

COUNTY, CHENGGUAN = "610922", "610922100"
SETTINGS = "/settings"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_county_office_records_the_years_line_and_a_correction_keeps_the_history(app, login_as):
    office = login_as("county_office")
    saved = office.post(f"{SETTINGS}/monitoring-lines", {"year": "2026", "region_code": COUNTY, "amount": "8700",
                                                         "source_document": "陕乡振发〔2026〕3号", "note": ""},
                        page=SETTINGS)
    assert saved.status_code == 303
    corrected = office.post(f"{SETTINGS}/monitoring-lines", {"year": "2026", "region_code": COUNTY,
                                                             "amount": "8800.50",
                                                             "source_document": "陕乡振发〔2026〕5号（更正）"},
                            page=SETTINGS)
    assert corrected.status_code == 303
    page = office.get(SETTINGS).get_data(as_text=True)
    assert "8800.50" in page and "8700.00" in page and "已被更正" in page and "陕乡振发〔2026〕5号（更正）" in page
    with app.app_context():
        line = line_for(2026, "610922100001")
        assert line is not None and line.amount == Decimal("8800.50")
        assert line_for(2025, "610922100001") is None
        assert db.session.scalar(select(func.count()).select_from(Event)
                                 .where(Event.kind == "monitoring_line_set")) == 2


def test_a_towns_own_line_applies_to_its_villages_only(app, login_as):
    office = login_as("county_office")
    for region, amount in ((COUNTY, "8700"), (CHENGGUAN, "9000")):
        office.post(f"{SETTINGS}/monitoring-lines", {"year": "2026", "region_code": region, "amount": amount,
                                                     "source_document": "县乡村振兴局通知"}, page=SETTINGS)
    with app.app_context():
        assert line_for(2026, "610922100001").amount == Decimal("9000")
        assert line_for(2026, "610922101001").amount == Decimal("8700")


def test_a_bad_line_is_refused_with_the_field_named_and_nothing_stored(app, login_as):
    office = login_as("county_office")
    for form, message in (
        ({"year": "2026", "region_code": COUNTY, "amount": "-1", "source_document": "文件"}, "大于 0"),
        ({"year": "2026", "region_code": COUNTY, "amount": "八千", "source_document": "文件"}, "金额"),
        ({"year": "2026", "region_code": COUNTY, "amount": "8700", "source_document": " "}, "确定监测标准的文件"),
        ({"year": "1999", "region_code": COUNTY, "amount": "8700", "source_document": "文件"}, "年度应在"),
        ({"year": "2026", "region_code": "610922100001", "amount": "8700", "source_document": "文件"},
         "本县或本县的一个镇"),
    ):
        refused = office.post(f"{SETTINGS}/monitoring-lines", form, page=SETTINGS)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert _count(app, MonitoringLine) == 0


def test_a_time_limit_changes_from_its_day_on_and_the_old_value_stays_in_force_before(app, login_as):
    key = "lead_verification_working_days"
    with app.app_context():
        assert setting_value(key, area_code=COUNTY) == 3  # the default, before anyone set it
    office = login_as("county_office")
    starts = china_today() + timedelta(days=7)
    saved = office.post(f"{SETTINGS}/rules/{key}", {"value": "5", "effective_from": starts.isoformat(),
                                                    "source_document": "石防返贫办〔2026〕12号"}, page=SETTINGS)
    assert saved.status_code == 303
    with app.app_context():
        assert setting_value(key, area_code=COUNTY) == 3
        assert setting_value(key, on=starts, area_code=COUNTY) == 5
        assert db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "setting_changed")) == 1
    assert "石防返贫办〔2026〕12号" in office.get(SETTINGS).get_data(as_text=True)


def test_a_time_limit_outside_its_bounds_or_backdated_is_refused(app, login_as):
    key = "lead_verification_working_days"
    office = login_as("county_office")
    for form, message in (
        ({"value": "0", "effective_from": china_today().isoformat(), "source_document": "文"}, "1 到 10 之间的整数"),
        ({"value": "3天", "effective_from": china_today().isoformat(), "source_document": "文"}, "1 到 10 之间的整数"),
        ({"value": "4", "effective_from": (china_today() - timedelta(days=1)).isoformat(), "source_document": "文"},
         "生效日期不能早于今天"),
        ({"value": "4", "effective_from": "明天", "source_document": "文"}, "请填写生效日期"),
        ({"value": "4", "effective_from": china_today().isoformat(), "source_document": ""}, "设置依据"),
    ):
        refused = office.post(f"{SETTINGS}/rules/{key}", form, page=SETTINGS)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert office.post(f"{SETTINGS}/rules/no_such_rule", {"value": "4", "effective_from": date.today().isoformat(),
                                                          "source_document": "文"}, page=SETTINGS).status_code == 422
    assert _count(app, CountySetting) == 0


def test_only_the_county_office_changes_settings_and_area_workers_read_them(app, login_as):
    assert "县级设置" in login_as("chengguan_certifier").get(SETTINGS).get_data(as_text=True)
    assert login_as("chengguan01_cadre1").get(SETTINGS).status_code == 403
    town = login_as("chengguan_certifier")
    refused = town.post(f"{SETTINGS}/monitoring-lines", {"year": "2026", "region_code": COUNTY, "amount": "8700",
                                                         "source_document": "文件"}, page=SETTINGS)
    assert refused.status_code == 403 and _count(app, MonitoringLine) == 0


def test_the_latest_decision_wins_from_its_day_on(app, login_as):
    """A value recorded for a later day, then corrected by one recorded from today: the correction holds."""
    key = "lead_verification_working_days"
    office = login_as("county_office")
    later = china_today() + timedelta(days=20)
    for value, starts in (("10", later), ("4", china_today())):
        assert office.post(f"{SETTINGS}/rules/{key}", {"value": value, "effective_from": starts.isoformat(),
                                                       "source_document": "县办通知"}, page=SETTINGS).status_code == 303
    with app.app_context():
        assert setting_value(key, area_code=COUNTY) == 4 and setting_value(key, on=later, area_code=COUNTY) == 4
