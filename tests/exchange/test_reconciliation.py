"""对比国家系统数据: the county office uploads the national system's export of its lifted and marginal households; the
app reports what differs from the registry (new, changed, missing, conflicting) and stores nothing until the office
imports it, whole, from the report."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.households.idnumber import check_character
from app.models import Household, ImportJob, Member
from tests.excel.conftest import follow_job
from tests.exchange.conftest import (
    NATIONAL_HEADER,
    NationalHousehold,
    Person,
    count,
    national_file,
    reconcile,
    registry,
)
from tests.helpers import approve_case, open_case


def new_id(sequence: int) -> str:
    first17 = f"61092219850101{sequence:03d}"
    return first17 + check_character(first17)


def snapshot(app) -> tuple[int, int, list[tuple[str, str, str | None]]]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Household)),
                db.session.scalar(select(func.count()).select_from(Member)),
                sorted(tuple(r) for r in db.session.execute(select(Member.id_number, Member.name, Member.person_no))))


def test_the_report_lists_new_changed_missing_and_conflicting_households_and_stores_nothing(app, login_as):
    households = registry(app)
    unchanged, renamed, moved_out, dropped, monitored = households[:5]
    renamed.people[0].name += "明"
    renamed.people[0].person_no = "610922100001900101"
    gone = moved_out.people.pop()
    monitored.category, monitored.eliminated, monitored.identified_on = "边缘易致贫户", "否", date(2024, 3, 1)
    newcomer = NationalHousehold(unchanged.town, unchanged.village, "6109221000019999", "non_poor", None,
                                 [Person("新户主", new_id(1), "户主"), Person("新配偶", new_id(2), "配偶")],
                                 category="突发严重困难户", eliminated="否", identified_on="2026-05-06")
    in_file = [h for h in households if h is not dropped] + [newcomer]
    before = snapshot(app)

    county = login_as("county_office")
    page = reconcile(county, national_file(in_file))
    html = page.get_data(as_text=True)

    assert count(page, "new") == 1 and "6109221000019999" in html and "突发严重困难户" in html
    assert count(page, "changed") == 2, html[html.find("id=\"变更\""):][:3000]
    assert f"成员姓名：{renamed.people[0].name.removesuffix('明')} → {renamed.people[0].name}" in html
    assert "人编号：（空） → 610922100001900101" in html
    assert f"减少成员：{gone.name}" in html and "人数：" in html
    assert count(page, "unchanged") == len(in_file) - 1 - 2
    # The household the file lacks is lifted (the national roster holds every lifted household) or it is not.
    expected_missing = 1 if dropped.kind == "lifted" else 0
    assert count(page, "missing") == expected_missing
    if expected_missing:
        assert dropped.household_no in html and "已脱贫户，国家系统导出中没有此户" in html
    # The national system monitors two households the county does not: the file's newcomer and `monitored`.
    assert count(page, "conflicting") == 2
    assert "国家系统中为监测对象（风险未消除），本县系统中未纳入监测" in html
    assert "本县系统中尚无此户" in html
    assert "未保存任何数据" in html and "按比对结果导入农户信息" in html
    assert snapshot(app) == before

    # The report workbook has every list, with the IDs in full for the office.
    report = county.get(page.job_url + "/report.xlsx")
    assert report.status_code == 200
    data = report.data
    report.close()
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(data), read_only=True)
    assert book.sheetnames == ["新增", "变更", "缺失", "冲突"]
    new_rows = [r for r in book["新增"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert [(r[2], r[4]) for r in new_rows] == [("6109221000019999", new_id(1))]

    # Imported from the report: the registry takes the file (monitoring is not the import's to change).
    imported = follow_job(county, county.post(page.job_url + "/apply", {}, page=page.job_url))
    assert "新增 1 户，更新 2 户" in imported.get_data(as_text=True)
    households_now, members_now, people = snapshot(app)
    assert households_now == before[0] + 1
    assert (renamed.people[0].id_number, renamed.people[0].name, "610922100001900101") in people
    assert gone.id_number not in {p[0] for p in people}
    # Applied once: the report now points at the import and offers no second one.
    again = county.get(page.job_url).get_data(as_text=True)
    assert "查看导入结果" in again and "按比对结果导入农户信息" not in again
    assert county.post(page.job_url + "/apply", {}, page=page.job_url).status_code == 422

    # The same file again: nothing new, nothing changed; the monitoring differences remain to be settled.
    second = reconcile(county, national_file(in_file))
    assert (count(second, "new"), count(second, "changed"), count(second, "conflicting")) == (0, 0, 2)


def test_a_file_with_errors_is_reported_household_by_household_and_cannot_be_imported(app, login_as):
    households = registry(app)
    bad_id = households[0].people[0].id_number[:17] + ("0" if households[0].people[0].id_number[17] != "0" else "1")
    households[0].people[0].id_number = bad_id
    households[1].category = "重点监测户"
    households[2].identified_on = "去年六月"
    households[3].eliminated = "也许"
    households[4].category, households[4].eliminated = "脱贫不稳定户", "是"
    households[4].identified_on, households[4].eliminated_on = "2024-06-01", "2023-01-01"
    before = snapshot(app)

    county = login_as("county_office")
    page = reconcile(county, national_file(households))
    html = page.get_data(as_text=True)
    assert "校验位错误，应为" in html
    assert "无法识别监测对象类型“重点监测户”" in html
    assert "“去年六月”不是日期" in html
    assert "风险是否消除应填“是”或“否”，不是“也许”" in html
    assert "风险消除时间早于风险识别时间" in html
    assert count(page, "conflicting") >= 5
    assert "不能导入" in html and "按比对结果导入农户信息" not in html
    assert county.post(page.job_url + "/apply", {}, page=page.job_url).status_code == 422
    assert snapshot(app) == before
    errors = county.get(page.job_url + "/errors.xlsx")
    assert errors.status_code == 200
    errors.close()


def test_a_file_that_is_not_the_national_export_is_refused_whole(app, login_as):
    county = login_as("county_office")
    page = reconcile(county, national_file(registry(app), header=["序号", "名称", "金额"]))
    html = page.get_data(as_text=True)
    assert "无法比对" in html and "找不到表头" in html
    with app.app_context():
        job = db.session.scalars(select(ImportJob).where(ImportJob.kind == "reconcile")).one()
        assert job.status == "refused" and job.report is None


def test_a_numeric_person_number_and_a_formula_are_errors_of_their_cells(app, login_as):
    from openpyxl import Workbook  # noqa: TID251 (a third party's workbook, with a formula in it)

    households = registry(app)[:2]
    book = Workbook()
    sheet = book.active
    sheet.append(NATIONAL_HEADER)
    for row in households[0].rows() + households[1].rows():
        sheet.append(row)
    sheet["E2"] = 610922100001900101  # 人编号 typed as a number: its last digits are gone
    sheet["L3"] = '=IF(1,"边缘易致贫户","")'
    for cells in sheet.iter_rows(min_col=7, max_col=7):
        cells[0].number_format = "@"
    from io import BytesIO

    out = BytesIO()
    book.save(out)
    html = reconcile(login_as("county_office"), out.getvalue()).get_data(as_text=True)
    assert "人编号被存成了数字" in html and "公式" in html


def test_monitoring_state_is_compared_with_the_countys_cases(app, login_as):
    """A county-procedure case approved today: the national system should hold the household as monitored, with
    its category by the household's kind and today as 风险识别时间."""
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        from app.models import Case

        case = db.session.get(Case, case_id)
        household_no, kind, identified_on = case.household.household_no, case.household.kind, case.identified_on
    assert identified_on is not None
    households = registry(app)
    target = next(h for h in households if h.household_no == household_no)
    county = login_as("county_office")

    # Not a monitoring object nationally.
    page = reconcile(county, national_file(households))
    assert "本县系统中为监测对象（" in page.get_data(as_text=True) and "国家系统中不是监测对象" in page.get_data(
        as_text=True)

    # Monitored nationally, but as the other category and since another day.
    other = "边缘易致贫户" if kind == "lifted" else "脱贫不稳定户"
    target.category, target.eliminated, target.identified_on = other, "否", date(2025, 1, 2)
    html = reconcile(county, national_file(households)).get_data(as_text=True)
    assert f"监测对象类型不一致：国家系统 {other}" in html
    assert f"风险识别时间不一致：国家系统 2025-01-02，本县系统 {identified_on.isoformat()}" in html

    # Agreeing: no conflict for it.
    target.category = "脱贫不稳定户" if kind == "lifted" else "边缘易致贫户"
    target.identified_on = identified_on.isoformat()
    page = reconcile(county, national_file(households))
    assert household_no not in page.get_data(as_text=True).split('id="冲突"')[1]


