"""Two submits of the same task leave exactly one effect; a stale form is refused and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, ReadyTask, WorkflowInstance
from tests.helpers import open_case


def _counts(app, case_id: int) -> tuple[int, int, list[str]]:
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(Event).where(
            Event.about("case", case_id), Event.kind == "task_completed"))
        tasks = db.session.scalars(select(ReadyTask.bpmn_id).where(ReadyTask.about("case", case_id))).all()
        revision = db.session.scalar(select(WorkflowInstance.revision).join(
            ReadyTask, ReadyTask.instance_id == WorkflowInstance.id).where(ReadyTask.about("case", case_id)))
        return events, revision, list(tasks)


def test_double_submit_has_one_effect(app, login_as):
    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    task = certifier.task("Task_TownCertify")
    html = certifier.get(f"/tasks/{task['id']}").get_data(as_text=True)
    token = certifier._csrf(html)
    data = {"decision": "certify", "risk_level": "at_risk", "opinion": "同意", "revision": "1",
            "csrf_token": token}
    import re

    data["revision"] = re.search(r'name="revision" value="(\d+)"', html).group(1)
    first = certifier.client.post(f"/tasks/{task['id']}", data=data)
    second = certifier.client.post(f"/tasks/{task['id']}", data=data)
    assert first.status_code == 302 and second.status_code == 303
    assert "已办理" in certifier.get(second.location).get_data(as_text=True)
    events, _revision, tasks = _counts(app, case_id)
    assert events == 1 and tasks == ["Task_TownLeadershipReview"]


def test_stale_revision_is_refused_and_changes_nothing(app, login_as):
    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    task = certifier.task("Task_TownCertify")
    before = _counts(app, case_id)
    response = certifier.post(f"/tasks/{task['id']}", {"decision": "certify", "risk_level": "at_risk",
                                                       "opinion": "同意", "revision": before[1] - 1})
    assert response.status_code == 303
    assert "已被更新" in certifier.get(response.location).get_data(as_text=True)
    assert _counts(app, case_id) == before


def test_invalid_form_shows_chinese_errors_and_changes_nothing(app, login_as):
    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    before = _counts(app, case_id)
    response = certifier.complete("Task_TownCertify", {"decision": "certify", "opinion": ""}, expect=422)
    html = response.get_data(as_text=True)
    assert "请填写意见" in html and "认定为监测对象时请选择认定类别" in html
    assert _counts(app, case_id) == before
