"""Approving with the facts in view: every decision page shows, above its form, what the earlier steps decided and
why (the town's opinion and risk level, the meeting and its day, the closure's income and summary), so the county
office does not go looking in the history."""

from __future__ import annotations

from tests.conftest import today


def test_the_county_approves_seeing_the_towns_opinion_and_the_meeting(app, login_as):
    from tests.helpers import open_case

    case_id = open_case(app)
    login_as("chengguan_certifier").complete(
        "Task_TownCertify", {"decision": "certify", "risk_level": "at_risk", "opinion": "患病支出大，收入骤降，属实"},
        case_id)
    login_as("chengguan_leader").complete("Task_TownLeadershipReview", {
        "decision": "pass", "opinion": "会议研究同意", "meeting_date": today().isoformat()}, case_id)
    office = login_as("county_office")
    task = office.task("Task_CountyApprove", case_id)
    page = office.get(f"/tasks/{task['id']}").get_data(as_text=True)
    earlier = page.split("此前各环节的意见", 1)[1].split("</section>", 1)[0]
    certify, review = earlier.split("<li>")[1:3]
    assert "认定</span>" in certify and "患病支出大，收入骤降，属实" in certify
    assert "认定类别：返贫（致贫）风险户" in certify
    assert "会议通过" in review and "会议研究同意" in review and f"会议日期：{today().isoformat()}" in review
    # Above the form: the panel comes before the decision's fields.
    assert page.index("此前各环节的意见") < page.index('name="decision"')


def test_the_first_step_has_nothing_earlier_to_show(app, login_as):
    from tests.helpers import open_case

    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    page = certifier.get(f"/tasks/{certifier.task('Task_TownCertify', case_id)['id']}").get_data(as_text=True)
    assert "此前各环节的意见" not in page


def test_the_county_rechecks_a_closure_seeing_the_income_the_summary_and_the_towns_acceptance(app, login_as):
    from app.extensions import db
    from app.models import Measure
    from tests.helpers import approve_case, complete, open_case, plan_measures

    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
                                 "deadline": "2027-06-30"}])
        measure_id = db.session.scalar(db.select(Measure.id).where(Measure.case_id == case_id))
        complete("chengguan01_cadre1", "Task_CarryOutMeasures", {
            "results-0-measure_id": measure_id, "results-0-result": "已办理", "results-0-completed_on":
            today().isoformat()}, case_id)
        complete("chengguan01_team", "Task_ApplyClosure", {"applied_on": today().isoformat(), "income_per_capita":
                                                           "8600", "summary": "两不愁三保障均已达标"}, case_id)
        complete("chengguan_certifier", "Task_TownAcceptance", {"decision": "accept", "opinion": "验收合格"}, case_id)
    office = login_as("county_office")
    page = office.get(f"/tasks/{office.task('Task_CountyRecheck', case_id)['id']}").get_data(as_text=True)
    earlier = page.split("此前各环节的意见", 1)[1].split("</section>", 1)[0]
    assert "家庭人均纯收入：8600 元" in earlier and "帮扶成效：两不愁三保障均已达标" in earlier
    assert "验收合格</span>" in earlier and "帮扶措施：协助办理慢病卡（县医保局，2027-06-30前）" in earlier