def test_only_the_county_office_and_the_administrator_exchange_data(app, login_as):
    for username in ("chengguan_certifier", "chengguan01_team", "supervisor", "department_minzheng"):
        browser = login_as(username)
        assert browser.get("/exchange").status_code == 403, username
        assert browser.get("/exchange/roster.xlsx").status_code == 403, username
    assert login_as("admin").get("/exchange").status_code == 200


def test_hostile_files_are_refused_and_leave_nothing_behind(app, login_as, tmp_path, monkeypatch):
    """A zip bomb is refused at the upload (no job at all); a sheet of 200,001 rows past the county's limit is
    refused by the comparison; no uploaded file is kept from either."""
    import io
    import zipfile

    from tests.excel.bombs import sheet_rows
    from tests.excel.conftest import upload

    county = login_as("county_office")
    source = zipfile.ZipFile(io.BytesIO(national_file(registry(app)[:1])))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = b"<worksheet>" + b" " * (30 * 1024 * 1024) + b"</worksheet>"
            archive.writestr(item.filename, content)
    refused = upload(county, "/exchange/reconciliations", bomb.getvalue(), "国家系统导出.xlsx", "/exchange")
    assert refused.status_code == 422 and "疑似压缩炸弹" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0

    monkeypatch.setitem(app.config, "EXCEL_MAX_ROWS", 150_000)
    header = ["县", "乡(镇)", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "人数", "脱贫年度"]
    huge = sheet_rows(tmp_path / "huge.xlsx", 200_001, dimension="A1:I200001", header=header)
    html = reconcile(county, huge.read_bytes()).get_data(as_text=True)
    assert "无法比对" in html and "表格行数超过上限" in html
    folder = app.config["IMPORTS_FOLDER"]
    from pathlib import Path

    assert [p.name for p in Path(folder).iterdir() if not p.name.endswith(("-report.xlsx", "-errors.xlsx"))] == []
