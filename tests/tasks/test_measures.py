"""帮扶措施 through the pages (issue 26, item 3): a plan takes as many measures as the household needs, each a
compact row, with each problem on the field of its row; the cadre sees each measure's type, 责任单位 and 完成时限
and records each one on its own when it is done (saved at once, the task left open); the task is submitted once
every measure is recorded. Only the case's cadre (or their stand-in) records."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Measure, ReadyTask
from tests.conftest import today
from tests.helpers import approve_case, complete, open_case, user, without_earlier_steps

TEAM, CADRE = "chengguan01_team", "chengguan01_cadre1"


def _to_the_plan(app: Flask) -> int:
    """A case of 城关镇 village 1 whose 公示 passed: the team draws up its measures."""
    from app.workflow.runtime import run_due_timers

    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        complete(TEAM, "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5, "location": "村委会"}, case_id)
        run_due_timers()
        db.session.commit()
        complete(TEAM, "Task_RecordObjections", {"decision": "no_objection"}, case_id)
    return case_id


def _rows(measures: list[tuple[int, dict[str, str]]]) -> dict[str, str]:
    return {f"measures-{index}-{key}": value for index, fields in measures for key, value in fields.items()}


def _measure(content: str, unit: str = "县医保局", days: int = 60, kind: str = "health") -> dict[str, str]:
    return {"content": content, "measure_type": kind, "responsible_unit": unit,
            "deadline": (today() + timedelta(days=days)).isoformat()}


def _stored(app: Flask, case_id: int) -> list[Measure]:
    with app.app_context():
        found = list(db.session.scalars(select(Measure).where(Measure.case_id == case_id)
                                        .order_by(Measure.position)))
        db.session.expunge_all()
        return found


def _cell(page: str, field_id: str) -> str:
    """The table cell of a row's field: its input and the messages under it."""
    match = re.search(rf'<td[^>]*>\s*<label class="visually-hidden" for="{field_id}">.*?</td>', page, re.S)
    assert match, field_id
    return match.group(0)


def test_a_plan_takes_a_fourth_and_a_fifth_measure(app, login_as):
    case_id = _to_the_plan(app)
    team = login_as(TEAM)
    task = team.task("Task_DraftMeasures", case_id)
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    # Compact rows: one blank row to start with, 添加一项 and 删除 shown by the page's own script (no CDN).
    assert page.count("<tr data-row>") == 1 and 'name="measures-0-content"' in page
    assert "data-add-row hidden>添加一项</button>" in page and "/static/js/rows.js" in page
    assert "data-rows=\"measures\"" in page and "measures-1-content" not in page

    # Five measures, one of them due next year; the indices have a gap where a row was removed in the page.
    measures = [_measure("协助办理慢病卡"), _measure("申请临时救助", "县民政局", 30, "temporary_relief"),
                _measure("安排公益岗位", "城关镇人民政府", 90, "public_welfare_job"),
                _measure("危房改造", "县住建局", 400, "housing"), _measure("技能培训", "县人社局", 120, "employment")]
    with app.app_context():
        cadre_id = user(CADRE).id
    team.complete("Task_DraftMeasures", {**_rows(list(zip([0, 1, 2, 4, 7], measures, strict=True))),
                                         "cadre_id": cadre_id}, case_id)
    stored = _stored(app, case_id)
    assert [(m.content, m.responsible_unit, m.deadline.isoformat(), m.status) for m in stored] == [
        (m["content"], m["responsible_unit"], m["deadline"], "planned") for m in measures]


