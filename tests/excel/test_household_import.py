"""Household registry import (农户名单): the national system's export and the app's template, as saved by
LibreOffice from CSV (tests/data), through the real upload page, the background job and the CLI."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.households.importer import TEMPLATE_COLUMNS
from app.models import Household, ImportJob, Member
from tests.excel.conftest import DATA, fixture_bytes, import_households, workbook_bytes

NATIONAL = DATA / "national_export.xlsx"
ERRORS = DATA / "template_errors.xlsx"


def household_counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Household)),
                db.session.scalar(select(func.count()).select_from(Member)))


def members_of(app, household_no: str) -> dict[str, tuple[str, str]]:
    with app.app_context():
        household = db.session.scalar(select(Household).where(Household.household_no == household_no))
        assert household is not None, household_no
        return {m.id_number: (m.name, m.relation) for m in household.members}


def test_the_national_export_creates_households_and_members(app, county_office):
    before = household_counts(app)
    page = import_households(county_office, fixture_bytes("national_export.xlsx"), "全县农户.xlsx")
    html = page.get_data(as_text=True)
    assert "已导入：新增 4 户，更新 0 户，无变化 0 户" in html
    assert household_counts(app) == (before[0] + 4, before[1] + 10)
    with app.app_context():
        rows = {h.household_no: h for h in db.session.scalars(
            select(Household).where(Household.household_no.like("610922%900%")))}
        zhang = rows["6109221000019001"]
        assert (zhang.village_code, zhang.town_code, zhang.head_name, zhang.size) == \
            ("610922100001", "610922100", "张德明", 4)  # the head's trailing space is gone
        assert (zhang.kind, zhang.lifted_year, zhang.phone) == ("lifted", 2016, "13912345678")
        assert zhang.members[0].relation == "户主"
        wang = rows["6109221000029002"]  # 竹园村(演示) written with half-width brackets and a trailing space
        assert (wang.village_code, wang.kind, wang.lifted_year, wang.size) == ("610922100002", "non_poor", None, 2)
        zhao = rows["6109221000019004"]  # 脱贫年度 "２０２０" in full-width digits
        assert (zhao.lifted_year, zhao.phone) == (2020, "029-84312345")
    zhang_members = members_of(app, "6109221000019001")
    assert zhang_members["61092219950611936X"] == ("张建国", "之子")  # lowercase x normalised
    assert zhang_members["610922199801259402"] == ("张丽", "之女")  # full-width digits, the space in 张 丽
    # A member listed after another household still belongs to the household of its 户编号.
    assert len(members_of(app, "6109221010019003")) == 3


def test_reimporting_the_same_file_changes_nothing(app, runner):
    first = runner.invoke(args=["households", "import", str(NATIONAL)])
    assert first.exit_code == 0, first.output
    assert "stored: created 4, updated 0, unchanged 0" in first.output
    with app.app_context():
        before = sorted(db.session.execute(select(Member.id, Member.household_id, Member.id_number)).all())
    again = runner.invoke(args=["households", "import", str(NATIONAL)])
    assert again.exit_code == 0 and "created 0, updated 0, unchanged 4" in again.output
    with app.app_context():
        assert sorted(db.session.execute(select(Member.id, Member.household_id, Member.id_number)).all()) == before


def test_an_update_replaces_the_member_list(app, runner, tmp_path):
    assert runner.invoke(args=["households", "import", str(NATIONAL)]).exit_code == 0
    head = members_of(app, "6109221000019001")
    head_id = next(i for i, (_n, relation) in head.items() if relation == "户主")
    spouse_id = next(i for i, (_n, relation) in head.items() if relation == "配偶")
    changed = tmp_path / "changed.xlsx"
    changed.write_bytes(workbook_bytes([
        list(TEMPLATE_COLUMNS),
        ["城关镇", "金星村（演示）", "6109221000019001", "张德明", head_id, "户主", 2, 2017, ""],
        ["城关镇", "金星村（演示）", "6109221000019001", "李秀英", spouse_id, "配偶", 2, 2017, ""],
    ], text_columns=(3, 5)))
    result = runner.invoke(args=["households", "import", str(changed)])
    assert result.exit_code == 0 and "created 0, updated 1, unchanged 0" in result.output, result.output
    assert set(members_of(app, "6109221000019001")) == {head_id, spouse_id}
    with app.app_context():
        household = db.session.scalar(select(Household).where(Household.household_no == "6109221000019001"))
        assert (household.size, household.lifted_year, household.phone) == (2, 2017, "")


# Each household of template_errors.xlsx carries one kind of error (see tests/data/make_fixtures.py).
EXPECTED_ERRORS = [
    (4, "证件号码", "校验位错误，应为 6"),
    (5, "证件号码", "出生日期无效"),
    (6, "行政村", "找不到“不存在村”"),
    (8, "与户主关系", "已有户主（第7行），每户只能有一个户主"),
    (9, "与户主关系", "没有户主"),
    (10, "家庭人口", "家庭人口填写为 3 人，但本户共有 2 行成员"),
    (13, "证件号码", "证件号码与第3行重复"),
    (14, "证件号码", "该户主已登记在户编号 6109221000010001 下"),
    (15, "脱贫年度", "脱贫年度应在 2014–"),
    (16, "姓名", "请填写姓名"),
    (17, "乡镇", "找不到乡镇“不存在镇”"),
    (19, "证件号码", "证件号码已登记在其他户（户编号 6109221000010001，户主 韩飞海）"),
]


def test_each_error_is_reported_by_row_and_column_and_nothing_is_stored(app, runner):
    before = household_counts(app)
    result = runner.invoke(args=["households", "import", str(ERRORS)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for row, column, message in EXPECTED_ERRORS:
        assert any(line.startswith(f"row {row}, {column}: ") and message in line for line in lines), \
            (row, column, message, result.output)
    assert sum(line.startswith("row ") for line in lines) == len(EXPECTED_ERRORS)
    assert "nothing stored" in result.output
    assert household_counts(app) == before


def test_valid_only_stores_the_valid_households_and_reports_the_rest(app, runner):
    before = household_counts(app)
    dry = runner.invoke(args=["households", "import", str(ERRORS), "--valid-only", "--dry-run"])
    assert "would have created 1" in dry.output and household_counts(app) == before
    result = runner.invoke(args=["households", "import", str(ERRORS), "--valid-only"])
    assert result.exit_code == 0, result.output
    assert "stored: created 1, updated 0, unchanged 0, rejected 12 household(s)" in result.output
    assert "row 4, 证件号码: 校验位错误" in result.output
    assert household_counts(app) == (before[0] + 1, before[1] + 2)
    assert set(members_of(app, "6109221000019201").values()) == {("钱进", "户主"), ("孔燕", "配偶")}


def test_ids_stored_as_numbers_are_refused_with_a_clear_message(app, county_office):
    before = household_counts(app)
    page = import_households(county_office, fixture_bytes("template_numeric_ids.xlsx"))
    html = page.get_data(as_text=True)
    assert "文件有错误，未导入任何数据" in html
    rows = re.findall(r'<td data-label="行号">(\d+)</td><td data-label="列">证件号码</td>'
                      r'<td data-label="问题">证件号码被存成了数字，精度已丢失，请将该列设为文本</td>', html)
    assert rows == ["2", "3", "4"]
    assert household_counts(app) == before


def test_the_error_workbook_has_an_error_column_and_highlights_the_bad_cells(app, county_office):
    page = import_households(county_office, fixture_bytes("template_errors.xlsx"), "有错误.xlsx")
    html = page.get_data(as_text=True)
    assert "共 12 处" in html and "校验位错误，应为 6" in html
    download = county_office.get(page.job_url + "/errors.xlsx")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    content = download.data
    download.close()
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:len(TEMPLATE_COLUMNS)] == list(TEMPLATE_COLUMNS) and header[-1] == "错误说明"
    error_column = len(header)
    assert sheet.cell(row=2, column=error_column).value is None  # the valid household
    assert "证件号码：校验位错误，应为 6" in sheet.cell(row=4, column=error_column).value
    assert sheet.cell(row=4, column=5).fill.fgColor.rgb.endswith("FFC7CE")  # the bad ID cell
    assert sheet.cell(row=4, column=4).fill.fgColor.rgb in (None, "00000000")
    good_id = sheet.cell(row=2, column=5).value
    assert isinstance(good_id, str) and len(good_id) == 18  # IDs stay text


def test_the_template_downloads_and_imports_rows_without_a_household_number(app, county_office):
    response = county_office.get("/households/import/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == list(TEMPLATE_COLUMNS)
    assert sheet.cell(row=2, column=TEMPLATE_COLUMNS.index("证件号码") + 1).number_format == "@"
    assert "填写说明" in book.sheetnames
    # Members without 户编号 follow their head's row.
    from app.households.idnumber import check_character

    ids = [f"61092219690303{n}" for n in ("981", "992", "973")]
    ids = [i + check_character(i) for i in ids]
    filled = workbook_bytes([
        list(TEMPLATE_COLUMNS),
        ["城关镇", "金星村", "", "马兴", ids[0], "户主", 2, "2018", ""],
        ["城关镇", "金星村", "", "马秀", ids[1], "配偶", 2, "2018", ""],
        [None] * 9,
        ["饶峰镇", "杨柳", "", "牛成", ids[2], "户主", 1, "非贫困户", ""],
    ], text_columns=(3, 5))
    page = import_households(county_office, filled)
    assert "新增 2 户" in page.get_data(as_text=True)
    assert set(members_of(app, "H" + ids[0])) == {ids[0], ids[1]}
    assert "无变化 2 户" in import_households(county_office, filled).get_data(as_text=True)


def test_the_cli_writes_the_template(runner, tmp_path):
    target = tmp_path / "模板.xlsx"
    result = runner.invoke(args=["households", "template", "-o", str(target)])
    assert result.exit_code == 0
    assert [c.value for c in load_workbook(target).worksheets[0][1]] == list(TEMPLATE_COLUMNS)


def test_a_running_job_page_refreshes_itself(app, county_office):
    with app.app_context():
        job = ImportJob(file_name="大文件.xlsx", stored_name="x.xlsx", status="validating", rows_total=220000,
                        rows_done=42000)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = county_office.get(f"/households/import/jobs/{job_id}")
    assert page.headers.get("Refresh") == "2"
    assert "正在检查第 42000 行，共 220000 行" in page.get_data(as_text=True)


def test_only_the_county_office_and_admin_may_import(app, login_as):
    for username in ("county_office", "admin"):
        user = login_as(username)
        assert user.get("/households/import").status_code == 200
        assert 'href="/households/import"' in user.get("/").get_data(as_text=True)
    for username in ("chengguan01_team", "chengguan_certifier", "supervisor", "chengguan01_cadre1"):
        user = login_as(username)
        assert user.get("/households/import").status_code == 403, username
        assert user.get("/households/import/template.xlsx").status_code == 403
        assert 'href="/households/import"' not in user.get("/").get_data(as_text=True)
    team = login_as("chengguan01_team")
    token = team._csrf(team.get("/").get_data(as_text=True))
    response = team.client.post("/households/import", data={
        "csrf_token": token, "file": (io.BytesIO(fixture_bytes("national_export.xlsx")), "x.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_village_names_are_matched_within_the_town_given_each_time(app):
    """A registry repeats the same few names on every row, so matches are remembered: per town and name, never
    carried over from another town's answer."""
    from app.households.importer import _Areas
    from app.models import Area

    with app.app_context():
        village = db.session.scalars(select(Area).where(Area.level == "village").order_by(Area.code)).first()
        town = db.session.get(Area, village.code[:9])
        other_town = db.session.scalars(select(Area).where(Area.level == "town", Area.code != town.code)).first()
        unique = db.session.scalar(select(func.count()).where(Area.level == "village",
                                                              Area.name == village.name)) == 1
        areas = _Areas()
        for _ in range(2):
            assert areas.town(town.name) == town.code
            assert areas.village(town.code, village.name) == (village.code, None)
            code, problem = areas.village(other_town.code, village.name)
            assert code is None and village.name in problem
            code, problem = areas.village(None, village.name)
            assert (code, problem) == (village.code, None) if unique else (code is None and "多个乡镇" in problem)
        assert areas.town("没有这个镇") is None


