"""Hostile or broken uploads are refused with a Chinese message: no server error, nothing stored."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.households.importer import TEMPLATE_COLUMNS
from app.models import Household, ImportJob, RiskRegistration
from tests.excel.conftest import fixture_bytes, import_households, upload, workbook_bytes

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)  # an encrypted .xlsx is an OLE2 container too
GOOD_ROW = ["城关镇", "金星村（演示）", "6109221000019301", "马兴", "610922196903039811", "户主", 1, 2018, ""]


def households(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Household))


def refused_at_upload(app, browser, content: bytes, name: str = "农户.xlsx", status: int = 422) -> str:
    before = households(app)
    response = upload(browser, "/households/import", content, name, "/households/import")
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
    assert households(app) == before
    return response.get_data(as_text=True)


def refused_by_job(app, browser, content: bytes) -> str:
    before = households(app)
    html = import_households(browser, content).get_data(as_text=True)
    assert "未导入" in html and "已导入" not in html
    assert households(app) == before
    return html


def _xlsx_with(extra: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A real workbook with parts added or replaced, zipped again."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([list(TEMPLATE_COLUMNS), GOOD_ROW])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for info in source.infolist():
            if info.filename not in extra:
                target.writestr(info.filename, source.read(info.filename))
        for name, data in extra.items():
            target.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("content", "name", "message"), [
    (fixture_bytes("national_export.csv"), "农户.xlsx", "上传的文件不是 Excel 工作簿（.xlsx）"),
    (PNG, "农户.xlsx", "上传的文件不是 Excel 工作簿（.xlsx）"),
    (b"PK\x03\x04" + bytes(100), "broken.xlsx", "上传的文件不是 Excel 工作簿（.xlsx）"),
    (fixture_bytes("legacy.xls"), "legacy.xls", "文件已加密或为旧版 .xls 格式"),
    (OLE2, "加密.xlsx", "文件已加密或为旧版 .xls 格式"),
], ids=["csv", "png", "truncated-zip", "legacy-xls-by-libreoffice", "encrypted"])
def test_files_that_are_not_a_plain_xlsx_are_refused(app, county_office, content, name, message):
    assert message in refused_at_upload(app, county_office, content, name)


def test_a_zip_bomb_is_refused_before_it_is_inflated(app, county_office):
    bomb = _xlsx_with({"xl/worksheets/sheet1.xml": b"<worksheet>" + b" " * (30 * 1024 * 1024) + b"</worksheet>"})
    assert len(bomb) < 200_000
    assert "疑似压缩炸弹" in refused_at_upload(app, county_office, bomb)


def test_a_workbook_that_inflates_past_the_limit_is_refused(app, county_office, monkeypatch):
    monkeypatch.setitem(app.config, "EXCEL_MAX_UNCOMPRESSED", 100 * 1024)
    rng = random.Random(3)
    filler = "".join(rng.choice("0123456789") for _ in range(150_000)).encode()  # compresses ~2:1 only
    html = refused_at_upload(app, county_office, _xlsx_with({"xl/media/filler.bin": filler}))
    assert "文件解压后超过 100 KB" in html


def test_xml_with_a_doctype_is_refused(app, county_office):
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><sst>&lol;</sst>'
    assert "DOCTYPE" in refused_at_upload(app, county_office, _xlsx_with({"xl/sharedStrings.xml": laughs}))


def test_an_upload_over_the_size_limit_gets_a_chinese_413_page(app, county_office, monkeypatch):
    content = fixture_bytes("national_export.xlsx")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", len(content) // 2)
    html = refused_at_upload(app, county_office, content, status=413)
    assert "上传的内容过大" in html
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 10 * len(content))
    monkeypatch.setitem(app.config, "HOUSEHOLD_IMPORT_MAX_BYTES", len(content) // 2)
    assert "上传的文件过大（上限" in refused_at_upload(app, county_office, content, status=413)


def test_formulas_where_values_are_expected_are_refused(app, county_office):
    row = list(GOOD_ROW)
    row[6] = "=1+0"  # 家庭人口
    html = refused_by_job(app, county_office, workbook_bytes([list(TEMPLATE_COLUMNS), row], text_columns=(3, 5)))
    assert "第2行G列是公式，请粘贴为数值" in html


def test_merged_cells_in_data_rows_are_refused(app, county_office):
    second = list(GOOD_ROW)
    second[3], second[4], second[5] = "马秀", "610922196903039927", "配偶"
    content = workbook_bytes([list(TEMPLATE_COLUMNS), GOOD_ROW, second], text_columns=(3, 5), merge="C2:C3")
    assert "第2行有合并单元格（C2:C3）" in refused_by_job(app, county_office, content)


def test_too_many_rows_or_columns_are_refused(app, county_office, monkeypatch):
    monkeypatch.setitem(app.config, "EXCEL_MAX_ROWS", 3)
    rows = [list(TEMPLATE_COLUMNS), GOOD_ROW, GOOD_ROW, GOOD_ROW]
    assert "表格行数超过上限（3 行）" in refused_by_job(app, county_office, workbook_bytes(rows))
    monkeypatch.setitem(app.config, "EXCEL_MAX_ROWS", 300_000)
    monkeypatch.setitem(app.config, "EXCEL_MAX_COLUMNS", 5)
    assert "表格列数超过上限（5 列）" in refused_by_job(app, county_office, workbook_bytes(rows))


def test_a_sheet_claiming_a_million_rows_is_refused_without_reading_them(app, county_office):
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([list(TEMPLATE_COLUMNS), GOOD_ROW])))
    sheet = source.read("xl/worksheets/sheet1.xml").replace(b'<dimension ref="A1:I2"/>',
                                                            b'<dimension ref="A1:I1048576"/>')
    assert b"A1:I1048576" in sheet
    assert "表格行数超过上限" in refused_by_job(app, county_office,
                                           _xlsx_with({"xl/worksheets/sheet1.xml": sheet}))


def test_the_roster_upload_refuses_hostile_files_too(app, runner, login_as):
    assert runner.invoke(args=["screenings", "start", "--month", "2026-11"]).exit_code == 0
    team = login_as("chengguan01_team")
    task = team.task("Task_ScreenHouseholds")
    url, page = f"/screenings/{task['screening_id']}/roster", f"/tasks/{task['id']}"
    legacy = upload(team, url, fixture_bytes("legacy.xls"), "附件1.xls", page)
    assert legacy.status_code == 422 and "文件已加密或为旧版 .xls 格式" in legacy.get_data(as_text=True)
    merged = workbook_bytes([
        ["石泉县返贫风险对象花名册（2026年11月）"],
        ["序号", "镇", "村", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "返贫风险类型", "详细原因",
         "包抓干部"],
        [1, "城关镇", "金星村（演示）", "韩飞海", "610922196105180393", 3, 2019, "因重大疾病", "尿毒症", ""],
        [2, "城关镇", "金星村（演示）", "徐平", "610922196306284535", 2, "非贫困户", "因就业不稳", "失业", ""],
    ], text_columns=(5,), merge="H3:H4")
    response = upload(team, url, merged, "附件1.xlsx", page)
    assert response.status_code == 422 and "数据行有合并单元格（H3:H4）" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 0
