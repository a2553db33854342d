"""Claim, release and hand over: colleagues see who is on a task; a claimed task is done only by its holder."""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from app.extensions import db
from app.models import Case, Event, ReadyTask, User
from tests.helpers import approve_case, open_case, plan_measures, user

CERTIFY = {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}


def add_colleague(app, like: str, username: str) -> int:
    """A second member of `like`'s group (same role and area), with the demo password."""
    with app.app_context():
        model = user(like)
        colleague = User(username=username, full_name=f"{model.full_name}同事", role=model.role,
                         area_code=model.area_code, unit=model.unit, password_hash=model.password_hash, active=True)
        db.session.add(colleague)
        db.session.commit()
        return colleague.id


def certify_task(app, case_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id)))


def test_a_claimed_task_shows_its_holder_and_only_the_holder_completes_it(app, login_as, api):
    case_id = open_case(app)
    add_colleague(app, "chengguan_certifier", "chengguan_certifier2")
    task_id = certify_task(app, case_id)
    mine = api("chengguan_certifier").post(f"/api/v1/tasks/{task_id}/claim")
    assert mine.status_code == 200 and mine.get_json()["claimed_by_id"] is not None
    colleague = login_as("chengguan_certifier2")
    page = colleague.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "认领人" in page and user_name(app, "chengguan_certifier") in page
    refused = api("chengguan_certifier2").post(f"/api/v1/tasks/{task_id}/complete", json=CERTIFY)
    assert refused.status_code == 409 and "认领" in refused.get_json()["error"]
    assert api("chengguan_certifier2").post(f"/api/v1/tasks/{task_id}/claim").status_code == 409
    assert api("chengguan_certifier").post(f"/api/v1/tasks/{task_id}/release").status_code == 200
    done = api("chengguan_certifier2").post(f"/api/v1/tasks/{task_id}/complete", json=CERTIFY)
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        kinds = db.session.scalars(select(Event.kind).where(Event.about("case", case_id))).all()
        assert {"task_claimed", "task_released", "task_completed"} <= set(kinds)


def user_name(app, username: str) -> str:
    with app.app_context():
        return user(username).full_name


def test_two_people_claiming_at_once_one_wins(app, api):
    case_id = open_case(app)
    add_colleague(app, "chengguan_certifier", "chengguan_certifier2")
    task_id = certify_task(app, case_id)
    clients = [api("chengguan_certifier"), api("chengguan_certifier2")]
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def claim(client) -> None:
        barrier.wait()
        answers.append(client.post(f"/api/v1/tasks/{task_id}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    with app.app_context():
        claims = db.session.scalars(select(Event).where(Event.kind == "task_claimed")).all()
        assert len(claims) == 1


def test_handover_goes_only_to_eligible_people_in_the_area(app, login_as, api):
    case_id = open_case(app)
    colleague_id = add_colleague(app, "chengguan_certifier", "chengguan_certifier2")
    task_id = certify_task(app, case_id)
    with app.app_context():
        other_town = user("raofeng_certifier").id
        village_team = user("chengguan01_team").id
    certifier = api("chengguan_certifier")
    for wrong in (other_town, village_team):
        answer = certifier.post(f"/api/v1/tasks/{task_id}/reassign", json={"user_id": wrong})
        assert answer.status_code == 422 and "同一角色" in answer.get_json()["error"]
    assert api("chengguan_leader").post(f"/api/v1/tasks/{task_id}/reassign",
                                        json={"user_id": colleague_id}).status_code == 403
    handed = certifier.post(f"/api/v1/tasks/{task_id}/reassign", json={"user_id": colleague_id})
    assert handed.status_code == 200 and handed.get_json()["claimed_by_id"] == colleague_id
    assert api("chengguan_certifier").post(f"/api/v1/tasks/{task_id}/complete", json=CERTIFY).status_code == 409
    assert api("chengguan_certifier2").post(f"/api/v1/tasks/{task_id}/complete", json=CERTIFY).status_code == 200


def test_a_household_moves_to_another_cadre_with_its_tasks(app, login_as):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "协助办理慢病卡", "measure_type": "health",
                                 "responsible_unit": "县医保局", "deadline": "2027-01-31"}])
        new_cadre = user("chengguan01_cadre2").id
    assert any(t["case_id"] == case_id for t in login_as("chengguan01_cadre1").inbox())
    team = login_as("chengguan01_team")
    page = team.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "更换包抓干部" not in page
    assert team.post(f"/cases/{case_id}/cadre", {"user_id": new_cadre}, page=f"/cases/{case_id}").status_code == 403
    certifier = login_as("chengguan_certifier")
    moved = certifier.post(f"/cases/{case_id}/cadre", {"user_id": new_cadre}, page=f"/cases/{case_id}")
    assert moved.status_code == 302
    assert login_as("chengguan01_cadre1").inbox() == []
    assert any(t["case_id"] == case_id for t in login_as("chengguan01_cadre2").inbox())
    with app.app_context():
        assert db.session.get(Case, case_id).cadre_id == new_cadre
        change = db.session.scalar(select(Event).where(Event.kind == "cadre_changed"))
        assert change is not None and "→" in change.task_name
    outsider = login_as("raofeng_certifier")
    assert outsider.post(f"/cases/{case_id}/cadre", {"user_id": new_cadre}).status_code == 403


def test_releasing_is_refused_to_outsiders_before_anything_else(app, api):
    case_id = open_case(app)
    task_id = certify_task(app, case_id)
    outsider = api("raofeng_certifier").post(f"/api/v1/tasks/{task_id}/release")
    assert outsider.status_code == 403
    unclaimed = api("chengguan_certifier").post(f"/api/v1/tasks/{task_id}/release")
    assert unclaimed.status_code == 409 and "尚未被认领" in unclaimed.get_json()["error"]


def test_the_handover_list_offers_the_colleagues_not_oneself(app, login_as):
    """转办 lists the group's other people in the area; with nobody else, the page says so instead of a list of one."""
    case_id = open_case(app)
    task_id = certify_task(app, case_id)
    alone = login_as("chengguan_certifier").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "本组暂无其他在岗人员可转办" in alone and 'name="user_id"' not in alone
    add_colleague(app, "chengguan_certifier", "chengguan_certifier2")
    page = login_as("chengguan_certifier").get(f"/tasks/{task_id}").get_data(as_text=True)
    with app.app_context():
        me, colleague = user("chengguan_certifier"), user("chengguan_certifier2")
        options = re.findall(r'<option value="(\d+)">', page.split('name="user_id"', 1)[1].split("</select>")[0])
    assert options == [str(colleague.id)] and str(me.id) not in options
