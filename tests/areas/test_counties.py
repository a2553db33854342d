"""A city (or a province) on one deployment: the area tree runs province → city → county → town → village; each
county keeps its own settings, county office, departments and users, and nobody in one county sees another
county's households, tasks or files; the city's and the province's supervisors see their counties side by side
and drill down to a town, a village and a case; exports and the annual review are each county's."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, CountySetting, Household, Screening, User
from tests.conftest import DEMO_PASSWORD, Browser, _clear, today
from tests.helpers import open_case

SHIQUAN, HANBIN, HANYIN = "610922", "610902", "610921"
CITY, PROVINCE = "6109", "61"


@pytest.fixture()
def city(_migrated: Flask, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Three counties of 安康市, made by the command line as an operator would: two towns of two villages each."""
    monkeypatch.setitem(_migrated.config, "IMPORTS_FOLDER", str(tmp_path / "imports"))
    monkeypatch.setitem(_migrated.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    _clear(_migrated)
    result = _migrated.test_cli_runner().invoke(args=[
        "load-demo", "--counties", "3", "--empty", "--towns", "2", "--villages-per-town", "2",
        "--households-per-village", "4"])
    assert result.exit_code == 0, result.output
    yield _migrated
    with _migrated.app_context():
        db.session.remove()


def login(app: Flask, username: str) -> Browser:
    return Browser(app, username)


def test_the_area_tree_runs_from_the_province_to_the_villages(city):
    with city.app_context():
        levels = dict(db.session.execute(select(Area.level, func.count()).group_by(Area.level)).all())
        assert levels == {"province": 1, "city": 1, "county": 3, "town": 6, "village": 12}
        for code, parent in ((PROVINCE, None), (CITY, PROVINCE), (SHIQUAN, CITY), (HANBIN, CITY),
                             (f"{HANBIN}100", HANBIN), (f"{HANBIN}100001", f"{HANBIN}100")):
            area = db.session.get(Area, code)
            assert area is not None and area.parent_code == parent, code
        # Each county its own office, supervisors, departments and village teams.
        for county in (SHIQUAN, HANBIN, HANYIN):
            roles = set(db.session.scalars(select(User.role).where(User.area_code == county)))
            assert {"county_office", "supervisor", "department"} <= roles, county
        # People are registered where they were born: the ID number starts with their county's code.
        for county in (SHIQUAN, HANBIN):
            numbers = db.session.scalars(select(Household.head_id_number).where(
                Household.village_code.startswith(county))).all()
            assert len(numbers) == 16 and all(n.startswith(county) for n in numbers)


def test_nobody_in_one_county_sees_another_countys_households_tasks_or_files(city):
    case_id = open_case(city)  # 石泉县 城关镇, now waiting for the town's certification group
    with city.app_context():
        household_id = db.session.get(Case, case_id).household_id
    for username in ("hanbin_county_office", "hanbin_supervisor", "hanbin_t01_certifier", "hanbin_t0101_team",
                     "hanbin_department_yibao"):
        other = login(city, username)
        for url in (f"/cases/{case_id}", f"/cases/{case_id}/diagram", f"/households/{household_id}",
                    f"/cases/{case_id}/attachments"):
            assert other.get(url).status_code in (403, 404), (username, url)
        assert f"/cases/{case_id}" not in other.get("/cases/").get_data(as_text=True), username
        assert f"/cases/{case_id}" not in other.get("/").get_data(as_text=True), username
    # The county office of 汉滨区 reads its own roster and annexes only; 石泉县's towns are not theirs to ask for.
    hanbin = login(city, "hanbin_county_office")
    assert hanbin.get(f"/reports/roster?area={SHIQUAN}100").status_code == 403
    assert hanbin.get(f"/supervision/scoreboard?area={SHIQUAN}").status_code == 403
    roster = hanbin.get("/reports/roster")
    assert roster.status_code == 200 and "汉滨区" in roster.get_data(as_text=True)
    # 石泉县's own office sees the case as before.
    shiquan = login(city, "county_office")
    assert shiquan.get(f"/cases/{case_id}").status_code == 200
    assert f"/cases/{case_id}" in shiquan.get("/cases/").get_data(as_text=True)


def test_the_city_supervisor_sees_the_counties_side_by_side_and_drills_down_to_a_case(city):
    case_id = open_case(city)
    supervisor = login(city, "city_supervisor")
    page = supervisor.get("/supervision/scoreboard").get_data(as_text=True)
    for code, name in ((SHIQUAN, "石泉县"), (HANBIN, "汉滨区"), (HANYIN, "汉阴县")):
        assert f'data-unit="{code}"' in page and name in page
        assert f"area={code}" in page  # each county a link one level down
    shiquan_row = page.split(f'data-unit="{SHIQUAN}"')[1].split("</tr>")[0]
    assert 'class="open-cases">1<' in shiquan_row
    hanbin_row = page.split(f'data-unit="{HANBIN}"')[1].split("</tr>")[0]
    assert 'class="open-cases">0<' in hanbin_row
    county_page = supervisor.get(f"/supervision/scoreboard?area={SHIQUAN}").get_data(as_text=True)
    assert f'data-unit="{SHIQUAN}100"' in county_page and f"area={SHIQUAN}100" in county_page
    town_page = supervisor.get(f"/supervision/scoreboard?area={SHIQUAN}100").get_data(as_text=True)
    assert f'data-unit="{SHIQUAN}100001"' in town_page
    assert supervisor.get(f"/cases/{case_id}").status_code == 200
    assert f"/cases/{case_id}" in supervisor.get(f"/cases/?town={SHIQUAN}100").get_data(as_text=True)
    # The province's supervisor sees the city as one row, and the city's counties a click further.
    province = login(city, "province_supervisor").get("/supervision/scoreboard").get_data(as_text=True)
    assert f'data-unit="{CITY}"' in province and "安康市" in province


def test_the_annual_review_and_the_annexes_are_each_countys(city):
    supervisor = login(city, "city_supervisor")
    choose = supervisor.get("/supervision/annual-review")
    assert choose.status_code == 200
    html = choose.get_data(as_text=True)
    assert "按县编制" in html and f"area={SHIQUAN}" in html and f"area={HANBIN}" in html
    refused = supervisor.get("/supervision/annual-review.xlsx")
    assert refused.status_code == 422 and "请先选择一个县" in refused.get_data(as_text=True)
    export = supervisor.get(f"/supervision/annual-review.xlsx?area={HANBIN}")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.get_data()), read_only=True).worksheets[0]
    title = next(sheet.iter_rows(values_only=True))[0]
    export.close()
    assert "汉滨区" in str(title) and "石泉县" not in str(title)
    # A county's roster (附件1) carries its own name; the city's supervisor picks the county.
    roster = supervisor.get(f"/reports/roster.xlsx?area={HANYIN}")
    assert roster.status_code == 200
    sheet = load_workbook(io.BytesIO(roster.get_data()), read_only=True).worksheets[0]
    heading = " ".join(str(v) for row in sheet.iter_rows(max_row=4, values_only=True) for v in row if v)
    assert "汉阴县" in heading and "石泉县" not in heading
    roster.close()
    whole_city = supervisor.get(f"/reports/roster.xlsx?area={CITY}")
    assert whole_city.status_code == 422 and "报表按县编制" in whole_city.get_data(as_text=True)


