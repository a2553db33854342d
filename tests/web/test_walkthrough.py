"""One household walked from monthly screening to 销号 over HTTP, as each user of the rulebook."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Case, Household, Measure, User
from tests.conftest import days_from_now, today


def _village_households(app, village_code: str) -> list[Household]:
    with app.app_context():
        return list(db.session.scalars(select(Household).where(Household.village_code == village_code)
                                       .order_by(Household.id)))


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _case(app, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def _fire_timers(runner, days: int) -> str:
    result = runner.invoke(args=["timers", "run", "--once", "--now", days_from_now(days)])
    assert result.exit_code == 0, result.output
    return result.output


def test_household_walks_from_screening_to_closure(app, login_as, runner):
    month = today().strftime("%Y-%m")
    village = "610922100001"
    households = _village_households(app, village)

    county = login_as("county_office")
    response = county.post("/screenings/start", {"month": month}, page="/screenings/")
    assert response.status_code == 302
    again = county.post("/screenings/start", {"month": month}, page="/screenings/")
    assert again.status_code == 302 and "未重复创建" in county.get(again.location).get_data(as_text=True)

    # 一月一精准排查: the village team registers two households, one found by its ID number.
    team = login_as("chengguan01_team")
    screen = team.task("Task_ScreenHouseholds")
    target, other = households[0], households[1]
    page = team.get(f"/tasks/{screen['id']}?q={target.head_id_number}").get_data(as_text=True)
    assert target.head_name in page and other.head_name not in page
    for household, risk, reason in [(target, "major_illness", "户主患尿毒症，自付医疗费用高"),
                                    (other, "natural_disaster", "暴雨致房屋受损")]:
        response = team.post(f"/screenings/{screen['screening_id']}/registrations",
                             {"household_id": household.id, "risk_type": risk, "reason": reason})
        assert response.status_code == 302
    # 逐户逐人: the two registered households have their checks from the registration; the team checks the rest
    # on the phone page, one household at a time.
    sid = screen["screening_id"]
    for household in households[2:]:
        page = f"/screenings/{sid}/households/{household.id}"
        response = team.post(page, {"outcome": "checked", "visited_on": today().isoformat(), "visitors": "驻村工作队",
                                    "note": "家中无人患病，务工收入稳定"}, page=page)
        assert response.status_code == 302
    listing = team.get(f"/screenings/{sid}/households").get_data(as_text=True)
    assert f"已排查 {len(households)} / {len(households)} 户" in listing and "未排查<" not in listing
    team.complete("Task_ScreenHouseholds", {"note": "逐户走访完毕"})

    # 一月一精准评估: the meeting marks only the first household for key assistance.
    assess = team.task("Task_AssessmentMeeting")
    html = team.get(f"/tasks/{assess['id']}").get_data(as_text=True)
    assert target.head_name in html and other.head_name in html
    with app.app_context():
        from app.models import RiskRegistration

        reg_id = db.session.scalar(select(RiskRegistration.id).where(RiskRegistration.household_id == target.id))
    team.complete("Task_AssessmentMeeting", {"meeting_date": today().isoformat(), "attendees": "工作队全体、村两委",
                                             "minutes": "研判后确定重点帮扶", "key_assistance": reg_id})
    assert team.inbox() == []

    certifier = login_as("chengguan_certifier")
    certify = certifier.task("Task_TownCertify")
    case_id = certify["case_id"]
    assert login_as("raofeng_certifier").inbox() == []  # another town sees nothing
    certifier.complete("Task_TownCertify", {"decision": "certify", "risk_level": "at_risk",
                                            "opinion": "经入户核实，符合认定条件"})
    assert _case(app, case_id).risk_level == "at_risk"
    assert certifier.inbox() == []

    leader = login_as("chengguan_leader")
    leader.complete("Task_TownLeadershipReview", {"decision": "pass", "meeting_date": today().isoformat(),
                                                  "opinion": "会议研究通过"})
    county.complete("Task_CountyApprove", {"decision": "approve", "opinion": "同意"})
    assert _case(app, case_id).status == "publicity"

    # 公示: five days from today; the period has to pass before objections are recorded.
    team.complete("Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 5,
                                      "location": "村委会公示栏"})
    assert team.inbox() == []
    assert "公示" in _case(app, case_id).current_step
    assert "of 0 instance" in _fire_timers(runner, 2)
    assert team.inbox() == []
    assert "of 1 instance" in _fire_timers(runner, 6)
    team.complete("Task_RecordObjections", {"decision": "no_objection"})

    # 一户一套措施, 一户一人包抓.
    cadre_id = _user_id(app, "chengguan01_cadre1")
    deadline = (today() + timedelta(days=60)).isoformat()
    team.complete("Task_DraftMeasures", {
        "measures-0-content": "落实医疗救助，协助办理慢病卡", "measures-0-measure_type": "health",
        "measures-0-responsible_unit": "县医保局", "measures-0-deadline": deadline,
        "measures-1-content": "安排公益岗位一个", "measures-1-measure_type": "public_welfare_job",
        "measures-1-responsible_unit": "城关镇人民政府", "measures-1-deadline": deadline,
        "cadre_id": cadre_id,
    })
    county.complete("Task_CountyFiling", {"decision": "file", "opinion": "已备案"})
    assert login_as("chengguan01_cadre2").inbox() == []  # only the assigned cadre
    cadre = login_as("chengguan01_cadre1")
    with app.app_context():
        measure_ids = list(db.session.scalars(select(Measure.id).where(Measure.case_id == case_id)
                                              .order_by(Measure.position)))
    assert len(measure_ids) == 2
    cadre.complete("Task_CarryOutMeasures", [
        ("results-0-measure_id", measure_ids[0]), ("results-0-completed_on", today().isoformat()),
        ("results-0-result", "已办理慢病卡，报销比例提高"),
        ("results-1-measure_id", measure_ids[1]), ("results-1-completed_on", today().isoformat()),
        ("results-1-result", "配偶已上岗护林员"),
    ])

    # 一户一验收精准销号.
    team.complete("Task_ApplyClosure", {"applied_on": today().isoformat(), "income_per_capita": "8600",
                                        "summary": "两不愁三保障均已达标"})
    certifier.complete("Task_TownAcceptance", {"decision": "accept", "opinion": "验收合格"})
    county.complete("Task_CountyRecheck", {"decision": "confirm", "opinion": "复核达标"})
    assert _case(app, case_id).status == "announcement"
    team.complete("Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 5, "location": "村委会"})
    _fire_timers(runner, 6)
    team.complete("Task_RecordObjections", {"decision": "no_objection"})

    case = _case(app, case_id)
    assert case.status == "closed" and case.closed_at is not None
    page = login_as("supervisor").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已销号" in page
    for step in ["镇认定工作组认定", "镇领导小组会议审议", "县办审批", "村内公示 · 张贴公示公告", "公示期满",
                 "落实帮扶措施", "镇初步验收", "县办复核确认", "销号公告 · 登记异议情况", "经入户核实，符合认定条件"]:
        assert step in page, step
    for username in ["chengguan01_team", "chengguan_certifier", "chengguan_leader", "county_office"]:
        assert login_as(username).inbox() == []
