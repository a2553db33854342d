"""收支测算 after a lead is confirmed: each member's income by type over the 12 months ending with the month before,
business costs and eligible out-of-pocket spending; the per-capita net income is weighed against the year's
monitoring line (监测范围, a county setting), which decides the monitoring category proposed: within the line a
lifted-out household is 脱贫不稳定户 and another 边缘易致贫户; above it, 突发严重困难户."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.clock import china_moment, travel_to
from app.extensions import db
from app.leads.income import income_window, proposed_category
from app.models import Household, IncomeAssessment, RiskLead
from tests.collab.conftest import JPEG
from tests.leads.test_declarations import Resident, declaration, leads, member_of
from tests.leads.test_verification import VERIFIED, upload, verification_task

DAY = date(2026, 6, 15)


def confirmed_lead(app, login_as, index: int = 0) -> RiskLead:
    """A declared lead, verified at home as real: it waits for the income assessment."""
    _, name, number = member_of(app, index=index)
    assert Resident(app).declare(**declaration(name, number)).status_code == 201
    lead = leads(app)[-1]
    team = login_as("chengguan01_team")
    task = verification_task(app, lead.id)
    assert upload(team, lead.id, task.id, JPEG).status_code == 303
    team.complete("Task_VerifyAtHome", dict(VERIFIED, visited_on=DAY.isoformat()), case_id=None)
    assert verification_task(app, lead.id).bpmn_id == "Task_AssessIncome"
    return lead


def set_line(login_as, amount: str, year: int = 2026) -> None:
    saved = login_as("county_office").post("/settings/monitoring-lines", {
        "year": str(year), "region_code": "610922", "amount": amount, "source_document": "陕西省年度监测范围通知"},
        page="/settings")
    assert saved.status_code == 303


def income_form(team, task_id: int, wages: list[str], **totals: str) -> list[tuple[str, str]]:
    """The task page's own member rows, filled in: wages for the first members, the rest nothing."""
    html = team.get(f"/tasks/{task_id}").get_data(as_text=True)
    member_ids = re.findall(r'name="members-(\d+)-member_id" type="hidden" value="(\d+)"', html)
    assert member_ids, "no member rows on the income form"
    pairs = []
    for (index, member_id), wage in zip(member_ids, wages + ["0"] * len(member_ids), strict=False):
        pairs += [(f"members-{index}-member_id", member_id), (f"members-{index}-wage", wage),
                  (f"members-{index}-transfer", "0")]
    pairs += list(totals.items())
    return pairs


def test_the_income_window_is_the_twelve_months_before_the_month():
    assert income_window(date(2021, 6, 15)) == (date(2020, 6, 1), date(2021, 5, 31))
    assert income_window(date(2026, 1, 3)) == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize("within, kind, category", [
    (True, "lifted", "unstable_lifted"), (True, "non_poor", "marginal"),
    (False, "lifted", "sudden_hardship"), (False, "non_poor", "sudden_hardship")])
def test_the_line_and_the_households_kind_propose_the_category(within, kind, category):
    assert proposed_category(within, kind) == category


def test_no_assessment_without_the_years_monitoring_line(app, login_as):
    with travel_to(china_moment(DAY, 10)):
        lead = confirmed_lead(app, login_as)
        team = login_as("chengguan01_team")
        task = verification_task(app, lead.id)
        assert "本年度监测标准尚未登记" in team.get(f"/tasks/{task.id}").get_data(as_text=True)
        refused = team.complete("Task_AssessIncome", income_form(team, task.id, ["20000"], persons="4"), expect=422)
        assert "2026 年的监测标准尚未登记" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(IncomeAssessment.id)) is None


def test_a_household_within_the_line_is_proposed_by_its_kind_and_the_record_keeps_the_line(app, login_as):
    with travel_to(china_moment(DAY, 10)):
        set_line(login_as, "8700")
        lead = confirmed_lead(app, login_as)
        team = login_as("chengguan01_team")
        task = verification_task(app, lead.id)
        page = team.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert "2025-06-01 至 2026-05-31" in page and "8700.00" in page
        team.complete("Task_AssessIncome", income_form(
            team, task.id, ["15000", "9000"], persons="4", business_costs="2000", medical_spending="9000",
            schooling_spending="1000"))
    set_line(login_as, "9000")  # a later correction of the line does not rewrite the record
    with app.app_context():
        record = db.session.scalar(select(IncomeAssessment).where(IncomeAssessment.lead_id == lead.id))
        household = db.session.get(Household, lead.household_id)
        assert (record.period_from, record.period_to) == (date(2025, 6, 1), date(2026, 5, 31))
        assert record.total_income == Decimal("24000") and record.per_capita_net == Decimal("5500.00")
        assert record.per_capita_after_spending == Decimal("3000.00")
        assert record.line_amount == Decimal("8700") and record.within_line
        assert record.proposed_category == ("unstable_lifted" if household.kind == "lifted" else "marginal")
        assert db.session.get(RiskLead, lead.id).status == "confirmed"
    shown = login_as("chengguan01_team").get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "5500.00" in shown and "8700.00" in shown and "在监测范围内" in shown and "核实属实，识别认定中" in shown


def test_a_household_above_the_line_is_proposed_as_sudden_hardship(app, login_as):
    with travel_to(china_moment(DAY, 10)):
        set_line(login_as, "8700")
        lead = confirmed_lead(app, login_as)
        team = login_as("chengguan01_team")
        task = verification_task(app, lead.id)
        team.complete("Task_AssessIncome", income_form(team, task.id, ["60000"], persons="3",
                                                       medical_spending="80000"))
    with app.app_context():
        record = db.session.scalar(select(IncomeAssessment).where(IncomeAssessment.lead_id == lead.id))
        assert record.per_capita_net == Decimal("20000.00") and not record.within_line
        assert record.per_capita_after_spending == Decimal("-6666.67")
        assert record.proposed_category == "sudden_hardship"


def test_bad_figures_are_refused_with_the_field_named(app, login_as):
    with travel_to(china_moment(DAY, 10)):
        set_line(login_as, "8700")
        lead = confirmed_lead(app, login_as)
        team = login_as("chengguan01_team")
        task = verification_task(app, lead.id)
        negative = team.complete("Task_AssessIncome", income_form(team, task.id, ["-5"], persons="0"), expect=422)
        page = negative.get_data(as_text=True)
        assert "应为 0 到 1000 万之间的金额" in page and "应为 1 到 30 人" in page
        tampered = [(k, "999999" if k.endswith("member_id") and k.startswith("members-0") else v)
                    for k, v in income_form(team, task.id, ["100"], persons="2")]
        refused = team.complete("Task_AssessIncome", tampered, expect=422)
        assert "家庭成员与户籍信息不一致" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(IncomeAssessment.id)) is None


def test_amounts_beyond_fen_are_refused(app, login_as):
    with travel_to(china_moment(DAY, 10)):
        set_line(login_as, "8700")
        lead = confirmed_lead(app, login_as)
        team = login_as("chengguan01_team")
        task = verification_task(app, lead.id)
        refused = team.complete("Task_AssessIncome", income_form(team, task.id, ["1.005"], persons="2"), expect=422)
        assert "金额最多两位小数" in refused.get_data(as_text=True)
        team.complete("Task_AssessIncome", income_form(team, task.id, ["1E+3"], persons="2"))
    with app.app_context():
        record = db.session.scalar(select(IncomeAssessment))
        assert record.total_income == Decimal("1000.00") and record.member_incomes[0]["wage"] == "1000.00"
