"""The workflow runtime hosts any registered kind of subject, not only cases and screenings: a kind that exists
only in this test (its own table, diagram and form) is started, shown in the right inbox, completed through the
task page, recorded in the history and the audit log, and counted on the heatmap — with no line of the runtime,
the inbox or the history changed for it. This is what the national mechanism's leads and verifications rely on."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from sqlalchemy import MetaData, String, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import TextAreaField

from app.clock import china_today
from app.extensions import db
from app.models import ElementVisit, Event, ProcessVersion, ReadyTask, User, WorkflowInstance
from app.processes import admin as process_admin
from app.workflow import runtime
from forms import REGISTRY, FormContext, TaskForm
from forms.base import required
from tests.conftest import _clear
from tests.supervision.test_heatmap import heat

KIND = "field_visit"
PROCESS_KEY = "test_field_visit"
VILLAGE, TOWN = "610922100001", "610922100"


class _TestOnly(DeclarativeBase):
    """Outside the app's metadata: no migration knows this table, and the app's table listings never see it."""

    metadata = MetaData()


class FieldVisit(_TestOnly):
    __tablename__ = "test_field_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(index=True)
    village_code: Mapped[str] = mapped_column(String(12))
    town_code: Mapped[str] = mapped_column(String(9))
    purpose: Mapped[str] = mapped_column(String(100))
    findings: Mapped[str | None] = mapped_column(String(1000))
    reviewed: Mapped[bool] = mapped_column(default=False)


class VisitFindingsForm(TaskForm):
    title = "登记走访发现"
    findings = TextAreaField("走访发现", validators=[required("请填写走访发现")])


class VisitReviewForm(TaskForm):
    title = "镇审阅走访记录"
    opinion = TextAreaField("审阅意见", validators=[required("请填写审阅意见")])


def _after_task(visit: FieldVisit, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if task.form_key == "test_visit_findings":
        visit.findings = data["findings"]


def _after_step(visit: FieldVisit, snapshot: Any, actor: User | None) -> None:
    visit.reviewed = snapshot.completed


HOOKS = runtime.SubjectHooks(
    kind=KIND, model=FieldVisit, noun="走访", label=lambda visit: f"走访：{visit.purpose}",
    assignee_for=lambda _visit, _role: None,
    form_context=lambda _visit, _task, _needs: FormContext(today=china_today()),
    after_task=_after_task, after_step=_after_step,
)

DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_visit"
  targetNamespace="http://shiquan.gov.cn/rpm/bpmn">
  <bpmn:collaboration id="Collaboration_visit">
    <bpmn:participant id="Participant_visit" name="入户走访" processRef="{PROCESS_KEY}" />
  </bpmn:collaboration>
  <bpmn:process id="{PROCESS_KEY}" name="入户走访" isExecutable="true">
    <bpmn:laneSet id="LaneSet_visit">
      <bpmn:lane id="Lane_Team" name="驻村工作队">
        <bpmn:flowNodeRef>Start_Visit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_RecordFindings</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_Town" name="镇认定工作组">
        <bpmn:flowNodeRef>Task_ReviewVisit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End_Visit</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start_Visit"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_RecordFindings" name="登记走访发现">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="test_visit_findings" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="Task_ReviewVisit" name="镇审阅走访记录">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="form" value="test_visit_review" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End_Visit"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start_Visit" targetRef="Task_RecordFindings" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_RecordFindings" targetRef="Task_ReviewVisit" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_ReviewVisit" targetRef="End_Visit" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture()
def field_visits(app, monkeypatch) -> Iterator[None]:
    """The test-only kind registered as a domain package would register it, then every trace of it removed."""
    monkeypatch.setitem(REGISTRY, "test_visit_findings", VisitFindingsForm)
    monkeypatch.setitem(REGISTRY, "test_visit_review", VisitReviewForm)
    with app.app_context():
        _TestOnly.metadata.create_all(db.engine)
        process_admin.deploy(DIAGRAM, None)  # the modeler's own validation and deployment
        db.session.commit()
    runtime.register_subject(HOOKS)
    try:
        yield
    finally:
        runtime.HOOKS.pop(KIND, None)
        runtime._KIND_OF_MODEL.pop(FieldVisit, None)
        _clear(app)  # its tasks, history and instances go with everything else's
        with app.app_context():
            db.session.execute(delete(ProcessVersion).where(ProcessVersion.process_key == PROCESS_KEY))
            db.session.commit()
            _TestOnly.metadata.drop_all(db.engine)


def start_visit(app, purpose: str, village: str = VILLAGE) -> int:
    """What a domain package's start operation does: an instance, the subject row, then the first tasks."""
    with app.app_context():
        instance, snapshot = runtime.start_instance(KIND, PROCESS_KEY, {})
        visit = FieldVisit(instance_id=instance.id, village_code=village, town_code=village[:9], purpose=purpose)
        db.session.add(visit)
        db.session.flush()
        runtime.attach_subject(instance, visit, snapshot, None)
        db.session.commit()
        return visit.id


