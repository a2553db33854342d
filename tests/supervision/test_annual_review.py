"""The annual review marks exactly the towns with 返贫户/新致贫户 (不得评优), lists the units and people whose work
is overdue or undone, and exports those lists to Excel for referral, each user for their own area only."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from urllib.parse import unquote

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook  # noqa: TID251 (a type for reading)

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Case
from tests.helpers import approve_case, check_households, complete, open_case, plan_measures, user

CHENGGUAN, RAOFENG = "610922100", "610922101"
MARCH = date(2026, 3, 2)
SHEETS = ["各镇考核", "行业部门", "逾期未办任务", "逐户排查", "未按时完成排查", "逾期未完成措施"]


def town_row(page: str, unit: str) -> list[str]:
    match = re.search(rf'<tr data-unit="{unit}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {unit}"
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def section(page: str, css_class: str) -> str:
    match = re.search(rf'<table class="list {css_class}">(.*?)</table>', page, re.S)
    assert match, css_class
    return html.unescape(match.group(1))


def review(browser, year: int = 2026, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"year": year, **args}.items())
    response = browser.get(f"/supervision/annual-review?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def export(browser, year: int = 2026, **args: str) -> tuple[Workbook, str]:
    query = "&".join(f"{k}={v}" for k, v in {"year": year, **args}.items())
    response = browser.get(f"/supervision/annual-review.xlsx?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    return load_workbook(io.BytesIO(response.data)), name


def data_rows(book: Workbook, sheet: str) -> list[list[object]]:
    return [list(r) for r in book[sheet].iter_rows(min_row=4, values_only=True)]


def certify_two_towns(app) -> dict[str, int]:
    """March 2026: 城关镇 certifies a household as returned to poverty, 饶峰镇 one as at risk only."""
    with travel_to(china_moment(MARCH)):
        cases = {CHENGGUAN: open_case(app, "610922100001"), RAOFENG: open_case(app, "610922101001")}
        with app.app_context():
            approve_case(cases[CHENGGUAN], risk_level="returned")
            approve_case(cases[RAOFENG], risk_level="at_risk")
    return cases


def household_kind(app, case_id: int) -> str:
    with app.app_context():
        return db.session.get(Case, case_id).household.kind


def test_exactly_the_towns_with_returned_households_may_not_be_rated_excellent(app, login_as):
    cases = certify_two_towns(app)
    with travel_to(china_moment(date(2026, 3, 3))):
        page = review(login_as("supervisor"))
    chengguan, raofeng = town_row(page, CHENGGUAN), town_row(page, RAOFENG)
    # 返贫户 for a lifted household, 新致贫户 for a non-poor one.
    returned_column = 1 if household_kind(app, cases[CHENGGUAN]) == "lifted" else 2
    assert chengguan[returned_column] == "1" and chengguan[3 - returned_column] == "0"
    assert chengguan[3] == "0" and chengguan[4] == "不得评优"
    assert raofeng[1:4] == ["0", "0", "1"] and raofeng[4] == "—"
    assert re.search(r"不得评优：城关镇</p>", page)

    # Certification counts in the year of the county's approval: 2025 has none.
    with travel_to(china_moment(date(2026, 3, 3))):
        earlier = review(login_as("supervisor"), year=2025)
    assert "不得评优" not in re.sub(r"<p class=\"muted\">.*?</p>", "", earlier, flags=re.S)
    assert town_row(earlier, CHENGGUAN)[1:4] == ["0", "0", "0"]


def test_returned_or_new_poverty_is_the_households_kind_when_its_case_opened(app, login_as):
    """A lifted household certified as returned is 返贫, a non-poor one 新致贫, by its kind when the case was opened
    (kept on the case): a registry import that later changes the household's kind does not move it."""
    cases = certify_two_towns(app)
    with app.app_context():
        household = db.session.get(Case, cases[CHENGGUAN]).household
        kind_at_opening = household.kind
        household.kind, household.lifted_year = (("non_poor", None) if kind_at_opening == "lifted"
                                                 else ("lifted", 2019))
        db.session.commit()
    with travel_to(china_moment(date(2026, 3, 3))):
        chengguan = town_row(review(login_as("supervisor")), CHENGGUAN)
    assert chengguan[1:3] == (["1", "0"] if kind_at_opening == "lifted" else ["0", "1"])