def test_a_bad_row_is_marked_on_its_fields_and_nothing_is_stored(app, login_as):
    case_id = _to_the_plan(app)
    team = login_as(TEAM)
    with app.app_context():
        cadre_id = user(CADRE).id
    bad = {"content": "安排公益岗位", "measure_type": "public_welfare_job", "responsible_unit": "",
           "deadline": (today() - timedelta(days=1)).isoformat()}
    answer = team.complete("Task_DraftMeasures", {
        **_rows([(0, _measure("协助办理慢病卡")), (1, _measure("申请临时救助")), (2, _measure("技能培训")),
                 (3, bad)]), "cadre_id": cadre_id}, case_id, expect=422)
    page = without_earlier_steps(answer.get_data(as_text=True))
    # Each message sits under the field it is about, in the row it is about; the good rows say nothing.
    assert "请填写责任单位" in _cell(page, "measures-3-responsible_unit")
    assert "完成时限不能早于今天" in _cell(page, "measures-3-deadline")
    assert 'class="col-responsible_unit has-error"' in _cell(page, "measures-3-responsible_unit")
    for index in range(3):
        assert 'class="error"' not in _cell(page, f"measures-{index}-responsible_unit")
    assert "第 4 项措施缺少" not in page  # no line under all the rows
    # What was typed comes back, with one blank row after it for a page without script.
    assert page.count("<tr data-row>") == 5 and 'value="安排公益岗位"' not in page  # a textarea holds it
    assert "安排公益岗位</textarea>" in _cell(page, "measures-3-content")
    assert _stored(app, case_id) == []
    with app.app_context():
        assert db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id),
                                                            ReadyTask.bpmn_id == "Task_DraftMeasures"))


def _plan(app: Flask, login_as: Any, case_id: int) -> list[Measure]:
    """Two measures, the second due next year, filed with the county office: the cadre's task waits."""
    team = login_as(TEAM)
    with app.app_context():
        cadre_id = user(CADRE).id
    team.complete("Task_DraftMeasures", {**_rows([(0, _measure("协助办理慢病卡", days=30)),
                                                  (1, _measure("危房改造", "县住建局", 400, "housing"))]),
                                         "cadre_id": cadre_id}, case_id)
    login_as("county_office").complete("Task_CountyFiling", {"decision": "file", "opinion": "予以备案"}, case_id)
    return _stored(app, case_id)


def _record(browser: Any, task_id: int, measure_id: int, completed_on: str, result: str) -> Any:
    return browser.post(f"/tasks/{task_id}/measures/{measure_id}", {"completed_on": completed_on, "result": result},
                        page=f"/tasks/{task_id}")


