"""Supervisors see where each case is, since when, whose move it is, when it is due and who is late."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook

from app.clock import china_moment, travel_to
from tests.helpers import complete, open_case

CERTIFY = {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}


def cases_on(app, day: date) -> dict[str, int]:
    with travel_to(china_moment(day)):
        return {village: open_case(app, village) for village in ("610922100001", "610922100002", "610922101001")}


def test_the_list_shows_step_holder_waiting_since_and_due_date(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    with app.app_context(), travel_to(china_moment(date(2026, 10, 9))):
        complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100002"])
    with travel_to(china_moment(date(2026, 10, 9))):
        html = login_as("supervisor").get("/cases/").get_data(as_text=True)
    assert "镇认定工作组认定" in html and "城关镇 · 镇认定工作组" in html
    assert "镇领导小组" in html  # the certified case waits for the town leadership meeting
    assert "2026-10-13" in html  # 5 working days after 30 September, over National Day
    assert "class=\"overdue\"" not in html


def test_overdue_flags_move_with_time(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    with travel_to(china_moment(date(2026, 10, 13))):
        supervisor = login_as("supervisor")
        assert "class=\"overdue\"" not in supervisor.get("/cases/").get_data(as_text=True)
        assert "没有符合条件的案件" in supervisor.get("/cases/?overdue=1").get_data(as_text=True)
    with travel_to(china_moment(date(2026, 10, 20))):
        supervisor = login_as("supervisor")  # a week later: the old session ended after 30 idle minutes
        html = supervisor.get("/cases/?overdue=1").get_data(as_text=True)
    assert "逾期 7 天" in html
    for case_id in ids.values():
        assert f"#{case_id}<" in html


def test_filters_by_town_step_risk_type_and_status(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    with app.app_context(), travel_to(china_moment(date(2026, 10, 9))):
        complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100002"])
    county = login_as("county_office")
    town = county.get("/cases/?town=610922101").get_data(as_text=True)
    assert f"#{ids['610922101001']}<" in town and f"#{ids['610922100001']}<" not in town
    step = county.get("/cases/?step=Task_TownLeadershipReview").get_data(as_text=True)
    assert f"#{ids['610922100002']}<" in step and f"#{ids['610922100001']}<" not in step
    assert "共 0 件" in county.get("/cases/?risk_type=major_illness").get_data(as_text=True)
    assert "共 3 件" in county.get("/cases/?risk_type=accident&status=open").get_data(as_text=True)
    assert "共 0 件" in county.get("/cases/?status=closed").get_data(as_text=True)


def test_sorting_by_due_date_puts_the_earliest_first(app, login_as):
    early = open_case(app, "610922100001")
    with travel_to(china_moment(date(2099, 1, 5))):
        late = open_case(app, "610922100002")
    html = login_as("county_office").get("/cases/?sort=due").get_data(as_text=True)
    assert html.index(f"#{early}<") < html.index(f"#{late}<")
    refused = login_as("county_office").get("/cases/?sort=nonsense")
    assert refused.status_code == 422 and "排序" in refused.get_data(as_text=True)


def test_a_town_user_sees_only_their_town_on_the_page_and_in_the_export(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    raofeng = login_as("raofeng_certifier")
    html = raofeng.get("/cases/").get_data(as_text=True)
    assert f"#{ids['610922101001']}<" in html and f"#{ids['610922100001']}<" not in html
    assert "共 0 件" in raofeng.get("/cases/?town=610922100").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(raofeng.get("/cases/export.xlsx").data)).active
    exported = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert exported == [ids["610922101001"]]


def test_the_export_holds_the_same_rows_as_the_list(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    with travel_to(china_moment(date(2026, 10, 20))):
        response = login_as("supervisor").get("/cases/export.xlsx?sort=household")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "石泉县返贫监测帮扶案件清单"
    assert [c.value for c in sheet[3]][:4] == ["编号", "户主", "证件号码", "镇"]
    rows = [row for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert sorted(r[0] for r in rows) == sorted(ids.values())
    first = rows[0]
    assert "********" in first[2]  # the list never carries full ID numbers
    assert first[10].date() == date(2026, 10, 13) and first[11] == 7
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"


def test_due_dates_in_a_year_without_a_holiday_notice_carry_a_warning(app, login_as):
    with travel_to(china_moment(date(2027, 1, 4))):
        open_case(app)
        html = login_as("county_office").get("/cases/").get_data(as_text=True)
        inbox = login_as("chengguan_certifier").get("/").get_data(as_text=True)
    assert "尚未收录 2027 年" in html and "尚未收录 2027 年" in inbox
    assert "2027-01-11" in html  # 5 working days after Monday 4 January, Monday to Friday


def test_the_inbox_puts_the_task_due_soonest_first_and_marks_overdue(app, login_as):
    with travel_to(china_moment(date(2026, 10, 20))):
        later = open_case(app, "610922100002")
    with travel_to(china_moment(date(2026, 9, 30))):
        sooner = open_case(app, "610922100001")
    with travel_to(china_moment(date(2026, 10, 20))):
        html = login_as("chengguan_certifier").get("/").get_data(as_text=True)
    assert "逾期 7 天" in html
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import ReadyTask

        first, second = (db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", c)))
                         for c in (sooner, later))
    assert html.index(f"/tasks/{first}") < html.index(f"/tasks/{second}")


def test_the_list_shows_open_cases_unless_asked_for_all(app, login_as):
    rejected = open_case(app, "610922100001")
    still_open = open_case(app, "610922100002")
    with app.app_context():
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "reject", "opinion": "收入达标，不予认定"},
                 rejected)
    county = login_as("county_office")
    default = county.get("/cases/").get_data(as_text=True)
    assert f"#{still_open}<" in default and f"#{rejected}<" not in default
    everything = county.get("/cases/?status=all").get_data(as_text=True)
    assert f"#{still_open}<" in everything and f"#{rejected}<" in everything


def test_the_inbox_filters_by_step_and_overdue(app, login_as):
    with travel_to(china_moment(date(2026, 9, 30))):
        old = open_case(app, "610922100001")
    with travel_to(china_moment(date(2026, 10, 20))):
        new = open_case(app, "610922100002")
        certifier = login_as("chengguan_certifier")
        overdue = certifier.get("/?overdue=1").get_data(as_text=True)
        everything = certifier.get("/?step=Task_TownCertify").get_data(as_text=True)
        none = certifier.get("/?step=Task_CountyApprove").get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import ReadyTask

        old_task, new_task = (db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", c)))
                              for c in (old, new))
    assert f"/tasks/{old_task}" in overdue and f"/tasks/{new_task}" not in overdue
    assert f"/tasks/{old_task}" in everything and f"/tasks/{new_task}" in everything
    assert f"/tasks/{old_task}" not in none


def step_choices(html: str) -> list[tuple[str, str]]:
    select_ = re.search(r'<select name="step".*?</select>', html, re.S)
    assert select_ is not None
    return re.findall(r'<option value="(\w+)" ?[^>]*>([^<]+)</option>', select_.group(0))


def test_the_step_filter_offers_the_steps_the_areas_cases_wait_at(app, login_as):
    ids = cases_on(app, date(2026, 9, 30))
    with app.app_context(), travel_to(china_moment(date(2026, 10, 9))):
        complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100002"])
    # The county's office sees every case: its choices are read off the step index, the screenings' own steps
    # (every other village is still screening) are not among them.
    county = step_choices(login_as("county_office").get("/cases/").get_data(as_text=True))
    assert county == [("Task_TownCertify", "镇认定工作组认定"), ("Task_TownLeadershipReview", "镇领导小组会议审议")]
    # A town's user is offered the steps its own cases wait at.
    town = step_choices(login_as("raofeng_certifier").get("/cases/").get_data(as_text=True))
    assert town == [("Task_TownCertify", "镇认定工作组认定")]
