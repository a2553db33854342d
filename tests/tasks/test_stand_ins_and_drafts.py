"""Stand-ins see an absent colleague's tasks only during the absence, and what they do is recorded as done
for that colleague; a half-filled form is kept until the task is done."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Case, Event, TaskDraft
from tests.helpers import approve_case, open_case, plan_measures, user
from tests.tasks.test_claims_and_handover import CERTIFY, add_colleague, certify_task


def arrange(login_as, username: str, stand_in_id: int, starts: date, ends: date):
    absent = login_as(username)
    return absent.post("/account/stand-ins", {"stand_in_id": stand_in_id, "starts_on": starts.isoformat(),
                                              "ends_on": ends.isoformat(), "note": "外出培训"},
                       page="/account/stand-ins")


def test_a_stand_in_sees_the_tasks_only_during_the_absence_and_acts_for_the_absent(app, login_as, api):
    start = date(2026, 12, 7)
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "协助办理慢病卡", "measure_type": "health",
                                 "responsible_unit": "县医保局", "deadline": "2027-01-31"}])
        deputy_id = user("chengguan01_cadre2").id
        [measure] = db.session.get(Case, case_id).measures
    with travel_to(china_moment(start - timedelta(days=3))):
        assert arrange(login_as, "chengguan01_cadre1", deputy_id, start, start + timedelta(days=4)).status_code == 302
        assert login_as("chengguan01_cadre2").inbox() == []  # not yet
    with travel_to(china_moment(start)):
        assert [t["case_id"] for t in login_as("chengguan01_cadre2").inbox()] == [case_id]
    with travel_to(china_moment(start + timedelta(days=5))):
        assert login_as("chengguan01_cadre2").inbox() == []  # the absence is over
    with travel_to(china_moment(start + timedelta(days=1))):
        deputy = api("chengguan01_cadre2")
        [task] = deputy.get("/api/v1/tasks").get_json()["tasks"]
        done = deputy.post(f"/api/v1/tasks/{task['id']}/complete", json={"results": [
            {"measure_id": measure.id, "completed_on": "2026-12-08", "result": "已办理慢病卡"}]})
        assert done.status_code == 200, done.get_json()
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.kind == "task_completed",
                                                      Event.bpmn_id == "Task_CarryOutMeasures"))
        assert event.actor.username == "chengguan01_cadre2"
        assert event.on_behalf_of.username == "chengguan01_cadre1"


def test_a_stand_in_must_share_role_and_area(app, login_as):
    with app.app_context():
        other_role = user("chengguan_leader").id
        other_town = user("raofeng_certifier").id
    today = date.today()
    for wrong in (other_role, other_town):
        answer = arrange(login_as, "chengguan_certifier", wrong, today, today + timedelta(days=2))
        assert answer.status_code == 422 and "同一角色、同一辖区" in answer.get_data(as_text=True)
    deputy = add_colleague(app, "chengguan_certifier", "chengguan_certifier2")
    backwards = arrange(login_as, "chengguan_certifier", deputy, today + timedelta(days=2), today)
    assert backwards.status_code == 422 and "结束日期" in backwards.get_data(as_text=True)


def test_a_half_filled_form_is_kept_until_the_task_is_done(app, login_as):
    case_id = open_case(app)
    task_id = certify_task(app, case_id)
    certifier = login_as("chengguan_certifier")
    saved = certifier.post(f"/tasks/{task_id}/draft", {"decision": "return", "opinion": "请补充近三个月医疗费用票据",
                                                      "action": "draft"}, page=f"/tasks/{task_id}")
    assert saved.status_code == 303
    page = certifier.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "已载入您" in page and "请补充近三个月医疗费用票据" in page
    assert re.search(r'<input checked[^>]*value="return"', page), "the saved choice is not selected"
    # Another member of the group does not see this person's draft.
    assert "请补充近三个月" not in login_as("chengguan_leader").get(f"/tasks/{task_id}").get_data(as_text=True)
    certifier.complete("Task_TownCertify", CERTIFY, case_id=case_id)
    with app.app_context():
        assert db.session.scalars(select(TaskDraft)).all() == []
