"""批量审批: the county office approves several cases of one town at once, each case its own step and event."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Event, ReadyTask
from tests.conftest import DEMO_PASSWORD, DEMO_SIZE, _clear
from tests.helpers import open_case, open_cases, to_county_approval, user

CHENGGUAN, RAOFENG = "610922100", "610922101"
PAGE = f"/tasks/batch?step=Task_CountyApprove&town={CHENGGUAN}"
TICKED = re.compile(r'name="task" value="(\d+:\d+)"')


def _waiting_for_county(app, town_cases: int = 3, raofeng: bool = True) -> tuple[list[int], int | None]:
    """`town_cases` cases of 城关镇 (two villages) and one of 饶峰镇 at 县办审批."""
    ids = open_cases(app, f"{CHENGGUAN}001", min(town_cases, 2))
    if town_cases > 2:
        ids += open_cases(app, f"{CHENGGUAN}002", town_cases - 2)
    other = open_case(app, f"{RAOFENG}001") if raofeng else None
    with app.app_context():
        for case_id in [*ids, *([other] if other else [])]:
            to_county_approval(case_id)
    return ids, other


def _inbox_total(browser) -> int:
    found = re.search(r'我的待办 <small class="muted">(\d+) 项', browser.get("/").get_data(as_text=True))
    assert found
    return int(found.group(1))


def _approvals(app, case_id: int) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.about("case", case_id), Event.kind == "task_completed",
                                                           Event.bpmn_id == "Task_CountyApprove")))


def _state(app) -> tuple:
    with app.app_context():
        # Every event about a case or screening (log-ins are events too, about no subject).
        return (db.session.scalar(select(func.count()).select_from(Event).where(Event.subject_kind.is_not(None))),
                sorted(db.session.execute(select(ReadyTask.id, ReadyTask.bpmn_id)).all()),
                sorted(db.session.execute(select(Case.id, Case.status, Case.current_step)).all()))


def test_a_batch_of_three_approves_each_case_with_its_own_event(app, login_as):
    ids, other = _waiting_for_county(app)
    county = login_as("county_office")
    before = _inbox_total(county)
    inbox = county.get("/").get_data(as_text=True)
    assert "/tasks/batch" in inbox  # reachable from the inbox
    overview = county.get("/tasks/batch").get_data(as_text=True)
    assert "县办审批" in overview and "城关镇（3 户待办）" in overview and "饶峰镇（1 户待办）" in overview
    page = county.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    ticks = TICKED.findall(html)
    assert len(ticks) == 3  # 城关镇's only, not 饶峰镇's
    # The key facts of each case and the town's opinion before the county's decision.
    assert html.count("镇领导小组会议审议") >= 3 and "镇会议通过" in html and "会议日期" in html
    assert "返贫（致贫）风险户" in html or "风险户" in html
    with app.app_context():
        heads = [db.session.get(Case, i).household.head_name for i in ids]
    assert all(head in html for head in heads)

    answer = county.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", CHENGGUAN),
                                          ("opinion", "经审核，同意批准"), *(("task", t) for t in ticks)], page=PAGE)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "已办理 3 户" in body and "未处理" not in body
    task_ids = set()
    for case_id in ids:
        events = _approvals(app, case_id)
        assert len(events) == 1, case_id
        event = events[0]
        assert (event.decision, event.opinion, event.actor_id) == ("approve", "经审核，同意批准",
                                                                    _user_id(app, "county_office"))
        task_ids.add(event.task_id)
        with app.app_context():
            case = db.session.get(Case, case_id)
            assert case.identified_on is not None and case.status == "publicity"  # the approval's own effect
            assert db.session.scalar(select(ReadyTask.bpmn_id).where(ReadyTask.about("case", case_id))) \
                == "Task_PostNotice"
    assert len(task_ids) == 3  # each its own task, its own step
    assert _approvals(app, other) == []  # 饶峰镇's case still waits
    assert _inbox_total(county) == before - 3
    assert TICKED.findall(county.get(PAGE).get_data(as_text=True)) == []


def _user_id(app, username: str) -> int:
    with app.app_context():
        return user(username).id


def test_a_case_decided_meanwhile_is_reported_and_the_others_go_through(app, login_as):
    from tests.tasks.test_claims_and_handover import add_colleague

    ids, _ = _waiting_for_county(app, town_cases=3, raofeng=False)
    county = login_as("county_office")
    ticks = TICKED.findall(county.get(PAGE).get_data(as_text=True))
    assert len(ticks) == 3
    # Meanwhile a colleague decides the first case on its own page and claims the second.
    add_colleague(app, "county_office", "county_office2")
    colleague = login_as("county_office2")
    colleague.complete("Task_CountyApprove", {"decision": "return", "opinion": "请补充收入证明"}, case_id=ids[0])
    second = colleague.task("Task_CountyApprove", case_id=ids[1])
    assert colleague.post(f"/tasks/{second['id']}/claim", {}).status_code in (302, 303)
    before = _inbox_total(county)

    answer = county.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", CHENGGUAN),
                                          ("opinion", "同意"), *(("task", t) for t in ticks)], page=PAGE)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "已办理 1 户，未处理 2 户" in body
    assert "县办同事" in body or "同事" in body  # who decided or holds the skipped ones
    assert "未重复提交" in body and "认领" in body
    first, second_events, third = (_approvals(app, i) for i in ids)
    assert [e.decision for e in first] == ["return"]  # the colleague's decision stands, nothing added
    assert second_events == []
    assert [e.decision for e in third] == ["approve"]
    assert _inbox_total(county) == before - 1


def test_only_the_county_office_of_the_county_may_approve_in_batch(app, login_as):
    from app.demo import load_demo

    _clear(app)
    with app.app_context():
        load_demo(DEMO_PASSWORD, counties=2, **DEMO_SIZE)
        db.session.commit()
    ids, _ = _waiting_for_county(app, town_cases=2, raofeng=False)
    county = login_as("county_office")
    ticks = TICKED.findall(county.get(PAGE).get_data(as_text=True))
    assert len(ticks) == 2
    before = _state(app)

    def send(browser, town: str) -> int:
        return browser.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", town), ("opinion", "同意"),
                                             *(("task", t) for t in ticks)]).status_code

    for username in ("chengguan_certifier", "chengguan_leader", "supervisor", "admin", "chengguan01_team"):
        browser = login_as(username)
        assert browser.get(PAGE).status_code == 403, username
        assert send(browser, CHENGGUAN) == 403, username
    hanbin = login_as("hanbin_county_office")
    assert hanbin.get("/tasks/batch").status_code == 200  # their own county's batch page
    assert hanbin.get(PAGE).status_code == 403
    assert send(hanbin, CHENGGUAN) == 403
    with app.app_context():
        from app.models import Area

        hanbin_town = db.session.scalar(select(Area.code).where(Area.code.like(user("hanbin_county_office")
                                                                               .area_code + "___")).limit(1))
    assert send(hanbin, hanbin_town) == 403  # 石泉县's tasks under one of its own towns
    assert _state(app) == before
    assert all(_approvals(app, i) == [] for i in ids)


def test_a_batch_needs_an_opinion_and_a_batchable_step_and_the_csrf_token(app, login_as):
    ids, _ = _waiting_for_county(app, town_cases=2, raofeng=False)
    county = login_as("county_office")
    ticks = TICKED.findall(county.get(PAGE).get_data(as_text=True))
    before = _state(app)
    blank = county.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", CHENGGUAN), ("opinion", "  "),
                                         *(("task", t) for t in ticks)], page=PAGE)
    assert blank.status_code == 422 and "请填写" in blank.get_data(as_text=True)
    wrong_step = county.post("/tasks/batch", [("step", "Task_TownCertify"), ("town", CHENGGUAN), ("opinion", "同意"),
                                              *(("task", t) for t in ticks)], page=PAGE)
    assert wrong_step.status_code == 422 and "不能批量审批" in wrong_step.get_data(as_text=True)
    none_ticked = county.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", CHENGGUAN),
                                               ("opinion", "同意")], page=PAGE)
    assert none_ticked.status_code == 422
    forged = county.client.post("/tasks/batch", data={"step": "Task_CountyApprove", "town": CHENGGUAN,
                                                      "opinion": "同意", "task": ticks})
    assert forged.status_code == 400  # no CSRF token
    # Only the favourable decision: a decision sent along is ignored, never a rejection in batch.
    assert _state(app) == before
    county.post("/tasks/batch", [("step", "Task_CountyApprove"), ("town", CHENGGUAN), ("opinion", "同意"),
                                 ("decision", "reject"), *(("task", t) for t in ticks)], page=PAGE)
    assert [[e.decision for e in _approvals(app, i)] for i in ids] == [["approve"], ["approve"]]


def test_filing_and_recheck_are_offered_too(app, login_as):
    """县办备案 and 县办复核确认 name their favourable decision; the town steps do not."""
    from app.tasks.batch import batch_steps

    with app.app_context():
        offered = {s.bpmn_id: s.decision for s in batch_steps(user("county_office"))}
        assert offered["Task_CountyApprove"] == "approve"
        assert offered["Task_CountyFiling"] == "file"
        assert offered["Task_CountyRecheck"] == "confirm"
        assert "Task_TownCertify" not in offered
        assert batch_steps(user("chengguan_certifier")) == []
