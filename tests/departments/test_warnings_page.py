"""预警统计 for the county office and supervisors: the year's leads by channel, month and department, how many were
verified, not confirmed, identified; days from finding a risk to the decision against the 15-day cap."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.clock import china_moment, china_today, travel_to
from tests.collab.conftest import JPEG
from tests.departments.conftest import YIBAO_HEADER, heads, upload, xlsx
from tests.leads.test_declarations import leads
from tests.leads.test_verification import VERIFIED, verification_task
from tests.leads.test_verification import upload as upload_paper
from tests.national.steps import COUNTY, TEAM, confirmed_lead, identify


def _row(page: str, attribute: str, key: str) -> dict[str, str]:
    match = re.search(rf'<tr data-{attribute}="{key}">(.*?)</tr>', page, re.S)
    assert match, key
    return {name: text.strip() for name, text in re.findall(r'class="([\w-]+)">([^<]*)<', match.group(1))}


def test_the_year_by_channel_and_department(app, login_as):
    found = date(2026, 6, 1)
    with travel_to(china_moment(found, 9)):
        lead = confirmed_lead(app, login_as, day=found)  # self-declared, verified …
    with travel_to(china_moment(found + timedelta(days=10), 9)):
        identify(app, login_as, lead.case_id)  # … and identified 10 days after it was found
    (name, number, _), *_ = heads(app, "610922100002")
    with travel_to(china_moment(date(2026, 7, 3), 9)):
        upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, [name, number, 50000, 30000, 20000, "2026-07-01"]],
                                                  (2,)), month="2026-06", expect=303)
        department_lead = leads(app)[-1]
        team = login_as("chengguan02_team")
        assert upload_paper(team, department_lead.id, verification_task(app, department_lead.id).id,
                            JPEG).status_code == 303
        team.complete("Task_VerifyAtHome", dict(VERIFIED, visited_on="2026-07-03", decision="not_confirmed",
                                                reason="费用已由大病保险二次报销"))
        page = login_as("supervisor").get("/supervision/warnings?year=2026").get_data(as_text=True)
    declared = _row(page, "channel", "self_declared")
    assert (declared["found"], declared["identified"], declared["verified"]) == ("1", "1", "1")
    assert declared["median-days"] == "10" and declared["within-cap"].startswith("1/1")
    warned = _row(page, "channel", "department_warning")
    assert (warned["found"], warned["not_confirmed"], warned["median-days"]) == ("1", "1", "0")  # found on upload
    yibao = _row(page, "department", "yibao")
    assert (yibao["leads"], yibao["identified"]) == ("1", "0")
    assert 'data-chart="channel-department_warning"' in page
    assert login_as(COUNTY).get("/supervision/warnings").status_code == 200
    for refused in (TEAM, "chengguan_certifier", "department_yibao", "admin"):
        assert login_as(refused).get("/supervision/warnings").status_code == 403
    assert login_as(COUNTY).get(f"/supervision/warnings?year={china_today().year + 1}").status_code == 422
