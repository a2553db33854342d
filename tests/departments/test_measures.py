"""Departments act on their measures (五(二)): a measure whose responsible unit is a county department is in that
department's inbox; the department records progress and completion with evidence, the cadre then reports only on
what is left, and the annual review's department table counts what the department recorded."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from app.clock import china_today
from app.extensions import db
from app.models import Attachment, Measure, MeasureProgress
from tests.collab.conftest import JPEG
from tests.helpers import approve_case, open_case, plan_measures, without_earlier_steps

DEADLINE = (china_today() + timedelta(days=40)).isoformat()


def planned_case(app) -> int:
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [
            {"content": "协助办理门诊慢特病卡", "measure_type": "health", "responsible_unit": "县医保局",
             "deadline": DEADLINE},
            {"content": "申请临时救助", "measure_type": "temporary_relief", "responsible_unit": "城关镇民政办",
             "deadline": DEADLINE}])
    return case_id


def _measures(app, case_id: int) -> list[Measure]:
    with app.app_context():
        rows = db.session.scalars(select(Measure).where(Measure.case_id == case_id).order_by(Measure.position)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _record(browser, measure_id: int, note: str, completed: bool = False, evidence: bytes | None = None,
            day: str = "") -> object:
    token = browser._csrf(browser.get("/departments/measures").get_data(as_text=True))
    data = {"csrf_token": token, "recorded_on": day or china_today().isoformat(), "note": note}
    if completed:
        data["completed"] = "1"
    if evidence is not None:
        data["evidence"] = (io.BytesIO(evidence), "回执.jpg")
    return browser.client.post(f"/departments/measures/{measure_id}/progress", data=data,
                               content_type="multipart/form-data")


def test_a_departments_measures_are_in_its_inbox_and_it_records_their_progress_and_completion(app, login_as,
                                                                                            tmp_path):
    case_id = planned_case(app)
    county_measure, town_measure = _measures(app, case_id)
    assert (county_measure.department, town_measure.department) == ("yibao", None)  # a town's office is not one
    yibao = login_as("department_yibao")
    inbox = yibao.get("/").get_data(as_text=True)
    assert "本部门负责的帮扶措施" in inbox and "协助办理门诊慢特病卡" in inbox and "申请临时救助" not in inbox
    assert _record(yibao, county_measure.id, "已受理，材料在审核").status_code == 303
    answer = _record(yibao, county_measure.id, "慢特病卡已办结，门诊报销比例提高", completed=True, evidence=JPEG)
    assert answer.status_code == 303
    done, _ = _measures(app, case_id)
    assert (done.status, done.completed_on, done.result) == ("done", china_today(), "慢特病卡已办结，门诊报销比例提高")
    with app.app_context():
        notes = db.session.scalars(select(MeasureProgress).order_by(MeasureProgress.id)).all()
        assert [(n.completed, n.department) for n in notes] == [(False, "yibao"), (True, "yibao")]
        assert db.session.get(Attachment, notes[1].attachment_id).case_id == case_id
    assert "本部门负责的帮扶措施" not in yibao.get("/").get_data(as_text=True)  # nothing left to do
    # The cadre reports only on what is left; the case page says who did what.
    cadre = login_as("chengguan01_cadre1")
    task = cadre.task("Task_CarryOutMeasures", case_id)
    form = without_earlier_steps(cadre.get(f"/tasks/{task['id']}").get_data(as_text=True))
    # The whole plan is listed; what the department completed shows as done, with nothing for the cadre to record.
    assert "申请临时救助" in form and "慢特病卡已办结，门诊报销比例提高" in form
    assert f"/tasks/{task['id']}/measures/{county_measure.id}\"" not in form
    assert f"/tasks/{task['id']}/measures/{town_measure.id}\"" in form
    history = login_as("county_office").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "县医疗保障局落实完成：协助办理门诊慢特病卡" in history
    year = DEADLINE[:4]  # the annual review counts measures by the year of their deadline
    review = login_as("county_office").get(f"/supervision/annual-review?year={year}").get_data(as_text=True)
    row = re.search(r'<tr data-unit="县医保局">(.*?)</tr>', review, re.S)
    assert row is not None, "县医保局 is not in the annual review's department table"
    assert 'class="completed-by-department">1<' in row.group(1) and 'class="progress-notes">2<' in row.group(1)


def test_only_the_responsible_department_records_and_bad_input_is_refused(app, login_as):
    case_id = planned_case(app)
    county_measure, town_measure = _measures(app, case_id)
    assert _record(login_as("department_minzheng"), county_measure.id, "不是本部门的").status_code == 403
    assert _record(login_as("department_yibao"), town_measure.id, "不是本部门的").status_code == 403
    yibao = login_as("department_yibao")
    future = (china_today() + timedelta(days=1)).isoformat()
    refused = _record(yibao, county_measure.id, "提前登记", day=future)
    assert refused.status_code == 422 and "日期不能晚于今天" in refused.get_data(as_text=True)
    refused = _record(yibao, county_measure.id, "")
    assert refused.status_code == 422 and "请填写落实情况" in refused.get_data(as_text=True)
    wrong = _record(yibao, county_measure.id, "附了一个文本文件", completed=True, evidence=b"just text")
    assert wrong.status_code == 415
    with app.app_context():
        assert db.session.scalar(select(MeasureProgress.id)) is None
        assert db.session.get(Measure, county_measure.id).status == "planned"