def test_each_county_keeps_its_own_settings(city):
    hanbin = login(city, "hanbin_county_office")
    saved = hanbin.post("/settings/rules/lead_verification_working_days",
                        {"value": "5", "effective_from": today().isoformat(),
                         "source_document": "汉滨区乡振办〔2026〕1号", "note": ""}, page="/settings")
    assert saved.status_code == 303
    assert "5 个工作日" in hanbin.get("/settings").get_data(as_text=True)
    shiquan_page = login(city, "county_office").get("/settings").get_data(as_text=True)
    assert "汉滨区乡振办" not in shiquan_page
    with city.app_context():
        from app.settings import setting_value

        assert setting_value("lead_verification_working_days", area_code=f"{HANBIN}100001") == 5
        assert setting_value("lead_verification_working_days", area_code=f"{SHIQUAN}100001") == 3
        assert db.session.scalar(select(CountySetting.county_code)) == HANBIN
    # The city's supervisor reads each county's settings, and changes none.
    supervisor = login(city, "city_supervisor")
    assert "汉滨区乡振办" in supervisor.get(f"/settings?county={HANBIN}").get_data(as_text=True)
    assert "汉滨区乡振办" not in supervisor.get(f"/settings?county={SHIQUAN}").get_data(as_text=True)
    refused = supervisor.post("/settings/rules/lead_verification_working_days",
                              {"value": "4", "effective_from": today().isoformat(), "source_document": "x"},
                              page="/settings")
    assert refused.status_code == 403
    # A county office sets the monitoring line for its own county or towns only.
    line = hanbin.post("/settings/monitoring-lines", {"year": str(today().year), "region_code": SHIQUAN,
                                                      "amount": "8700", "source_document": "文件"}, page="/settings")
    assert line.status_code == 422 and "本县" in line.get_data(as_text=True)


