"""入户核实 (home verification) of every new risk lead: the village team's task, due within the county's setting
(default 3 working days) and never later than the national 15 days from the day the risk was found; the household's
signed 承诺授权书 (photo or PDF) must be on file before the result is submitted; the lead ends confirmed (it
goes on to identification) or not confirmed with its reason, which the household file and the declarant's status
lookup keep."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from app.clock import china_moment, china_today, travel_to
from app.deadlines.calendar import add_working_days
from app.extensions import db
from app.models import LeadDocument, LeadVerification, ReadyTask, RiskLead
from tests.collab.conftest import JPEG, PDF, fetch
from tests.leads.test_declarations import Resident, declaration, leads, member_of

VERIFIED = {"visited_on": "", "verifiers": "王队长、李主任", "guarantee_gaps": "medical",
            "findings": "户主父亲脑梗住院，自付约六万元，家庭无其他收入来源", "decision": "confirmed", "reason": ""}


def declared(app, index: int = 0) -> tuple[RiskLead, str]:
    _, name, number = member_of(app, index=index)
    assert Resident(app).declare(**declaration(name, number)).status_code == 201
    return leads(app)[-1], number


def verification_task(app, lead_id: int) -> ReadyTask | None:
    with app.app_context():
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("lead", lead_id)))
        if task is not None:
            db.session.expunge(task)
        return task


def upload(browser, lead_id: int, task_id: int, content: bytes, name: str = "授权书.jpg"):
    html = browser.get(f"/tasks/{task_id}").get_data(as_text=True)
    token = browser._csrf(html)
    return browser.client.post(f"/leads/{lead_id}/authorisation", data={
        "csrf_token": token, "task_id": str(task_id), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def test_a_new_lead_is_the_village_teams_verification_task_due_in_three_working_days(app, login_as):
    lead, _ = declared(app)
    task = verification_task(app, lead.id)
    assert task is not None and task.role == "village_team" and task.village_code == lead.village_code
    recorded = china_today()
    assert task.due_on == min(add_working_days(recorded, 3), lead.discovered_on + timedelta(days=15))
    team = login_as("chengguan01_team")
    assert [t["bpmn_id"] for t in team.inbox()] .count("Task_VerifyAtHome") == 1
    assert not [t for t in login_as("chengguan02_team").inbox() if t["bpmn_id"] == "Task_VerifyAtHome"]
    page = team.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert lead.receipt_no in page and "承诺授权书" in page and "父亲突发脑梗住院" in page


def test_the_countys_verification_limit_applies_to_leads_recorded_from_its_day_on(app, login_as):
    office = login_as("county_office")
    monday = date(2026, 12, 7)
    with travel_to(china_moment(monday - timedelta(days=3), 9)):
        saved = office.post("/settings/rules/lead_verification_working_days",
                            {"value": "5", "effective_from": monday.isoformat(), "source_document": "县办通知"},
                            page="/settings")
        assert saved.status_code == 303
    with travel_to(china_moment(monday, 9)):
        lead, _ = declared(app)
    assert verification_task(app, lead.id).due_on == add_working_days(monday, 5)


def test_the_result_waits_for_the_signed_authorisation_and_a_confirmed_lead_goes_on(app, login_as):
    lead, number = declared(app)
    task = verification_task(app, lead.id)
    team = login_as("chengguan01_team")
    form = dict(VERIFIED, visited_on=china_today().isoformat())
    refused = team.complete("Task_VerifyAtHome", form, expect=422)
    assert "请先上传户主签字的《承诺授权书》" in refused.get_data(as_text=True)
    assert verification_task(app, lead.id) is not None

    wrong = upload(team, lead.id, task.id, b"just some text", "授权书.txt")
    assert wrong.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(LeadDocument.id)) is None
    assert upload(team, lead.id, task.id, JPEG).status_code == 303
    assert upload(team, lead.id, task.id, JPEG).status_code == 303  # the same photo again: kept once
    with app.app_context():
        assert len(db.session.scalars(select(LeadDocument)).all()) == 1

    team.complete("Task_VerifyAtHome", form)
    assert verification_task(app, lead.id).bpmn_id == "Task_AssessIncome"  # next: 收支测算
    with app.app_context():
        done = db.session.get(RiskLead, lead.id)
        assert done.status == "verified" and done.closed_at is None
        record = db.session.scalar(select(LeadVerification).where(LeadVerification.lead_id == lead.id))
        assert record.confirmed and record.guarantee_gaps == ["medical"] and record.verifiers == "王队长、李主任"
    shown = team.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "核实属实，收支测算中" in shown and "基本医疗有保障" in shown and "授权书.jpg" in shown
    status = Resident(app).look_up(lead.receipt_no, number[-4:]).get_data(as_text=True)
    assert "困难情况属实" in status
    # While it waits for identification, a new report joins it.
    _, name, _ = member_of(app)
    assert Resident(app).declare(**declaration(name, number)).status_code == 201
    assert leads(app)[-1].merged_into_id == lead.id


def test_a_lead_not_confirmed_ends_with_its_reason_and_a_later_report_starts_anew(app, login_as):
    lead, number = declared(app)
    task = verification_task(app, lead.id)
    team = login_as("chengguan01_team")
    assert upload(team, lead.id, task.id, PDF, "授权书.pdf").status_code == 303
    form = dict(VERIFIED, visited_on=china_today().isoformat(), decision="not_confirmed")
    del form["guarantee_gaps"]  # every item secured: no box ticked
    missing = team.complete("Task_VerifyAtHome", form, expect=422)
    assert "请写明理由" in missing.get_data(as_text=True)
    team.complete("Task_VerifyAtHome", dict(form, reason="住院费用已由大病保险和医疗救助报销九成，家庭收入稳定"))
    with app.app_context():
        ended = db.session.get(RiskLead, lead.id)
        assert ended.status == "not_confirmed" and "医疗救助" in ended.outcome_reason
    assert "医疗救助" in team.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "暂不符合纳入监测的条件" in Resident(app).look_up(lead.receipt_no, number[-4:]).get_data(as_text=True)
    _, name, _ = member_of(app)
    assert Resident(app).declare(**declaration(name, number)).status_code == 201
    again = leads(app)[-1]
    assert again.status == "open" and again.merged_into_id is None
    assert verification_task(app, again.id) is not None


def test_another_village_neither_sees_the_lead_nor_uploads_its_papers(app, login_as):
    lead, _ = declared(app)
    task = verification_task(app, lead.id)
    other = login_as("raofeng01_team")
    assert other.get(f"/leads/{lead.id}").status_code == 403
    assert other.get(f"/tasks/{task.id}").status_code == 403
    token = other._csrf(other.get("/leads").get_data(as_text=True))
    refused = other.client.post(f"/leads/{lead.id}/authorisation", data={
        "csrf_token": token, "file": (io.BytesIO(JPEG), "x.jpg")}, content_type="multipart/form-data")
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(LeadDocument.id)) is None


def test_an_oversized_photo_is_refused_with_the_limit_named_and_nothing_kept(app, login_as):
    lead, _ = declared(app)
    task = verification_task(app, lead.id)
    team = login_as("chengguan01_team")
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        refused = upload(team, lead.id, task.id, JPEG + bytes(4096))
        assert refused.status_code == 303
        page = team.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert "附件不能超过 1 KB" in page or "附件不能超过" in page
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    with app.app_context():
        assert db.session.scalar(select(LeadDocument.id)) is None


def test_the_household_file_keeps_the_lead_its_verification_and_its_reason(app, login_as):
    lead, _ = declared(app)
    task = verification_task(app, lead.id)
    team = login_as("chengguan01_team")
    assert upload(team, lead.id, task.id, JPEG).status_code == 303
    form = dict(VERIFIED, visited_on=china_today().isoformat(), decision="not_confirmed",
                reason="家庭成员均有稳定务工收入，医疗费用已报销")
    team.complete("Task_VerifyAtHome", form)
    page = team.get(f"/households/{lead.household_id}").get_data(as_text=True)
    assert lead.receipt_no in page and "核实不属实，已办结" in page and "医疗费用已报销" in page
    assert "风险线索" in page and "风险不属实" in page  # the verification in the household's history


def test_the_signed_paper_downloads_as_a_file_never_rendered(app, login_as, api):
    lead, _ = declared(app)
    task = verification_task(app, lead.id)
    team = login_as("chengguan01_team")
    assert upload(team, lead.id, task.id, JPEG, "授权书.html").status_code == 303
    with app.app_context():
        document = db.session.scalar(select(LeadDocument))
    answer = fetch(team.get, f"/leads/documents/{document.id}")
    assert answer.status_code == 200 and answer.data == JPEG and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert "attachment" in answer.headers["Content-Disposition"] and ".jpg" in answer.headers["Content-Disposition"]
    over_api = fetch(api("chengguan01_team").get, f"/api/v1/lead-documents/{document.id}")
    assert over_api.status_code == 200 and over_api.data == JPEG
    assert api("raofeng01_team").get(f"/api/v1/lead-documents/{document.id}").status_code == 403


def test_the_fifteen_days_from_discovery_show_on_the_lead_and_bound_its_task(app, login_as):
    """A risk found 20 days before it was reported is already 5 days past the national cap: the task is due on
    the cap's day (not three working days from now) and the lead shows how late it is."""
    household_id, _, _ = member_of(app)
    team = login_as("chengguan01_team")
    found = china_today() - timedelta(days=20)
    form = {"household_id": household_id, "source": "written", "reporter_name": "户主", "reporter_phone": "13800138000",
            "discovered_on": found.isoformat(), "risk_types": "illness", "description": "书面申请：住院费用高"}
    assert team.post("/leads/new", form, page=f"/leads/new?household_id={household_id}").status_code == 303
    lead = leads(app)[-1]
    assert verification_task(app, lead.id).due_on == found + timedelta(days=15)
    listing = team.get("/leads").get_data(as_text=True)
    assert (found + timedelta(days=15)).isoformat() in listing and "已超期 5 天" in listing
    assert "已超期 5 天" in team.get(f"/leads/{lead.id}").get_data(as_text=True)


def test_the_administrator_sees_a_running_verification_on_its_diagram_version(app, login_as):
    lead, _ = declared(app)
    with app.app_context():
        from app.models import WorkflowInstance

        instance = db.session.get(WorkflowInstance, db.session.get(RiskLead, lead.id).instance_id)
        version_id = instance.process_version_id
    page = login_as("admin").get(f"/admin/processes/versions/{version_id}").get_data(as_text=True)
    assert f"风险线索 #{lead.id}" in page and f"/leads/{lead.id}" in page
