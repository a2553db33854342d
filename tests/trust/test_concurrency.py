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
from app.models import Case, Event, Measure, ProcessVersion, ReadyTask, User, WorkflowInstance
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
                    task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case.id))
                                             .order_by(ReadyTask.id))
                    if task is None:
                        run_due_timers()
                        db.session.commit()
                        result = "timers"
                    else:
                        actor = actor_for(task, case)
                        try:
                            if rng.random() < 0.2:
                                task_id = task.id  # the commit expires the row, which another worker may delete
                                task_ops.claim(task_id, actor)
                                db.session.commit()
                                task_ops.release(task_id, actor)
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


def test_migrating_and_completing_the_same_case_at_once_each_take_effect_once(app):
    """Administrators move running cases to a new diagram version while staff complete their tasks: of the
    racing migrations of one case at most one takes effect and the others are told the case moved or changed;
    a completion either lands (before or after the move) or is refused as stale; something always lands, and
    every case's state, rows and history agree."""
    from app.processes import admin as process_admin
    from app.workflow.runtime import consistency_problems
    from tests.helpers import user

    cases = screen_village(app, "610922100001", [0, 1])  # 12 threads: within the connection pool
    with app.app_context():
        v1 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "household_case",
                                                            ProcessVersion.is_current))
        xml = v1.bpmn_xml.replace('name="time_limit_days" value="5"', 'name="time_limit_days" value="7"', 1)
        assert xml != v1.bpmn_xml
        v2_id = process_admin.deploy(xml, user("admin"), "household_case").id
        db.session.commit()

    migrators, completers = 4, 2
    barrier = threading.Barrier(len(cases) * (migrators + completers), timeout=30)
    outcomes: Counter[tuple[int, str, str]] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def migrate(case_id: int) -> None:
        with app.app_context():
            try:
                case = db.session.get(Case, case_id)
                instance = db.session.get(WorkflowInstance, case.instance_id)
                target = db.session.get(ProcessVersion, v2_id)
                barrier.wait()
                try:
                    process_admin.migrate_case_instance(instance, target, user("admin"))
                    db.session.commit()
                    result = "moved"
                except Conflict as exc:
                    db.session.rollback()
                    result = exc.message
                with lock:
                    outcomes[(case_id, "migrate", result)] += 1
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    def complete(case_id: int) -> None:
        with app.app_context():
            try:
                task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case_id)))
                revision = db.session.get(WorkflowInstance, task.instance_id).revision
                actor = user("chengguan_certifier")
                data = MultiDict({"decision": "certify", "risk_level": "at_risk", "opinion": "符合"})
                barrier.wait()
                try:
                    complete_user_task(task.id, data, actor, revision)
                    db.session.commit()
                    result = "completed"
                except Conflict:
                    db.session.rollback()
                    result = "conflict"
                with lock:
                    outcomes[(case_id, "complete", result)] += 1
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    from app.workflow.runtime import complete_user_task

    threads = [threading.Thread(target=migrate, args=(c,)) for c in cases for _ in range(migrators)]
    threads += [threading.Thread(target=complete, args=(c,)) for c in cases for _ in range(completers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], errors[:3]
    stale = {"案件已在该版本上运行", "该案件刚被其他人更新，您的提交未保存，请刷新后重试"}
    with app.app_context():
        for case_id in cases:
            mine = {(op, result): n for (c, op, result), n in outcomes.items() if c == case_id}
            moved, completed = mine.get(("migrate", "moved"), 0), mine.get(("complete", "completed"), 0)
            # at most one of each lands, at least one thing lands, and every refusal says why
            assert moved <= 1 and completed <= 1 and moved + completed >= 1, mine
            assert {result for (op, result) in mine if op == "migrate"} <= stale | {"moved"}, mine
            assert sum(n for (op, _), n in mine.items() if op == "migrate") == migrators
            assert sum(n for (op, _), n in mine.items() if op == "complete") == completers
            case = db.session.get(Case, case_id)
            instance = db.session.get(WorkflowInstance, case.instance_id)
            assert (instance.process_version_id == v2_id) == bool(moved)
            assert consistency_problems(instance) == []
            kinds = Counter(db.session.scalars(select(Event.kind).where(Event.about("case", case_id))))
            assert kinds["instance_migrated"] == moved and kinds["task_completed"] == completed


def test_a_submit_queued_behind_a_migration_continues_on_the_version_the_migration_left(app, monkeypatch):
    """A submit without a revision (the API allows it) waits for the instance while an administrator moves the case
    to a new diagram version. On PostgreSQL it queues on the instance row and must then read the instance, its
    diagram version and its case as the migration committed them, not as they were when it began waiting; on
    SQLite it goes first and the migration is refused as stale. Either way the task is completed once and the
    case's state, rows and history agree."""
    import time

    from app.processes import admin as process_admin
    from app.workflow import runtime
    from app.workflow.runtime import complete_user_task, consistency_problems
    from tests.helpers import user

    (case_id,) = screen_village(app, "610922100001", [0])
    with app.app_context():
        v1 = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "household_case",
                                                            ProcessVersion.is_current))
        xml = v1.bpmn_xml.replace('name="time_limit_days" value="5"', 'name="time_limit_days" value="7"', 1)
        v2_id = process_admin.deploy(xml, user("admin"), "household_case").id
        db.session.commit()

    migrating = threading.Event()
    real_migrate = runtime.engine.migrate

    def slow_migrate(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - holds the instance lock a while
        migrating.set()
        time.sleep(1.0)
        return real_migrate(*args, **kwargs)

    monkeypatch.setattr(runtime.engine, "migrate", slow_migrate)
    results: dict[str, str] = {}

    def migrate() -> None:
        with app.app_context():
            try:
                instance = db.session.get(WorkflowInstance, db.session.get(Case, case_id).instance_id)
                process_admin.migrate_case_instance(instance, db.session.get(ProcessVersion, v2_id), user("admin"))
                db.session.commit()
                results["migrate"] = "moved"
            except Conflict as exc:
                db.session.rollback()
                results["migrate"] = exc.message
            except BaseException as exc:  # noqa: BLE001 - reported below
                results["migrate"] = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()

    def complete() -> None:
        with app.app_context():
            try:
                task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case_id)))
                actor = user("chengguan_certifier")
                assert migrating.wait(10)
                time.sleep(0.2)
                complete_user_task(task.id, MultiDict({"decision": "certify", "risk_level": "at_risk",
                                                       "opinion": "符合"}), actor, None)
                db.session.commit()
                results["complete"] = "completed"
            except BaseException as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                results["complete"] = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=migrate), threading.Thread(target=complete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stale = "该案件刚被其他人更新，您的提交未保存，请刷新后重试"
    assert results["migrate"] in ("moved", stale), results
    assert results["complete"] in ("completed", f"Conflict: {stale}"), results
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # the row lock queues the submit: both take effect, in order
            assert results == {"migrate": "moved", "complete": "completed"}
        case = db.session.get(Case, case_id)
        instance = db.session.get(WorkflowInstance, case.instance_id)
        assert consistency_problems(instance) == []
        assert (instance.process_version_id == v2_id) == (results["migrate"] == "moved")
        completed = results["complete"] == "completed"
        assert completed or results["migrate"] == "moved"
        assert [e.bpmn_id for e in db.session.scalars(select(Event).where(
            Event.about("case", case_id), Event.kind == "task_completed"))] == (
            ["Task_TownCertify"] if completed else [])
        assert case.current_step == ("镇领导小组会议审议" if completed else "镇认定工作组认定")