def test_a_county_office_starts_the_months_screening_of_its_own_villages(city):
    month = today().strftime("%Y-%m")
    hanbin = login(city, "hanbin_county_office")
    started = hanbin.post("/screenings/start", {"month": month}, page="/screenings/")
    assert started.status_code in (302, 303), started.get_data(as_text=True)[:500]
    with city.app_context():
        villages = db.session.scalars(select(Screening.village_code).where(Screening.month == month)).all()
        assert len(villages) == 4 and all(v.startswith(HANBIN) for v in villages)


def test_a_county_imports_its_own_registry_only(city, tmp_path):
    """汉滨区's office cannot import (or move) 石泉县's households: the villages are not theirs, and a household
    of another county is neither changed nor described."""
    from app.households.operations import import_households, registry_county
    from tests.excel.conftest import workbook_bytes

    with city.app_context():
        shiquan_household = db.session.scalars(select(Household).where(Household.village_code.startswith(SHIQUAN))
                                               .order_by(Household.id)).first()
        rows = [["村代码", "户编号", "姓名", "证件号码", "与户主关系", "脱贫年度"]]
        rows += [[f"{HANBIN}100001", shiquan_household.household_no, m.name, m.id_number, m.relation, "2016"]
                 for m in shiquan_household.members]
        path = tmp_path / "registry.xlsx"
        path.write_bytes(workbook_bytes(rows, text_columns=(1, 2, 4)))
        before = db.session.scalar(select(func.count()).select_from(Household))
        outcome = import_households(path, county=registry_county(HANBIN))
        assert not outcome.stored
        messages = " ".join(e.message for e in outcome.errors)
        assert "其他县" in messages and shiquan_household.head_name not in messages
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Household)) == before
        assert db.session.get(Household, shiquan_household.id).village_code.startswith(SHIQUAN)


def test_a_department_list_is_matched_to_its_own_countys_households(city):
    """汉滨区's medical-insurance bureau lists 石泉县 people: they are not its county's, so no lead is raised."""
    from app.models import DepartmentRecord, RiskLead
    from tests.departments.conftest import YIBAO_HEADER, upload, xlsx

    with city.app_context():
        people = db.session.execute(select(Household.head_name, Household.head_id_number).where(
            Household.village_code.startswith(SHIQUAN)).order_by(Household.id).limit(3)).all()
    rows = [YIBAO_HEADER] + [[name, number, 90000, 10000, 80000, today().isoformat()] for name, number in people]
    upload(login(city, "hanbin_department_yibao"), xlsx(rows, text_columns=(2,)), "医保.xlsx", expect=303)
    with city.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskLead)) == 0
        assert db.session.scalar(select(func.count()).select_from(DepartmentRecord)) == 0
    # 石泉县's bureau does not see 汉滨区's list.
    page = login(city, "department_yibao").get("/departments/").get_data(as_text=True)
    assert "医保.xlsx" not in page


def test_the_audit_log_of_a_county_is_what_its_users_did(city):
    login(city, "hanbin_county_office")  # a log-in is an audit event of 汉滨区
    login(city, "county_office")
    shiquan = login(city, "supervisor").get("/audit").get_data(as_text=True)
    assert "hanbin_county_office" not in shiquan
    hanbin = login(city, "hanbin_supervisor").get("/audit").get_data(as_text=True)
    assert "hanbin_county_office" in hanbin
    city_wide = login(city, "city_supervisor").get("/audit").get_data(as_text=True)
    assert "hanbin_county_office" in city_wide and "county_office" in city_wide


