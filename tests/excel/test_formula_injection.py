"""Text a user typed comes out of every Excel file as the text it is, never as a live formula (CWE-1236).

A village team registers risk households over the API with reasons like `=HYPERLINK("http://evil.example/",
"点我")`; the registry, areas and accounts carry names like `+1+1`. Every export the app writes shows those fields:
each such cell must be a text cell (openpyxl data type `s`), show exactly the stored text, and carry quotePrefix
so that it stays text when someone edits it; no cell of any export may be a formula.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook  # noqa: TID251 (a third party's workbook, as users bring them)
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Area, Case, Household, ReadyTask, RiskRegistration, Screening, User
from app.workflow.runtime import complete_user_task
from tests.conftest import today
from tests.excel.conftest import import_households, upload
from tests.excel.test_annex_exports import _libreoffice
from tests.helpers import check_households, complete, plan_measures

HYPERLINK = '=HYPERLINK("http://evil.example/","点我")'
DDE = "=cmd|' /C calc'!A0"
PAYLOADS = (HYPERLINK, "+1+1", "-1+1", "@SUM(A1)", "\t=1+1")
VILLAGE, TOWN = "610922100001", "610922100"
MARCH = date(2026, 3, 2)
LATER = date(2026, 4, 20)  # the measure due 2026-03-20 and the town's certification are overdue by then


def cells_of(content: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_typed_text_stays_text(content: bytes, expected: Iterable[str]) -> None:
    """No cell is a formula; every text a spreadsheet could take for one is a quote-prefixed text cell; and each
    of `expected` is shown, exactly, by some cell."""
    shown: set[str] = set()
    for cell in cells_of(content):
        assert cell.data_type != "f", f"{cell.parent.title}!{cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert cell.data_type == "s" and cell.quotePrefix, f"{cell.coordinate}: {cell.value!r}"
            shown.add(cell.value)
    missing = set(expected) - shown
    assert not missing, f"not shown as text: {missing}; shown: {shown}"


@pytest.fixture()
def hostile_county(app, api) -> dict[str, Any]:
    """March 2026 in 城关镇, every name and reason typed by an attacker: five households registered over the API
    with hostile reasons, two of them cases (one with a measure plan and cadre, one waiting at the town), and
    the other villages' screenings left undone."""
    with app.app_context():
        households = db.session.scalars(select(Household).where(Household.village_code == VILLAGE)
                                        .order_by(Household.id)).all()[:5]
        for household, name in zip(households, PAYLOADS, strict=True):
            household.head_name = name
        db.session.execute(update(Area).where(Area.code == VILLAGE).values(name=DDE))
        db.session.execute(update(Area).where(Area.code == TOWN).values(name="-镇"))
        for username, name in (("chengguan01_cadre1", "@SUM(A1)"), ("chengguan01_team", "-1+1"),
                               ("chengguan_certifier", "+1+1"), ("chengguan02_team", "\t=1+1")):
            db.session.execute(update(User).where(User.username == username).values(full_name=name))
        db.session.execute(update(User).where(User.username == "chengguan01_cadre1").values(unit=HYPERLINK))
        db.session.commit()
        household_ids = [h.id for h in households]
    with travel_to(china_moment(MARCH)):
        assert api("county_office").post("/api/v1/screenings", json={"month": "2026-03"}).status_code == 201
        team = api("chengguan01_team")
        with app.app_context():
            screening_id = db.session.scalar(select(Screening.id).where(Screening.village_code == VILLAGE))
        for household_id, reason in zip(household_ids, PAYLOADS, strict=True):
            response = team.post(f"/api/v1/screenings/{screening_id}/registrations",
                                 json={"household_id": household_id, "risk_type": "accident", "reason": reason})
            assert response.status_code == 201, response.get_json()
        with app.app_context():
            registrations = db.session.scalars(select(RiskRegistration.id).order_by(RiskRegistration.id)).all()
            check_households(screening_id, "chengguan01_team")
            complete("chengguan01_team", "Task_ScreenHouseholds", {}, screening_id=screening_id)
            meeting = db.session.scalar(select(ReadyTask).where(ReadyTask.bpmn_id == "Task_AssessmentMeeting"))
            complete_user_task(meeting.id, MultiDict([
                ("meeting_date", "2026-03-02"), ("attendees", "-全体"), ("minutes", HYPERLINK),
                ("key_assistance", str(registrations[0])), ("key_assistance", str(registrations[1]))]),
                db.session.scalar(select(User).where(User.username == "chengguan01_team")), None)
            db.session.commit()
            planned, waiting = db.session.scalars(select(Case.id).order_by(Case.id)).all()
    with app.app_context(), travel_to(china_moment(date(2026, 3, 5))):
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "certify", "risk_level": "returned",
                                                             "opinion": HYPERLINK}, planned)
        complete("chengguan_leader", "Task_TownLeadershipReview", {"decision": "pass", "opinion": "+通过",
                                                                   "meeting_date": "2026-03-05"}, planned)
        complete("county_office", "Task_CountyApprove", {"decision": "approve", "opinion": "@同意"}, planned)
        plan_measures(planned, [{"content": HYPERLINK, "measure_type": "health", "responsible_unit": "+1+1",
                                 "deadline": "2026-03-20"}])
    return {"planned": planned, "waiting": waiting}


