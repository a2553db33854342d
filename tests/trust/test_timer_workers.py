"""Several timer workers at once fire each due timer exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.models import Event, ReadyTask
from tests.conftest import today
from tests.helpers import approve_case, complete, open_case

VILLAGES = ("610922100001", "610922100002", "610922101001", "610922101002")


def test_four_workers_fire_each_notice_period_exactly_once(app):
    cases = [open_case(app, village) for village in VILLAGES]
    with app.app_context():
        for case_id in cases:
            approve_case(case_id)
            team = {"610922100": "chengguan", "610922101": "raofeng"}
            village = VILLAGES[cases.index(case_id)]
            complete(f"{team[village[:9]]}{int(village[-3:]):02d}_team", "Task_PostNotice",
                     {"posted_on": today().isoformat(), "period_days": 5, "location": "村委会"}, case_id)
    later = utcnow() + timedelta(days=30)
    fired: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        from app.workflow.runtime import process_due_timers

        try:
            with app.app_context():
                barrier.wait()
                fired.append(process_due_timers(later))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(fired) == len(cases)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "timer_fired")) \
            == len(cases)
        waiting = db.session.scalars(select(ReadyTask.bpmn_id).where(ReadyTask.about_any("case", cases))).all()
        assert sorted(waiting) == ["Task_RecordObjections"] * len(cases)