def test_a_user_above_the_county_cannot_import_a_registry(city):
    with city.app_context():
        from app.access import can_import_households

        for username, allowed in (("county_office", True), ("hanbin_county_office", True),
                                  ("city_supervisor", False), ("province_supervisor", False)):
            person = db.session.scalar(select(User).where(User.username == username))
            assert can_import_households(person) is allowed, username
    assert login(city, "city_supervisor").get("/households/import").status_code == 403
    assert DEMO_PASSWORD


def test_each_county_sets_its_own_warning_rules_and_its_departments_their_own_columns(city):
    hanbin = login(city, "hanbin_county_office")
    form = {"label": "年度个人自付医疗费用较高", "threshold": "5000", "risk_type": "major_illness",
            "national_risk_type": "illness", "active": "1", "effective_from": today().isoformat(),
            "source_document": "汉滨区防返贫工作领导小组会议纪要〔2026〕2号"}
    assert hanbin.post("/departments/rules/yibao_out_of_pocket_year", form,
                       page="/departments/rules").status_code == 303
    with city.app_context():
        from app.departments.rules import rules_in_force

        def threshold(county: str) -> str:
            return next(r.threshold for r in rules_in_force(county, "yibao") if r.key == "yibao_out_of_pocket_year")

        assert threshold(HANBIN) == "5000" and threshold(SHIQUAN) == "10000"
    assert "汉滨区防返贫" not in login(city, "county_office").get("/departments/rules").get_data(as_text=True)
    supervisor = login(city, "city_supervisor")
    assert "汉滨区防返贫" in supervisor.get(f"/departments/rules?county={HANBIN}").get_data(as_text=True)
    # 汉滨区's medical-insurance bureau names its columns; 石泉县's keeps the usual ones.
    bureau = login(city, "hanbin_department_yibao")
    saved = bureau.post("/departments/mapping", {"name": "患者", "id_number": "证件", "out_of_pocket": "自付部分"},
                        page="/departments/mapping")
    assert saved.status_code == 303
    assert 'value="自付部分"' in bureau.get("/departments/mapping").get_data(as_text=True)
    assert 'value="自付部分"' not in login(city, "department_yibao").get("/departments/mapping").get_data(as_text=True)


def test_the_screening_overview_of_a_city_is_each_countys_totals_then_one_countys_towns(city):
    month = today().strftime("%Y-%m")
    for office in ("county_office", "hanbin_county_office"):
        login(city, office).post("/screenings/start", {"month": month}, page="/screenings/")
    supervisor = login(city, "city_supervisor")
    page = supervisor.get(f"/screenings/?month={month}").get_data(as_text=True)
    assert "<th>县（区）</th>" in page and "石泉县</a>" in page and "汉滨区</a>" in page
    assert '<tr class="total"><th>合计</th><td data-label="村数">8</td>' in page  # two counties' started villages
    county = supervisor.get(f"/screenings/?month={month}&area={SHIQUAN}").get_data(as_text=True)
    assert county.count('<tr class="group">') == 2 and "汉滨区" not in county
    assert login(city, "hanbin_county_office").get(f"/screenings/?month={month}&area={SHIQUAN}").status_code == 403



def _heat_row(page: str, step_name: str) -> tuple[str, str]:
    """(waiting now, finished in the period) of one task's row of the heatmap's table."""
    row = page.split(f">{step_name}</a>")[1].split("</tr>")[0]
    waiting = row.split('data-label="等待">')[1].split("<")[0]
    finished = row.split('data-label="办结">')[1].split("<")[0]
    return waiting, finished