def test_the_cycle_collector_is_paused_only_while_an_import_runs(app, county_office, monkeypatch):
    """A large import would spend a sixth of its time in the cyclic garbage collector; it is paused while the file
    is read and stored, and running again afterwards, whether the file was stored or refused, from the command
    line or as a web upload's background job."""
    import gc

    from app.households import operations

    real_store = operations.store
    during_web_job: list[bool] = []

    def store(validation):  # noqa: ANN001, ANN202 - the real store, watched
        during_web_job.append(gc.isenabled())
        return real_store(validation)

    monkeypatch.setattr(operations, "store", store)
    page = import_households(county_office, fixture_bytes("national_export.xlsx"))
    assert "已导入：新增 4 户" in page.get_data(as_text=True)
    assert during_web_job == [False] and gc.isenabled()

    seen: list[bool] = []
    with app.app_context():
        assert gc.isenabled()
        for name in ("national_export.xlsx", "template_errors.xlsx"):
            path = DATA / name
            outcome = operations.import_households(path, dry_run=True,
                                                   progress=lambda *_: seen.append(gc.isenabled()))
            assert outcome.validation.rows_read > 0
            assert gc.isenabled()
        db.session.rollback()
    assert seen and not any(seen)


def test_the_village_group_is_imported_when_the_file_has_it_and_kept_when_it_has_not(app, runner, tmp_path):
    """村民小组 (组): the team finds households by it on the phone. A file with the column sets it; a file without
    it (the national export) leaves it as it was; the same file again changes nothing."""
    assert runner.invoke(args=["households", "import", str(NATIONAL)]).exit_code == 0
    head = members_of(app, "6109221000019001")
    head_id = next(i for i, (_n, relation) in head.items() if relation == "户主")
    spouse_id = next(i for i, (_n, relation) in head.items() if relation == "配偶")
    grouped = tmp_path / "grouped.xlsx"
    grouped.write_bytes(workbook_bytes([
        [*TEMPLATE_COLUMNS, "村民小组"],
        ["城关镇", "金星村（演示）", "6109221000019001", "张德明", head_id, "户主", 2, 2017, "", "3组"],
        ["城关镇", "金星村（演示）", "6109221000019001", "李秀英", spouse_id, "配偶", 2, 2017, "", "3组"],
    ], text_columns=(3, 5)))
    result = runner.invoke(args=["households", "import", str(grouped)])
    assert result.exit_code == 0 and "updated 1" in result.output, result.output

    def group() -> str:
        with app.app_context():
            return db.session.scalar(select(Household.group_name).where(
                Household.household_no == "6109221000019001"))

    assert group() == "3组"
    again = runner.invoke(args=["households", "import", str(grouped)])
    assert "created 0, updated 0, unchanged 1" in again.output, again.output
    without = tmp_path / "without.xlsx"
    without.write_bytes(workbook_bytes([
        list(TEMPLATE_COLUMNS),
        ["城关镇", "金星村（演示）", "6109221000019001", "张德明", head_id, "户主", 2, 2017, ""],
        ["城关镇", "金星村（演示）", "6109221000019001", "李秀英", spouse_id, "配偶", 2, 2017, ""],
    ], text_columns=(3, 5)))
    kept = runner.invoke(args=["households", "import", str(without)])
    assert kept.exit_code == 0 and "unchanged 1" in kept.output, kept.output
    assert group() == "3组"