def test_a_returned_household_certified_but_not_yet_approved_by_the_county_does_not_count(app, login_as):
    with travel_to(china_moment(MARCH)):
        case_id = open_case(app)
        with app.app_context():
            complete("chengguan_certifier", "Task_TownCertify", {"decision": "certify", "risk_level": "returned",
                                                                 "opinion": "符合"}, case_id)
        page = review(login_as("county_office"))
    assert town_row(page, CHENGGUAN)[1:5] == ["0", "0", "0", "—"]


def lagging_work(app) -> int:
    """A case in 城关镇 with a measure past its deadline, and March's screening left undone in three villages."""
    with travel_to(china_moment(MARCH)):
        case_id = open_case(app)
    with app.app_context(), travel_to(china_moment(date(2026, 3, 5))):
        approve_case(case_id, risk_level="returned")
        plan_measures(case_id, [
            {"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
             "deadline": "2026-03-20"},
            {"content": "安排公益性岗位", "measure_type": "public_welfare_job", "responsible_unit": "镇人社站",
             "deadline": "2026-06-30"},
        ])
    return case_id


def test_accountability_lists_name_the_units_and_people(app, login_as):
    case_id = lagging_work(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        cadre, head = case.cadre.full_name, case.household.head_name
        raofeng_team = user("raofeng01_team").full_name
    with travel_to(china_moment(date(2026, 4, 2))):
        page = review(login_as("supervisor"))

    measures = section(page, "overdue-measures")
    assert head in measures and "协助办理慢病卡" in measures and "县医保局" in measures
    assert cadre in measures and "13 天" in measures  # 20 March to 2 April
    assert "安排公益性岗位" not in measures  # not due yet

    screenings = section(page, "late-screenings")
    assert screenings.count("2026-03") == 3  # every village but the one that screened and reported
    assert "月底未完成（排查中）" in screenings and raofeng_team in screenings

    tasks = section(page, "overdue-tasks")
    assert "驻村工作队" in tasks and "排查" in tasks and raofeng_team in tasks

    assert department(page, "县医保局") == ["0", "0", "1", "1"]  # overdue and undone; 1 returned household

    # Once carried out, even late, the measure leaves the list and counts as done late.
    with app.app_context(), travel_to(china_moment(date(2026, 4, 3))):
        first, second = db.session.get(Case, case_id).measures
        complete("chengguan01_cadre1", "Task_CarryOutMeasures", {
            "results-0-measure_id": first.id, "results-0-completed_on": "2026-04-03", "results-0-result": "已办理",
            "results-1-measure_id": second.id, "results-1-completed_on": "2026-04-03", "results-1-result": "已上岗",
        }, case_id)
    with travel_to(china_moment(date(2026, 4, 3))):
        page = review(login_as("supervisor"))
    assert head not in section(page, "overdue-measures")
    assert department(page, "县医保局") == ["0", "1", "0", "1"]
    assert department(page, "镇人社站") == ["1", "0", "0", "1"]


def department(page: str, unit: str) -> list[str]:
    """按时完成, 逾期完成, 逾期未完成, 涉及返贫户 of one responsible unit."""
    match = re.search(rf"<tr><td[^>]*>{unit}</td>(.*?)</tr>", section(page, "departments"), re.S)
    assert match, unit
    return re.findall(r">(\d+)<", match.group(1))


def test_the_export_holds_every_list_print_ready(app, login_as):
    case_id = lagging_work(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        id_number, cadre = case.household.head_id_number, case.cadre.full_name
    with travel_to(china_moment(date(2026, 4, 2))):
        book, name = export(login_as("supervisor"))
    assert name == "石泉县2026年度返贫监测帮扶考核及追责清单_石泉县.xlsx"
    assert book.sheetnames == SHEETS

    towns = data_rows(book, "各镇考核")
    assert [r[1] for r in towns] == ["城关镇", "饶峰镇"]
    assert towns[0][5] == "不得评优" and towns[1][5] in (None, "")

    [measure] = data_rows(book, "逾期未完成措施")
    assert measure[0] == 1 and measure[1] == "城关镇" and measure[5] == "协助办理慢病卡"
    assert measure[4] == id_number and measure[7] == datetime(2026, 3, 20) and measure[8] == 13
    assert measure[9] == cadre

    assert len(data_rows(book, "未按时完成排查")) == 3
    assert any(r[1] == "县医保局" and r[4] == 1 for r in data_rows(book, "行业部门"))

    sheet = book["逾期未完成措施"]
    assert sheet["A1"].value == "石泉县2026年度逾期未完成帮扶措施清单"
    assert [c.value for c in sheet[3]][:5] == ["序号", "镇", "村", "户主姓名", "户主证件号码"]
    assert sheet["A3"].font.bold and sheet["E4"].border.left.style == "thin"
    assert sheet["E4"].data_type == "s" and sheet["E4"].number_format == "@"
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in (9, "9")
        assert ws.print_title_rows == "$3:$3" and ws["A3"].font.bold


def test_a_town_user_reviews_and_exports_their_own_town_only(app, login_as):
    lagging_work(app)  # 城关镇: a returned household, an overdue measure, unscreened villages, overdue tasks
    with travel_to(china_moment(MARCH)):
        raofeng_case = open_case(app, "610922101001")
        with app.app_context():
            approve_case(raofeng_case, risk_level="at_risk")
    with travel_to(china_moment(date(2026, 4, 2))):
        certifier = login_as("raofeng_certifier")
        page = review(certifier)
        book, name = export(certifier)
        refused = [certifier.get(f"/supervision/annual-review?year=2026&town={CHENGGUAN}"),
                   certifier.get(f"/supervision/annual-review.xlsx?year=2026&town={CHENGGUAN}")]
    assert "城关镇" not in page and "不得评优" not in re.sub(r"<p class=\"muted\">.*?</p>", "", page, flags=re.S)
    assert town_row(page, RAOFENG)[1:4] == ["0", "0", "1"]
    assert name.endswith("_饶峰镇.xlsx")
    assert [r[1] for r in data_rows(book, "各镇考核")] == ["饶峰镇"]
    for sheet in SHEETS:
        for r in data_rows(book, sheet):
            assert not any("城关镇" in str(v) or CHENGGUAN in str(v) for v in r), (sheet, r)
    assert data_rows(book, "行业部门") == [] and data_rows(book, "逾期未完成措施") == []
    assert data_rows(book, "逾期未办任务") and all(r[1].startswith("饶峰镇") for r in data_rows(book, "逾期未办任务"))
    assert "县医保局" not in page and CHENGGUAN not in page
    assert {r[2] for r in data_rows(book, "未按时完成排查")} == {"饶峰镇"}
    for response in refused:
        assert response.status_code == 403 and "只能查看本辖区" in response.get_data(as_text=True)


def test_a_county_user_can_narrow_the_review_to_one_town(app, login_as):
    certify_two_towns(app)
    with travel_to(china_moment(date(2026, 3, 3))):
        page = review(login_as("county_office"), town=CHENGGUAN)
    assert re.findall(r'<tr data-unit="(\d+)">', page) == [CHENGGUAN]
    assert "不得评优：城关镇" in page


def test_a_bad_year_is_refused_in_chinese(app, login_as):
    response = login_as("supervisor").get("/supervision/annual-review?year=20x6")
    assert response.status_code == 422 and "年度" in response.get_data(as_text=True)


def test_the_years_household_checks_are_counted_from_the_records(app, login_as):
    """逐户逐人 over the year: households due in each screened month, checked within the month, not checked with a
    reason, and those with no record at all, per town, from the check records."""
    from sqlalchemy import select

    from app.models import Screening
    from app.screenings.operations import start_monthly_screening

    with travel_to(china_moment(MARCH)), app.app_context():
        start_monthly_screening("2026-03", user("county_office"))
        db.session.commit()
        screening_id = db.session.scalar(select(Screening.id).where(Screening.village_code == "610922100001"))
        check_households(screening_id, "chengguan01_team", checked=5)  # the sixth: 长期不在家
    with travel_to(china_moment(date(2026, 4, 2))):
        county = login_as("county_office")
        page = review(county)
        book, _name = export(county)

    def coverage(unit: str) -> list[str]:
        match = re.search(rf'<tr data-check-unit="{unit}">(.*?)</tr>', page, re.S)
        assert match, unit
        return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]

    assert coverage(CHENGGUAN) == ["城关镇", "12", "5", "1", "6", "41.7%"]  # its second village: no record
    assert coverage(RAOFENG) == ["饶峰镇", "12", "0", "0", "12", "0.0%"]
    rows = {r[1]: r[2:] for r in data_rows(book, "逐户排查")}
    assert rows["城关镇"] == [12, 5, 1, 6, "41.7%"] and rows["饶峰镇"] == [12, 0, 0, 12, "0.0%"]