def test_a_countys_heatmap_and_approvals_are_its_own_cases_steps(city):
    """The heatmap and the scoreboard read a county's rows by the area each row carries (a visited element its
    case's town, a case the time of its first county approval): another county's supervisor sees none of them,
    the city's sees them under 石泉县."""
    from tests.helpers import approve_case

    case_id = open_case(city)
    with city.app_context():
        approve_case(case_id)
        db.session.commit()
    own = login(city, "supervisor").get("/supervision/heatmap").get_data(as_text=True)
    assert _heat_row(own, "镇认定工作组认定") == ("0", "1")
    other = login(city, "hanbin_supervisor").get("/supervision/heatmap").get_data(as_text=True)
    assert "镇认定工作组认定" not in other or _heat_row(other, "镇认定工作组认定") == ("0", "0")
    above = login(city, "city_supervisor").get("/supervision/heatmap").get_data(as_text=True)
    assert _heat_row(above, "镇认定工作组认定") == ("0", "1")

    def approvals(username: str, area: str, unit: str) -> str:
        page = login(city, username).get(f"/supervision/scoreboard?area={area}").get_data(as_text=True)
        row = page.split(f'data-unit="{unit}"')[1].split("</tr>")[0]
        return row.split('class="approvals">')[1].split("<")[0]

    assert approvals("supervisor", SHIQUAN, f"{SHIQUAN}100") == "1"
    assert approvals("hanbin_supervisor", HANBIN, f"{HANBIN}100") == "0"
    assert approvals("city_supervisor", CITY, SHIQUAN) == "1"
    assert approvals("city_supervisor", CITY, HANBIN) == "0"


def _registered(page: str, unit: str) -> int:
    """排查户数 of a scoreboard row: "checked/registered（…）"."""
    row = page.split(f'data-unit="{unit}"')[1].split("</tr>")[0]
    cell = re.search(r'class="households">\s*(\d+)/(\d+)', row)
    assert cell, row
    return int(cell.group(2))


def test_the_overviews_count_each_countys_registered_households_as_the_registry_changes(city, tmp_path):
    """The city's and the province's overviews add up each village's count of registered households (kept by the
    registry's writers) instead of counting millions of household rows: an import adding households and moving one
    to another town, and a household added through the ORM, are counted at once, at every level."""
    from app.households.idnumber import check_character
    from tests.excel.conftest import import_households, workbook_bytes

    supervisor = login(city, "city_supervisor")
    page = supervisor.get("/supervision/scoreboard").get_data(as_text=True)
    assert [_registered(page, c) for c in (SHIQUAN, HANBIN, HANYIN)] == [16, 16, 16]
    with city.app_context():
        moved = db.session.scalars(select(Household).where(Household.village_code == f"{HANBIN}100001")
                                   .order_by(Household.id)).first()
        moved_rows = [[f"{HANBIN}101001", moved.household_no, m.name, m.id_number, m.relation, "2016"]
                      for m in moved.members]
    new_rows = []
    for index in range(2):
        first17 = f"{HANBIN}19800101{index:02d}1"
        new_rows.append([f"{HANBIN}100002", "", f"新户{index}", first17 + check_character(first17), "户主",
                         "非贫困户"])
    header = ["村代码", "户编号", "姓名", "证件号码", "与户主关系", "脱贫年度"]
    content = workbook_bytes([header, *moved_rows, *new_rows], text_columns=(1, 2, 4))
    done = import_households(login(city, "hanbin_county_office"), content, "汉滨区农户.xlsx")
    assert "新增 2 户，更新 1 户" in done.get_data(as_text=True)

    page = supervisor.get("/supervision/scoreboard").get_data(as_text=True)
    assert [_registered(page, c) for c in (SHIQUAN, HANBIN, HANYIN)] == [16, 18, 16]
    county = supervisor.get(f"/supervision/scoreboard?area={HANBIN}").get_data(as_text=True)
    assert (_registered(county, f"{HANBIN}100"), _registered(county, f"{HANBIN}101")) == (9, 9)  # 8 − 1 + 2, 8 + 1
    town = supervisor.get(f"/supervision/scoreboard?area={HANBIN}100").get_data(as_text=True)
    assert (_registered(town, f"{HANBIN}100001"), _registered(town, f"{HANBIN}100002")) == (3, 6)

    with city.app_context():
        first17 = f"{HANYIN}19750505001"
        db.session.add(Household(household_no=f"{HANYIN}1000019999", village_code=f"{HANYIN}100001",
                                 town_code=f"{HANYIN}100", head_name="补录户", head_id_number=first17
                                 + check_character(first17), size=1, kind="non_poor"))
        db.session.commit()
    province = login(city, "province_supervisor").get(f"/supervision/scoreboard?area={CITY}").get_data(as_text=True)
    assert [_registered(province, c) for c in (SHIQUAN, HANBIN, HANYIN)] == [16, 18, 17]
    assert _registered(login(city, "province_supervisor").get("/supervision/scoreboard").get_data(as_text=True),
                       CITY) == 51