def test_the_roster_shows_hostile_reasons_and_names_as_text(app, login_as, hostile_county):
    with travel_to(china_moment(LATER)):
        response = login_as("county_office").get("/reports/roster.xlsx?month=2026-03")
    assert response.status_code == 200
    with app.app_context():
        reasons = set(db.session.scalars(select(RiskRegistration.reason)))
    assert HYPERLINK in reasons and "=1+1" in reasons  # the tab was stripped as the form strips any reason
    assert_typed_text_stays_text(response.data, reasons | set(PAYLOADS) | {DDE, "-镇", "@SUM(A1)"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["I5"].value == HYPERLINK and sheet["I5"].data_type == "s"  # the attack as it was reported


def test_the_ledger_shows_hostile_names_as_text(login_as, hostile_county):
    with travel_to(china_moment(LATER)):
        response = login_as("county_office").get("/reports/ledger.xlsx?month=2026-03")
    assert response.status_code == 200
    assert_typed_text_stays_text(response.data, {HYPERLINK, DDE, "-镇", "@SUM(A1)"})


def test_the_case_list_shows_hostile_names_as_text(login_as, hostile_county):
    with travel_to(china_moment(LATER)):
        response = login_as("supervisor").get("/cases/export.xlsx")
    assert response.status_code == 200
    assert_typed_text_stays_text(response.data, {HYPERLINK, "+1+1", DDE, "-镇"})


def test_the_annual_review_and_accountability_lists_show_hostile_names_as_text(login_as, hostile_county):
    with travel_to(china_moment(LATER)):
        response = login_as("supervisor").get("/supervision/annual-review.xlsx?year=2026")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    # 各镇考核 names the town; 行业部门 and 逾期未完成措施 the unit, measure, household and cadre; 逾期未办任务 the
    # certifier who let the case wait; 未按时完成排查 the village and its team.
    town = {c.value for row in book["各镇考核"].iter_rows() for c in row}
    assert "-镇" in town
    assert "\t=1+1" in {c.value for row in book["未按时完成排查"].iter_rows() for c in row}
    assert_typed_text_stays_text(response.data, {"-镇", "+1+1", HYPERLINK, "@SUM(A1)", DDE, "\t=1+1"})


def test_the_audit_export_shows_hostile_opinions_and_names_as_text(login_as, hostile_county):
    with travel_to(china_moment(LATER)):
        response = login_as("supervisor").get("/audit/export.xlsx?start=2026-03-01&end=2026-04-30")
    assert response.status_code == 200
    assert_typed_text_stays_text(response.data, {HYPERLINK, "+通过", "@同意", "-1+1", "+1+1"})


def text_cells_workbook(rows: list[list[Any]]) -> bytes:
    """A registry as Excel saves one where people typed `=…` names into text-formatted cells: text, not formulas."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([None] * len(row))
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
                cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_import_error_report_keeps_hostile_text_as_text_and_the_corrected_copy_imports_it(app, login_as):
    from app.households.idnumber import check_character
    from app.households.importer import TEMPLATE_COLUMNS, compact

    ids = [i + check_character(i) for i in ("61092219690303981", "61092219700404982", "61092219710505973",
                                            "61092219720606984", "61092219730707995")]
    wrong = ids[2][:-1] + ("0" if ids[2][-1] != "0" else "1")
    rows = [list(TEMPLATE_COLUMNS),
            ["城关镇", "金星村", "", HYPERLINK, ids[0], "户主", 1, "2018", "+8613900000000"],
            ["城关镇", "金星村", "", "-3 户", ids[1], "户主", 1, "非贫困户", ""],
            ["城关镇", "金星村", "", "\t=1+1", wrong, "户主", 1, "非贫困户", ""],
            ["城关镇", "金星村", "", "@SUM(A1)", ids[3], "户主", 1, "非贫困户", ""],
            ["城关镇", "金星村", "", "+1+1", ids[4], "户主", 1, "非贫困户", ""]]
    county = login_as("county_office")
    page = import_households(county, text_cells_workbook(rows))
    assert "校验位错误" in page.get_data(as_text=True)
    report = county.get(page.job_url + "/errors.xlsx")
    assert report.status_code == 200
    content = report.data
    report.close()
    assert_typed_text_stays_text(content, {HYPERLINK, "-3 户", "\t=1+1", "@SUM(A1)", "+1+1", "+8613900000000"})

    # The user corrects the one bad ID in the report and uploads it again: every typed name arrives as the
    # importer takes any name (spaces removed), none of them refused as a formula.
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    id_column = TEMPLATE_COLUMNS.index("证件号码") + 1
    bad = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=id_column).value == wrong)
    sheet.cell(row=bad, column=id_column).value = ids[2]
    corrected = io.BytesIO()
    book.save(corrected)
    page = import_households(county, corrected.getvalue())
    assert "新增 5 户" in page.get_data(as_text=True), page.get_data(as_text=True)[:3000]
    with app.app_context():
        stored = {h.head_id_number: (h.head_name, h.phone) for h in db.session.scalars(
            select(Household).where(Household.head_id_number.in_(ids)))}
    assert stored == {ids[0]: (compact(HYPERLINK), "+8613900000000"), ids[1]: ("-3户", ""), ids[2]: ("=1+1", ""),
                      ids[3]: ("@SUM(A1)", ""), ids[4]: ("+1+1", "")}


def test_an_exported_roster_uploads_again_with_every_typed_text_unchanged(app, login_as, api):
    """Export → import: the roster a team downloads, uploaded into its screening, registers the same households
    with the same reasons, and the hostile head names still match the registry."""
    with app.app_context():
        households = db.session.scalars(select(Household).where(Household.village_code == VILLAGE)
                                        .order_by(Household.id)).all()[:4]
        for household, name in zip(households, (HYPERLINK, "-3 户", "_x0041_ 张", "@张三"), strict=True):
            household.head_name = name
        db.session.commit()
        household_ids = [h.id for h in households]
    month = today().strftime("%Y-%m")
    assert api("county_office").post("/api/v1/screenings", json={"month": month}).status_code == 201
    team_api = api("chengguan01_team")
    team = login_as("chengguan01_team")
    task = team.task("Task_ScreenHouseholds")
    reasons = (HYPERLINK, "+1+1 万元医疗费", "-3 个月无务工收入", "@因病 _x000D_ 支出")
    for household_id, reason in zip(household_ids, reasons, strict=True):
        response = team_api.post(f"/api/v1/screenings/{task['screening_id']}/registrations",
                                 json={"household_id": household_id, "risk_type": "major_illness", "reason": reason})
        assert response.status_code == 201, response.get_json()

    def registered() -> list[tuple[str, str, str]]:
        with app.app_context():
            return sorted((r.household.head_name, r.risk_type, r.reason)
                          for r in db.session.scalars(select(RiskRegistration)))

    before = registered()
    roster = team.get(f"/reports/roster.xlsx?month={month}")
    assert roster.status_code == 200
    with app.app_context():
        ids = db.session.scalars(select(RiskRegistration.id)).all()
    for registration_id in ids:
        assert team.post(f"/screenings/{task['screening_id']}/registrations/{registration_id}/delete", {},
                         page=f"/tasks/{task['id']}").status_code == 302
    assert registered() == []
    response = upload(team, f"/screenings/{task['screening_id']}/roster", roster.data, "花名册.xlsx",
                      f"/tasks/{task['id']}")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert registered() == before


def test_a_spreadsheet_program_shows_the_text_not_a_computed_value(app, login_as, hostile_county, tmp_path):
    soffice = _libreoffice()
    with travel_to(china_moment(LATER)):
        source = tmp_path / "roster.xlsx"
        source.write_bytes(login_as("county_office").get("/reports/roster.xlsx?month=2026-03").data)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path),
                    str(source)], check=True, capture_output=True, timeout=180)
    rows = list(csv.reader(io.StringIO((tmp_path / "roster.csv").read_text(encoding="utf-8"))))
    data = [row for row in rows if row and row[0].isdigit()]
    assert {row[3] for row in data} == set(PAYLOADS)  # 户主姓名: not 2, 0 or #NAME?
    assert {row[8] for row in data} == {HYPERLINK, "+1+1", "-1+1", "@SUM(A1)", "=1+1"}  # 详细原因
    assert {row[2] for row in data} == {DDE}