def test_recording_one_measure_keeps_it_and_leaves_the_task_open(app, login_as, api):
    case_id = _to_the_plan(app)
    first, later = _plan(app, login_as, case_id)
    cadre = login_as(CADRE)
    task = cadre.task("Task_CarryOutMeasures", case_id)
    page = without_earlier_steps(cadre.get(f"/tasks/{task['id']}").get_data(as_text=True))
    # Each measure with its type, 责任单位 and 完成时限, and a form of its own to record it.
    for measure, kind in ((first, "健康帮扶"), (later, "住房安全")):
        row = page.split(f'<tr id="measure-{measure.id}">', 1)[1].split("</tr>", 1)[0]
        assert measure.content in row and measure.responsible_unit in row and measure.deadline.isoformat() in row
        assert kind in row, row
        assert f'action="/tasks/{task["id"]}/measures/{measure.id}"' in row

    # A date after today is refused on its field, nothing kept.
    refused = _record(cadre, task["id"], first.id, (today() + timedelta(days=1)).isoformat(), "已办理慢病卡")
    assert refused.status_code == 422
    row = refused.get_data(as_text=True).split(f'<tr id="measure-{first.id}">', 1)[1].split("</tr>", 1)[0]
    assert "落实日期不能晚于今天" in row and ">已办理慢病卡</textarea>" in row
    assert _stored(app, case_id)[0].status == "planned"

    # The measure done today is recorded today; the one due next year waits, and so does the task.
    done = _record(cadre, task["id"], first.id, today().isoformat(), "已办理慢病卡，报销比例提高")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/tasks/{task['id']}#measure-records")
    kept = _stored(app, case_id)
    assert [(m.status, m.completed_on, m.result) for m in kept] == [
        ("done", today(), "已办理慢病卡，报销比例提高"), ("planned", None, None)]
    assert cadre.task("Task_CarryOutMeasures", case_id)["id"] == task["id"]
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.about("case", case_id), Event.kind == "measure_recorded"))
        assert event is not None and event.actor_id == user(CADRE).id and event.opinion == "已办理慢病卡，报销比例提高"
        assert event.data == {"measure_id": first.id, "completed_on": today().isoformat()}
    # The ledger (附件2) says which measure was done, and when.
    [ledger] = api("county_office").get("/api/v1/reports/ledger?area=610922100001").get_json()["rows"]
    assert [(m["done"], m["completed_on"]) for m in ledger["measures"]] == [(True, today().isoformat()),
                                                                             (False, None)]
    assert f"已于 {today().isoformat()} 完成" in login_as("county_office").get(
        "/reports/ledger?area=610922100001").get_data(as_text=True)
    again = _record(cadre, task["id"], first.id, today().isoformat(), "再登记一次")
    assert again.status_code == 303 and _stored(app, case_id)[0].result == "已办理慢病卡，报销比例提高"
    page = without_earlier_steps(cadre.get(f"/tasks/{task['id']}").get_data(as_text=True))
    assert "已落实" in page and f'/tasks/{task["id"]}/measures/{first.id}"' not in page

    # Assistance ends only once every measure is recorded: the one due next year is marked on its row.
    early = cadre.complete("Task_CarryOutMeasures", {}, case_id, expect=422)
    row = early.get_data(as_text=True).split(f'<tr id="measure-{later.id}">', 1)[1].split("</tr>", 1)[0]
    assert "尚未登记落实情况" in row
    assert _record(cadre, task["id"], later.id, today().isoformat(), "危房已改造完成").status_code == 303
    cadre.complete("Task_CarryOutMeasures", {}, case_id)
    with app.app_context():
        assert db.session.scalars(select(ReadyTask.bpmn_id).where(ReadyTask.about("case", case_id))).all() == [
            "Task_ApplyClosure"]
        assert db.session.scalar(select(func.count()).select_from(Event).where(
            Event.about("case", case_id), Event.kind == "measure_recorded")) == 2


def test_only_the_cases_cadre_records_a_measure(app, login_as, api):
    case_id = _to_the_plan(app)
    first, _later = _plan(app, login_as, case_id)
    task = login_as(CADRE).task("Task_CarryOutMeasures", case_id)
    for username in ("chengguan01_cadre2", TEAM, "chengguan_certifier", "county_office", "supervisor",
                     "department_yibao"):
        answer = _record(login_as(username), task["id"], first.id, today().isoformat(), "已办理")
        assert answer.status_code == 403, username
        refused = api(username).post(f"/api/v1/tasks/{task['id']}/measures/{first.id}",
                                     json={"completed_on": today().isoformat(), "result": "已办理"})
        assert refused.status_code == 403, username
    assert all(m.status == "planned" for m in _stored(app, case_id))
    # A measure of another case is not this task's to record.
    other = open_case(app, "610922100002")
    with app.app_context():
        approve_case(other)
    other_plan = _to_the_other_plan(app, login_as, other)
    missing = _record(login_as(CADRE), task["id"], other_plan, today().isoformat(), "已办理")
    assert missing.status_code == 404
    with app.app_context():
        assert db.session.get(Measure, other_plan).status == "planned"


def _to_the_other_plan(app: Flask, login_as: Any, case_id: int) -> int:
    from tests.helpers import plan_measures

    with app.app_context():
        plan_measures(case_id, [_measure("另一户的措施")], cadre="chengguan02_cadre1", team="chengguan02_team")
        return int(db.session.scalar(select(Measure.id).where(Measure.case_id == case_id)))