def _open_cases(page: str, unit: str) -> str:
    return page.split(f'data-unit="{unit}"')[1].split("</tr>")[0].split('class="open-cases">')[1].split("<")[0]


def test_the_city_and_province_overviews_are_snapshots_the_timer_workers_refresh(city):
    """Above the county the scoreboard of the month and the heatmap of the last 90 days are what the timer workers
    last computed (saying when); a county's pages, another month, another period or a filter are live; a snapshot
    is refreshed once the interval has passed, by one worker, and one not refreshed for two intervals is not used."""
    from datetime import timedelta

    from app.clock import travel_to, utcnow

    runner = city.test_cli_runner()
    start = utcnow().replace(microsecond=0)
    with travel_to(start):
        first = runner.invoke(args=["timers", "run", "--once"])
        assert re.search(r"refreshed [1-9]\d* overview snapshot", first.output), first.output
        assert "refreshed 0 overview snapshot" in runner.invoke(args=["timers", "run", "--once"]).output
    with travel_to(start + timedelta(minutes=1)):
        case_id = open_case(city)
        supervisor = login(city, "city_supervisor")
        overview = supervisor.get("/supervision/scoreboard").get_data(as_text=True)
        assert "统计于" in overview and "每 10 分钟更新" in overview
        assert _open_cases(overview, SHIQUAN) == "0"  # as computed before the case was opened
        county = supervisor.get(f"/supervision/scoreboard?area={SHIQUAN}").get_data(as_text=True)
        assert "统计于" not in county and _open_cases(county, f"{SHIQUAN}100") == "1"  # a county's page is live
        last_month = (start - timedelta(days=35)).strftime("%Y-%m")
        assert "统计于" not in supervisor.get(f"/supervision/scoreboard?month={last_month}").get_data(as_text=True)
        heat = supervisor.get("/supervision/heatmap").get_data(as_text=True)
        assert "统计于" in heat and "镇认定工作组认定</a>" not in heat
        filtered = supervisor.get("/supervision/heatmap?category=unstable_income").get_data(as_text=True)
        assert "统计于" not in filtered
    with travel_to(start + timedelta(minutes=11)):
        again = runner.invoke(args=["timers", "run", "--once"])
        assert re.search(r"refreshed [1-9]\d* overview snapshot", again.output), again.output
        overview = supervisor.get("/supervision/scoreboard").get_data(as_text=True)
        assert "统计于" in overview and _open_cases(overview, SHIQUAN) == "1"
        assert _heat_row(supervisor.get("/supervision/heatmap").get_data(as_text=True), "镇认定工作组认定")[0] == "1"
        province = login(city, "province_supervisor").get("/supervision/scoreboard").get_data(as_text=True)
        assert "统计于" in province and _open_cases(province, CITY) == "1"
    with travel_to(start + timedelta(minutes=40)), city.app_context():
        from tests.helpers import approve_case

        approve_case(case_id)
        db.session.commit()
    with travel_to(start + timedelta(minutes=40)):  # no refresh for two intervals: computed live
        heat = supervisor.get("/supervision/heatmap").get_data(as_text=True)
        assert "统计于" not in heat and _heat_row(heat, "镇认定工作组认定") == ("0", "1")
        # An operator refreshes them at once (after a deployment or an import); the timer workers then wait.
        forced = runner.invoke(args=["overviews", "refresh"])
        assert re.search(r"refreshed [1-9]\d* overview snapshot\(s\) in [\d.]+ s", forced.output), forced.output
        assert "refreshed 0 overview snapshot" in runner.invoke(args=["timers", "run", "--once"]).output
        heat = supervisor.get("/supervision/heatmap").get_data(as_text=True)
        assert "统计于" in heat and _heat_row(heat, "镇认定工作组认定") == ("0", "1")
