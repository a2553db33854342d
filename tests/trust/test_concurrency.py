"""Many people working the same cases at once: every operation either takes effect whole or is refused with a
conflict, and afterwards every case's workflow state, query rows and history agree."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.errors import Conflict, DomainError
from app.extensions import db
from app.models import Case, Event, Measure, ReadyTask, User, WorkflowInstance
from tests.conftest import today
from tests.households import screen_village

OPERATIONS = int(os.environ.get("TRUST_OPERATIONS", "1000"))
WORKERS = 6
VILLAGES = ("610922100001", "610922100002", "610922101001", "610922101002")
TOWNS = {"610922100": "chengguan", "610922101": "raofeng"}


def step_data(task: ReadyTask, case: Case, rng: random.Random) -> dict[str, str]:
    """Valid form data for the step, choosing among the rulebook's decisions where there is a choice."""
    day = today().isoformat()
    cadre = db.session.scalar(select(User.id).where(User.role == "cadre", User.area_code == case.village_code))
    by_step: dict[str, list[dict[str, str]]] = {
        "Task_TownCertify": [{"decision": "certify", "risk_level": "at_risk", "opinion": "符合"},
                             {"decision": "return", "opinion": "补充材料"}],
        "Task_SupplementInformation": [{"supplement": "已补充"}],
        "Task_TownLeadershipReview": [{"decision": "pass", "opinion": "通过", "meeting_date": day},
                                      {"decision": "return", "opinion": "再核"}],
        "Task_CountyApprove": [{"decision": "approve", "opinion": "同意"}, {"decision": "return", "opinion": "补正"}],
        "Task_PostNotice": [{"posted_on": "2020-01-01", "period_days": "5", "location": "村委会"}],
        "Task_RecordObjections": [{"decision": "no_objection"}],
        "Task_DraftMeasures": [{"measures-0-content": "临时救助", "measures-0-measure_type": "temporary_relief",
                                "measures-0-responsible_unit": "县民政局", "measures-0-deadline": "2027-06-30",
                                "cadre_id": str(cadre)}],
        "Task_CountyFiling": [{"decision": "file", "opinion": "备案"}],
        "Task_ApplyClosure": [{"applied_on": day, "income_per_capita": "8600", "summary": "达标"}],
        "Task_TownAcceptance": [{"decision": "accept", "opinion": "合格"}],
        "Task_CountyRecheck": [{"decision": "confirm", "opinion": "达标"}],
    }
    if task.bpmn_id == "Task_CarryOutMeasures":
        measures = db.session.scalars(select(Measure.id).where(Measure.case_id == case.id)).all()
        data = {}
        for index, measure_id in enumerate(measures):
            data.update({f"results-{index}-measure_id": str(measure_id), f"results-{index}-completed_on": day,
                         f"results-{index}-result": "已落实"})
        return data
    return rng.choice(by_step[task.bpmn_id])


def actor_for(task: ReadyTask, case: Case) -> User:
    if task.assignee_id:
        return db.session.get(User, task.assignee_id)  # type: ignore[return-value]
    area = {"village_team": task.village_code, "town_certifier": task.town_code,
            "town_leadership": task.town_code}.get(task.role, "610922")
    return db.session.scalar(select(User).where(User.role == task.role, User.area_code == area))  # type: ignore


def test_thousands_of_concurrent_operations_leave_every_case_consistent(app):
    from app.tasks import operations as task_ops
    from app.workflow.runtime import complete_user_task, consistency_problems, run_due_timers

    cases = [case for village in VILLAGES for case in screen_village(app, village, [0, 1])]
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with app.app_context():
                for _ in range(OPERATIONS // WORKERS):
                    db.session.rollback()
                    case = db.session.get(Case, rng.choice(cases))
                    db.session.refresh(case)
                    task = db.session.scalar(select(ReadyTask).where(ReadyTask.case_id == case.id)
                                             .order_by(ReadyTask.id))
                    if task is None:
                        run_due_timers()
                        db.session.commit()
                        result = "timers"
                    else:
                        actor = actor_for(task, case)
                        try:
                            if rng.random() < 0.2:
                                task_ops.claim(task.id, actor)
                                db.session.commit()
                                task_ops.release(task.id, actor)
                            else:
                                complete_user_task(task.id, MultiDict(step_data(task, case, rng)), actor,
                                                   db.session.get(WorkflowInstance, case.instance_id).revision)
                            db.session.commit()
                            result = "done"
                        except Conflict:
                            db.session.rollback()
                            result = "conflict"
                        except DomainError as exc:  # e.g. a form the race made stale
                            db.session.rollback()
                            result = f"refused: {exc.message}"
                    with lock:
                        outcomes[result] += 1
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], errors[:3]
    assert outcomes["done"] >= 100, outcomes
    # A form built from data another worker just changed is refused like any invalid form: nothing stored.
    assert {k for k in outcomes if k.startswith("refused")} <= {"refused: 表单填写有误，请按提示修改"}, outcomes
    with app.app_context():
        problems = []
        for instance in db.session.scalars(select(WorkflowInstance)):
            problems += consistency_problems(instance)
        assert problems == []
        # History agrees with the state: each completion left exactly one event and one visit of its task.
        completions = db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "task_completed"))
        from app.models import ElementVisit

        visits = db.session.scalar(select(func.count()).select_from(ElementVisit)
                                   .where(ElementVisit.ready_at.is_not(None)))
        assert completions == visits
