"""A form gets the lists it chooses from (the village's cadres, the case's measures) only when it declares
them in `context_needs`; every other step is spared the queries. These tests keep the declaration honest."""

from __future__ import annotations

import inspect
import re

import pytest
from flask import Flask
from sqlalchemy import select

from forms import REGISTRY
from forms.base import TaskForm

COSTLY = {"cadres", "measures"}  # FormContext lists a case's context fills with a query, when asked


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_costly_context_list_a_form_reads_is_declared(key: str) -> None:
    cls = REGISTRY[key]
    source = "\n".join(inspect.getsource(klass) for klass in cls.__mro__
                       if issubclass(klass, TaskForm) and klass is not TaskForm)
    undeclared = (set(re.findall(r"context\.(\w+)", source)) & COSTLY) - cls.context_needs
    assert not undeclared, f"{cls.__name__} reads context.{undeclared} without naming it in context_needs"


def test_the_plan_offers_the_village_cadres_and_the_report_lists_the_filed_measures(app: Flask) -> None:
    from app.extensions import db
    from app.models import Measure, ReadyTask
    from app.workflow.runtime import build_form, run_due_timers
    from tests.helpers import approve_case, complete, open_case, user

    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        team = "chengguan01_team"
        complete(team, "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5, "location": "村委会"},
                 case_id)
        run_due_timers()
        db.session.commit()
        complete(team, "Task_RecordObjections", {"decision": "no_objection"}, case_id)

        def form_of(bpmn_id: str):  # noqa: ANN202
            task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case_id),
                                                             ReadyTask.bpmn_id == bpmn_id))
            return build_form(task)

        plan = form_of("Task_DraftMeasures")
        cadre = user("chengguan01_cadre1")
        assert cadre.id in [cadre_id for cadre_id, _label in plan.context.cadres]
        assert [c.value for c in plan.cadre_id.choices][1:] == [cadre_id for cadre_id, _ in plan.context.cadres]
        assert plan.context.measures == []  # not asked for, not queried
        complete(team, "Task_DraftMeasures", {
            "cadre_id": cadre.id, "measures-0-content": "协助办理慢病卡", "measures-0-measure_type": "health",
            "measures-0-responsible_unit": "县医保局", "measures-0-deadline": "2099-06-30"}, case_id)
        complete("county_office", "Task_CountyFiling", {"decision": "file", "opinion": "予以备案"}, case_id)

        report = form_of("Task_CarryOutMeasures")
        filed = db.session.scalars(select(Measure).where(Measure.case_id == case_id)).all()
        assert report.context.measures == [(m.id, m.content) for m in filed] and filed
        assert [e.form.measure_id.data for e in report.results] == [str(m.id) for m in filed]
        assert report.context.cadres == []
