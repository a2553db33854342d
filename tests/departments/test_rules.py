"""预警规则: each department's list has its rules, data the county office edits with history (a new version from a
day on; the earlier one stays); each rule names its risk type in the county's six and the national codes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Household, IncomeAssessment, MonitoringLine, RiskLead, User, WarningRule
from tests.departments.conftest import heads, upload, xlsx

DAY = date(2026, 11, 20)  # the November list, uploaded on the 20th


def _leads(app) -> list[RiskLead]:
    with app.app_context():
        rows = db.session.scalars(select(RiskLead).order_by(RiskLead.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


# Per department: its list's header, a row (by a member's name and ID number) that meets the rule, one that does
# not, and the risk types the lead carries (national) — the county's six go with the rule.
LISTS = {
    "minzheng": (["姓名", "证件号码", "救助类别", "变动情况", "变动日期"],
                 lambda n, i: [n, i, "农村低保", "新增低保", "2026-11-05"],
                 lambda n, i: [n, i, "农村低保", "提标", "2026-11-05"], ["other"]),
    "yingji": (["姓名", "证件号码", "灾害类型", "房屋受损程度", "受灾日期"],
               lambda n, i: [n, i, "山洪", "房屋倒塌", "2026-11-12"],
               lambda n, i: [n, i, "山洪", "一般损坏", "2026-11-12"], ["disaster"]),
    "renshe": (["姓名", "证件号码", "失业日期", "原就业单位"],
               lambda n, i: [n, i, "2026-07-31", "某电子厂"],
               lambda n, i: [n, i, "2026-10-01", "某电子厂"], ["employment"]),
    "canlian": (["姓名", "证件号码", "残疾类别", "残疾等级", "发证日期"],
                lambda n, i: [n, i, "肢体", "二级", "2026-11-02"],
                lambda n, i: [n, i, "肢体", "二级", "2026-09-02"], ["disability"]),
    "jiaoyu": (["姓名", "证件号码", "学校", "学籍状态", "变动日期"],
               lambda n, i: [n, i, "城关初中", "辍学", "2026-11-02"],
               lambda n, i: [n, i, "城关初中", "在读", "2026-11-02"], ["schooling"]),
    "zhujian": (["姓名", "证件号码", "鉴定等级", "鉴定日期"],
                lambda n, i: [n, i, "D级", "2026-11-02"],
                lambda n, i: [n, i, "B级", "2026-11-02"], ["other"]),
}


@pytest.mark.parametrize("department", list(LISTS))
def test_each_departments_rule_makes_a_lead_of_the_rows_that_meet_it(app, login_as, department):
    header, meets, misses, national = LISTS[department]
    (a_name, a_id, a_household), (b_name, b_id, _), *_ = heads(app)
    with travel_to(china_moment(DAY, 10)):
        upload(login_as(f"department_{department}"), xlsx([header, meets(a_name, a_id), misses(b_name, b_id)], (2,)),
               expect=303)
    [lead] = _leads(app)
    assert lead.household_id == a_household and lead.risk_types == national and lead.source == department
    assert lead.urgency == ("urgent" if department == "yingji" else "normal")  # a disaster takes the fast path


def test_out_of_pocket_costs_against_the_households_income(app, login_as):
    (name, number, household), *_ = heads(app)
    with app.app_context():  # the household's last 收支测算: 10,000 a year net
        line = MonitoringLine(year=2026, region_code="610922", amount=8700, source_document="测试")
        db.session.add(line)
        db.session.flush()
        db.session.add(IncomeAssessment(
            household_id=household, lead_id=_a_lead(household), period_from=date(2025, 11, 1),
            period_to=date(2026, 10, 31), member_incomes=[], persons=4, total_income=12000, business_costs=2000,
            eligible_spending=0, per_capita_net=2500, per_capita_after_spending=2500, monitoring_line_id=line.id,
            line_amount=8700, within_line=True, proposed_category="marginal"))
        db.session.commit()
    rows = [["姓名", "证件号码", "个人自付"], [name, number, 6000]]  # 60% of the household's income, under 10,000
    with travel_to(china_moment(DAY, 10)):
        upload(login_as("department_yibao"), xlsx(rows, (2,)), expect=303)
    lead = _leads(app)[-1]
    assert lead.channel == "department_warning" and "占家庭年纯收入 60%" in lead.description


def _a_lead(household_id: int) -> int:
    """An earlier lead of the household, closed, for its income assessment to belong to."""
    from app.models import Household as HouseholdModel

    household = db.session.get(HouseholdModel, household_id)
    lead = RiskLead(receipt_no="FPTEST0001", channel="self_declared", source="web", household_id=household_id,
                    village_code=household.village_code, town_code=household.town_code, reporter_name="户主",
                    discovered_on=date(2026, 10, 1), risk_types=["illness"], description="测试", status="not_confirmed")
    db.session.add(lead)
    db.session.flush()
    return lead.id


def test_the_county_office_changes_a_rule_from_a_day_on_and_keeps_its_history(app, login_as):
    office = login_as("county_office")
    form = {"label": "年度个人自付医疗费用较高", "threshold": "5000", "risk_type": "major_illness",
            "national_risk_type": "illness", "active": "1", "effective_from": (DAY + timedelta(days=1)).isoformat(),
            "source_document": "县防返贫工作领导小组会议纪要〔2026〕5号"}
    (name, number, _), (other, other_id, _), *_ = heads(app)
    with travel_to(china_moment(DAY, 9)):
        assert office.post("/departments/rules/yibao_out_of_pocket_year", form,
                           page="/departments/rules").status_code == 303
        # The day before it is in force, 6,000 is still under the rule.
        upload(login_as("department_yibao"), xlsx([["姓名", "证件号码", "个人自付"], [name, number, 6000]], (2,)),
               expect=303)
    assert _leads(app) == []
    with travel_to(china_moment(DAY + timedelta(days=1), 9)):
        upload(login_as("department_yibao"), xlsx([["姓名", "证件号码", "个人自付"], [other, other_id, 6000]],
                                                  (2,)), expect=303)
        page = login_as("supervisor").get("/departments/rules").get_data(as_text=True)
    assert len(_leads(app)) == 1
    assert "个人自付全年累计不低于 5000 元" in page and "〔2026〕5号" in page
    with app.app_context():
        [version] = db.session.scalars(select(WarningRule)).all()
        assert version.threshold == "5000" and version.recorded_by_id == db.session.scalar(
            select(User.id).where(User.username == "county_office"))


def test_a_rule_is_switched_off_and_bad_values_are_refused_with_nothing_recorded(app, login_as):
    office = login_as("county_office")
    base = {"label": "住房鉴定为危房", "risk_type": "other", "national_risk_type": "other",
            "effective_from": DAY.isoformat(), "source_document": "县住建局通知"}
    with travel_to(china_moment(DAY, 9)):
        refused = office.post("/departments/rules/zhujian_unsafe_house", {**base, "threshold": "", "active": "1"},
                              page="/departments/rules")
        assert refused.status_code == 422 and "请填写一个或多个取值" in refused.get_data(as_text=True)
        refused = office.post("/departments/rules/yibao_out_of_pocket_share",
                              {**base, "threshold": "150", "active": "1"}, page="/departments/rules")
        assert refused.status_code == 422 and "百分比不能超过 100" in refused.get_data(as_text=True)
        assert office.post("/departments/rules/zhujian_unsafe_house", {**base, "threshold": "D级"},
                           page="/departments/rules").status_code == 303  # no "active": switched off
        (name, number, _), *_ = heads(app)
        upload(login_as("department_zhujian"), xlsx([["姓名", "证件号码", "鉴定等级"], [name, number, "D级"]], (2,)),
               expect=303)
        assert login_as("department_yibao").post("/departments/rules/zhujian_unsafe_house", base,
                                                 page="/departments/rules").status_code == 403
    assert _leads(app) == []
    with app.app_context():
        assert len(db.session.scalars(select(WarningRule)).all()) == 1


def test_a_new_rule_on_a_departments_field(app, login_as):
    office = login_as("county_office")
    with travel_to(china_moment(DAY, 9)):
        saved = office.post("/departments/rules", {
            "key": "minzheng_temporary_relief", "department": "minzheng", "field": "assistance", "operator": "one_of",
            "threshold": "临时救助", "label": "获得临时救助", "risk_type": "other", "national_risk_type": "other",
            "active": "1", "effective_from": DAY.isoformat(), "source_document": "县民政局通知"},
            page="/departments/rules")
        assert saved.status_code == 303
        (name, number, household), *_ = heads(app)
        upload(login_as("department_minzheng"), xlsx([["姓名", "证件号码", "救助类别", "变动情况"],
                                                      [name, number, "临时救助", "本月发放"]], (2,)), expect=303)
    [lead] = _leads(app)
    assert lead.household_id == household and "获得临时救助" in lead.description
    with app.app_context():
        assert db.session.get(Household, household) is not None