def test_a_kind_registered_outside_the_runtime_runs_through_inbox_task_page_and_history(
        app, login_as, field_visits):
    visit_id = start_visit(app, "雨季房屋安全")
    team = login_as("chengguan01_team")
    task = team.task("Task_RecordFindings")
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "走访：雨季房屋安全" in page and "登记走访发现" in page  # the generic summary and the kind's form
    assert "走访：雨季房屋安全" in team.get("/").get_data(as_text=True)

    # Refused input changes nothing, as for every other kind.
    team.complete("Task_RecordFindings", {"findings": ""}, expect=422)
    team.complete("Task_RecordFindings", {"findings": "东侧墙体开裂，已告知户主"})
    assert not [t for t in team.inbox() if t["bpmn_id"] == "Task_RecordFindings"]

    # The next lane's role, in the town's inbox only.
    assert not [t for t in login_as("raofeng_certifier").inbox() if t["bpmn_id"] == "Task_ReviewVisit"]
    certifier = login_as("chengguan_certifier")
    cells = heat(certifier.get(f"/supervision/heatmap?version={_version_id(app)}").get_data(as_text=True))
    assert cells["Task_ReviewVisit"]["waiting"] == 1 and cells["Task_RecordFindings"]["finished"] == 1
    certifier.complete("Task_ReviewVisit", {"opinion": "请村里跟进"})

    with app.app_context():
        visit = db.session.get(FieldVisit, visit_id)
        assert visit.findings == "东侧墙体开裂，已告知户主" and visit.reviewed
        instance = db.session.get(WorkflowInstance, visit.instance_id)
        assert instance.completed and instance.kind == KIND
        assert not db.session.scalars(select(ReadyTask).where(ReadyTask.about(KIND, visit_id))).all()
        history = db.session.scalars(select(Event).where(Event.about(KIND, visit_id)).order_by(Event.id)).all()
        assert [(e.kind, e.bpmn_id) for e in history] == [("task_completed", "Task_RecordFindings"),
                                                          ("task_completed", "Task_ReviewVisit")]
        assert history[1].opinion == "请村里跟进"
        visited = db.session.scalars(select(ElementVisit.bpmn_id).where(ElementVisit.about(KIND, visit_id))).all()
        assert {"Start_Visit", "Task_RecordFindings", "Task_ReviewVisit", "End_Visit"} <= set(visited)

    # The audit log's export names the subject by its kind's own noun.
    export = login_as("supervisor").get("/audit/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header = next(row for row in rows if "业务对象" in row)
    subjects = {row[header.index("事项")]: row[header.index("业务对象")] for row in rows if row[0] != header[0]}
    assert subjects["镇审阅走访记录"] == f"走访 #{visit_id}"


def test_a_kind_is_seen_only_in_its_area(app, login_as, field_visits):
    start_visit(app, "饶峰镇走访", village="610922101001")
    version = _version_id(app)
    chengguan = heat(login_as("chengguan_certifier").get(f"/supervision/heatmap?version={version}")
                     .get_data(as_text=True))
    raofeng = heat(login_as("raofeng_certifier").get(f"/supervision/heatmap?version={version}")
                   .get_data(as_text=True))
    assert "Task_RecordFindings" not in chengguan
    assert raofeng["Task_RecordFindings"]["waiting"] == 1
    team = login_as("chengguan01_team")
    assert not [t for t in team.inbox() if t["bpmn_id"] == "Task_RecordFindings"]


def _version_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == PROCESS_KEY,
                                                                 ProcessVersion.is_current))
