"""附件1 花名册 and 附件2 台账: the official layouts, print-ready, for the user's own area only."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from app.extensions import db
from app.models import Case, Household
from tests.conftest import today
from tests.helpers import approve_case, open_case, plan_measures

ROSTER_HEADERS = ["序号", "镇", "村", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "返贫风险类型", "详细原因",
                  "包抓干部"]
LEDGER_HEADERS = ["序号", "镇", "村", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "风险类型",
                  "制定的帮扶措施", "完成时限", "包抓干部"]
NOTE_1 = '备注：1. 脱贫年度以全国扶贫系统为准，非贫困户填写"非贫困户"；'
NOTE_2 = "2. 返贫风险类型分为：因重大疾病、因自然灾害、因意外变故、因产业失败、因就业不稳、其它原因。"


def month() -> str:
    return today().strftime("%Y-%m")


def month_label() -> str:
    return f"{today().year}年{today().month}月"


@pytest.fixture()
def three_cases(app) -> dict[str, int]:
    """Households at risk this month: two in 城关镇 (two villages), one in 饶峰镇."""
    return {village: open_case(app, village) for village in ("610922100001", "610922100002", "610922101001")}


def household_of(app, case_id: int) -> Household:
    with app.app_context():
        household = db.session.get(Case, case_id).household
        db.session.expunge(household)
        return household


def workbook(response) -> Worksheet:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data)).active


def download_name(response) -> str:
    disposition = response.headers["Content-Disposition"]
    return unquote(disposition.split("filename*=UTF-8''")[1])


def data_rows(sheet: Worksheet, width: int) -> list[list[object]]:
    rows = [list(r) for r in sheet.iter_rows(min_row=5, max_col=width, values_only=True)]
    return [r for r in rows if isinstance(r[0], int)]


def test_county_roster_has_the_official_layout(app, login_as, three_cases):
    county = login_as("county_office")
    response = county.get(f"/reports/roster.xlsx?month={month()}")
    sheet = workbook(response)
    assert download_name(response) == f"附件1_石泉县返贫风险对象花名册_石泉县_{month_label()}.xlsx"

    assert sheet["A1"].value == "附件1"
    assert sheet["A2"].value == f"石泉县返贫风险对象花名册（{month_label()}）"
    assert sheet["A3"].value == "单位：石泉县"
    assert sheet["F3"].value == f"{today().year}年{today().month}月{today().day}日"
    assert [c.value for c in sheet[4]] == ROSTER_HEADERS
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A2:J2", "A3:E3", "F3:J3"} <= merged

    rows = data_rows(sheet, 10)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1] for r in rows] == ["城关镇", "城关镇", "饶峰镇"]
    first = household_of(app, three_cases["610922100001"])
    assert rows[0][3] == first.head_name
    assert rows[0][4] == first.head_id_number
    assert rows[0][5] == first.size
    assert rows[0][6] == (str(first.lifted_year) if first.kind == "lifted" else "非贫困户")
    assert rows[0][7] == "因意外变故"
    assert rows[0][8] == "车祸致主要劳动力伤残"
    assert rows[0][9] in ("", None)  # no cadre yet: the measure plan names one

    # The two notes close the sheet, each across the full width.
    last = sheet.max_row
    assert sheet.cell(last - 1, 1).value == NOTE_1 and sheet.cell(last, 1).value == NOTE_2
    assert {f"A{last - 1}:J{last - 1}", f"A{last}:J{last}"} <= merged


def test_annexes_are_print_ready_and_keep_id_numbers_as_text(app, login_as, three_cases):
    sheet = workbook(login_as("county_office").get(f"/reports/roster.xlsx?month={month()}"))
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize in (9, "9")  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(sheet.page_setup.fitToWidth) == 1 and int(sheet.page_setup.fitToHeight) == 0
    assert sheet.print_title_rows == "$4:$4"  # the header row repeats on every printed page
    assert sheet.freeze_panes == "A5"
    id_cell = sheet["E5"]
    assert id_cell.data_type == "s" and id_cell.number_format == "@" and len(id_cell.value) == 18
    assert sheet["E5"].border.left.style == "thin" and sheet["A4"].font.bold
    assert sheet["I5"].alignment.wrap_text  # long reasons wrap instead of running off the page
    assert sheet.column_dimensions["E"].width >= 20 and sheet.column_dimensions["I"].width >= 30


def test_a_town_sees_its_own_villages_only(app, login_as, three_cases):
    certifier = login_as("chengguan_certifier")
    response = certifier.get(f"/reports/roster.xlsx?month={month()}")
    sheet = workbook(response)
    assert sheet["A3"].value == "单位：城关镇"
    assert [r[1] for r in data_rows(sheet, 10)] == ["城关镇", "城关镇"]
    assert "_城关镇_" in download_name(response)

    refused = certifier.get(f"/reports/roster.xlsx?month={month()}&area=610922101")
    assert refused.status_code == 403
    assert "只能导出本辖区" in refused.get_data(as_text=True)
    assert certifier.get(f"/reports/roster.xlsx?month={month()}&area=610922").status_code == 403


def test_a_village_team_draws_its_village_and_nothing_else(app, login_as, three_cases):
    team = login_as("chengguan01_team")
    sheet = workbook(team.get(f"/reports/roster.xlsx?month={month()}"))
    assert sheet["A3"].value.startswith("单位：城关镇") and len(data_rows(sheet, 10)) == 1
    assert team.get(f"/reports/roster.xlsx?month={month()}&area=610922100002").status_code == 403
    assert team.get(f"/reports/ledger.xlsx?month={month()}&area=610922100").status_code == 403


def test_cadres_do_not_draw_the_annexes(app, login_as, three_cases):
    response = login_as("chengguan01_cadre1").get(f"/reports/roster.xlsx?month={month()}")
    assert response.status_code == 403
    assert "不能导出" in response.get_data(as_text=True)


def test_a_bad_month_or_area_is_refused_in_chinese(app, login_as):
    county = login_as("county_office")
    bad_month = county.get("/reports/roster.xlsx?month=2026-13")
    assert bad_month.status_code == 422 and "月份格式" in bad_month.get_data(as_text=True)
    bad_area = county.get(f"/reports/roster.xlsx?month={month()}&area=999999")
    assert bad_area.status_code == 422 and "区划代码" in bad_area.get_data(as_text=True)


def test_roster_of_another_month_is_empty_but_still_official(app, login_as, three_cases):
    earlier = (today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    sheet = workbook(login_as("county_office").get(f"/reports/roster.xlsx?month={earlier}"))
    assert data_rows(sheet, 10) == []
    assert [c.value for c in sheet[4]] == ROSTER_HEADERS
    assert sheet.cell(sheet.max_row, 1).value == NOTE_2


def test_roster_names_the_cadre_once_the_plan_assigns_one(app, login_as, three_cases):
    case_id = three_cases["610922100001"]
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "协助办理慢病卡", "measure_type": "health",
                                 "responsible_unit": "县医保局", "deadline": "2027-01-31"}])
    sheet = workbook(login_as("county_office").get(f"/reports/roster.xlsx?month={month()}"))
    with app.app_context():
        cadre_name = db.session.get(Case, case_id).cadre.full_name
    assert data_rows(sheet, 10)[0][9] == cadre_name


def test_ledger_lists_each_household_once_with_its_measures_and_deadline(app, login_as, three_cases):
    planned = three_cases["610922100001"]
    with app.app_context():
        approve_case(planned)
        plan_measures(planned, [
            {"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
             "deadline": "2027-01-31"},
            {"content": "安排公益性岗位", "measure_type": "public_welfare_job", "responsible_unit": "镇人社站",
             "deadline": "2027-03-15"},
        ])
        approve_case(three_cases["610922100002"])  # approved but no plan yet: not in the ledger
    response = login_as("county_office").get(f"/reports/ledger.xlsx?month={month()}")
    sheet = workbook(response)
    assert download_name(response) == f"附件2_石泉县返贫风险对象帮扶措施台账_石泉县_{month_label()}.xlsx"
    assert sheet["A1"].value == "附件2"
    assert sheet["A2"].value == f"石泉县返贫风险对象帮扶措施台账（{month_label()}）"
    assert [c.value for c in sheet[4]] == LEDGER_HEADERS
    assert "A2:K2" in {str(r) for r in sheet.merged_cells.ranges}
    [row] = data_rows(sheet, 11)
    household = household_of(app, planned)
    assert row[3] == household.head_name and row[4] == household.head_id_number
    assert row[7] == "因意外变故"
    lines = row[8].split("\n")
    assert len(lines) == 2
    assert lines[0].startswith("1. 协助办理慢病卡") and "县医保局" in lines[0] and "2027-01-31" in lines[0]
    assert lines[1].startswith("2. 安排公益性岗位")
    assert row[9] == datetime(2027, 3, 15)  # a real date: the plan is due when its last measure is
    assert sheet["J5"].is_date and "yyyy" in sheet["J5"].number_format
    assert sheet["E5"].data_type == "s"
    assert sheet.cell(sheet.max_row, 1).value == NOTE_2


def test_pages_show_the_annex_with_masked_id_numbers(app, login_as, three_cases):
    county = login_as("county_office")
    household = household_of(app, three_cases["610922100001"])
    html = county.get(f"/reports/roster?month={month()}").get_data(as_text=True)
    assert f"石泉县返贫风险对象花名册（{month_label()}）" in html and household.head_name in html
    assert household.head_id_number not in html and household.head_id_number[-4:] in html
    assert "/reports/roster.xlsx" in html
    assert "帮扶措施台账" in county.get(f"/reports/ledger?month={month()}").get_data(as_text=True)
    assert "/reports/ledger.xlsx" in county.get("/cases/").get_data(as_text=True)


def test_cli_exports_for_scripted_monthly_reporting(app, runner, three_cases, tmp_path, monkeypatch):
    target = tmp_path / "roster.xlsx"
    result = runner.invoke(args=["roster", "export", "--month", month(), "--town", "610922100", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 household(s)" in result.output
    sheet = load_workbook(target).active
    assert sheet["A3"].value == "单位：城关镇" and len(data_rows(sheet, 10)) == 2

    ledger = tmp_path / "ledger.xlsx"
    result = runner.invoke(args=["ledger", "export", "--month", month(), "--village", "610922101001",
                                 "-o", str(ledger)])
    assert result.exit_code == 0, result.output
    assert load_workbook(ledger).active["A2"].value.startswith("石泉县返贫风险对象帮扶措施台账")

    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["roster", "export", "--month", month()])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"附件1_石泉县返贫风险对象花名册_石泉县_{month_label()}.xlsx").exists()


def test_cli_refuses_bad_options_and_leaves_no_file(app, runner, tmp_path):
    target = tmp_path / "x.xlsx"
    result = runner.invoke(args=["roster", "export", "--month", "11/2026", "-o", str(target)])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    result = runner.invoke(args=["ledger", "export", "--town", "610922199", "-o", str(target)])
    assert result.exit_code != 0 and "610922199" in result.output
    assert list(tmp_path.iterdir()) == []


def _libreoffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice is needed to check the annexes in a real spreadsheet program (.ci/run installs it)"
    return found


def test_the_roster_opens_in_a_real_spreadsheet_program(app, login_as, three_cases, tmp_path):
    soffice = _libreoffice()
    source = tmp_path / "roster.xlsx"
    source.write_bytes(login_as("county_office").get(f"/reports/roster.xlsx?month={month()}").data)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "roster.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    household = household_of(app, three_cases["610922100001"])
    assert f"石泉县返贫风险对象花名册（{month_label()}）" in text
    for header in ("户主证件号码", "返贫风险类型", "包抓干部"):
        assert header in text
    assert household.head_name in text and household.head_id_number in text  # not 6.10922E+17
    assert "因意外变故" in text and "备注" in text
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size"))
    width, height = (float(v) for v in size.split(":")[1].split("pts")[0].split(" x "))
    assert width > height and round(width) == 842  # A4 landscape


def test_ledger_skips_cases_closed_before_the_month(app, three_cases):
    from app.reports.annexes import ledger_rows
    from app.reports.scope import ReportMonth, resolve_scope

    case_id = three_cases["610922100001"]
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "申请临时救助", "measure_type": "temporary_relief",
                                 "responsible_unit": "县民政局", "deadline": "2027-01-31"}])
        scope = resolve_scope(None, "610922")
        this_month = ReportMonth.of(today())
        assert len(list(ledger_rows(this_month, scope))) == 1
        case = db.session.get(Case, case_id)
        case.closed_at = datetime.combine(today().replace(day=1), datetime.min.time()) - timedelta(days=3)
        db.session.commit()
        assert list(ledger_rows(this_month, scope)) == []
        previous = ReportMonth.of(today().replace(day=1) - timedelta(days=1))
        assert list(ledger_rows(previous, scope)) == []  # opened this month: not in last month's ledger