def test_a_county_raises_the_upload_limits_through_the_environment(tmp_path, monkeypatch):
    """A county whose registry is larger than the default limits allow sets them in the environment (or in
    instance/config.py): the same file refused under the limit is imported once it is raised; a limit that is not
    a whole number stops the app at start-up, naming it."""
    from app import create_app
    from tests.conftest import DEMO_PASSWORD

    def runner_with(rows_limit: str | None) -> tuple[object, object]:
        if rows_limit is None:
            monkeypatch.delenv("EXCEL_MAX_ROWS", raising=False)
        else:
            monkeypatch.setenv("EXCEL_MAX_ROWS", rows_limit)
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "county.sqlite3"),
                          "SECRET_KEY": "x", "TESTING": True, "DEMO_PASSWORD": DEMO_PASSWORD,
                          "IMPORTS_FOLDER": str(tmp_path / "imports")})
        return app, app.test_cli_runner()

    app, runner = runner_with(None)
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["load-demo", "--empty"]).exit_code == 0
    app, runner = runner_with("5")  # the file has 11 rows
    before = household_counts(app)
    refused = runner.invoke(args=["households", "import", str(NATIONAL)])
    assert refused.exit_code != 0 and "表格行数超过上限（5 行）" in refused.output
    assert household_counts(app) == before
    app, runner = runner_with("20")
    accepted = runner.invoke(args=["households", "import", str(NATIONAL)])
    assert accepted.exit_code == 0 and "created 4" in accepted.output, accepted.output
    assert household_counts(app) == (before[0] + 4, before[1] + 10)
    with app.app_context():
        db.engine.dispose()
    monkeypatch.setenv("EXCEL_MAX_ROWS", "3e5")
    with pytest.raises(RuntimeError, match="EXCEL_MAX_ROWS must be a whole number"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
