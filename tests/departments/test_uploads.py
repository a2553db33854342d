"""部门筛查预警: a department uploads its monthly list in its own columns; rows are matched to the registry's members
by ID number (checked with its check character); a household whose row meets a warning rule becomes a department
lead for its village team, deduplicated against open leads and cases; a household under monitoring gets a note on
its case instead. A file with a malformed row stores nothing; the same file again changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.clock import china_moment, travel_to
from app.extensions import db
from app.households.idnumber import check_character
from app.models import Comment, DepartmentRecord, DepartmentUpload, ReadyTask, RiskLead
from tests.departments.conftest import YIBAO_HEADER, csv_bytes, heads, upload, xlsx

DAY = date(2026, 11, 20)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _leads(app) -> list[RiskLead]:
    with app.app_context():
        rows = db.session.scalars(select(RiskLead).order_by(RiskLead.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _unknown_id() -> str:
    first17 = "61092219800101777"
    return first17 + check_character(first17)


def test_a_medical_insurance_list_makes_leads_of_the_rows_over_the_yearly_amount(app, login_as):
    (a_name, a_id, a_household), (b_name, b_id, _), *_ = heads(app)
    rows = [YIBAO_HEADER,
            [a_name, a_id, 52000, 40000, 12000, "2026-11-03"],
            [b_name, b_id, 2000, 1700, 300, "2026/11/5"],
            ["外县人", _unknown_id(), 8000, 6000, 2000, "2026年11月8日"]]
    with travel_to(china_moment(DAY, 10)):
        answer = upload(login_as("department_yibao"), xlsx(rows, text_columns=(2,)), expect=303)
        page = login_as("department_yibao").get(answer.headers["Location"]).get_data(as_text=True)
    assert "共 3 行，匹配农户 2 行，未匹配 1 行" in page and "新风险线索 1 条" in page
    assert "农户库中没有该证件号码" in page and _unknown_id() not in page  # listed, masked
    [lead] = _leads(app)
    assert (lead.channel, lead.source, lead.source_detail, lead.household_id) == (
        "department_warning", "yibao", "县医疗保障局", a_household)
    assert lead.risk_types == ["illness"] and lead.status == "open" and lead.discovered_on == DAY
    assert lead.evidence["rows"][0]["out_of_pocket"] == "12000.00"
    assert lead.evidence["rows"][0]["rules"][0]["key"] == "yibao_out_of_pocket_year"
    assert "本年累计 12000.00 元" in lead.description
    with app.app_context():
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("lead", lead.id)))
        assert task.bpmn_id == "Task_VerifyAtHome" and task.village_code == lead.village_code
        records = db.session.scalars(select(DepartmentRecord).order_by(DepartmentRecord.row_number)).all()
        assert [(r.row_number, r.lead_id is not None) for r in records] == [(2, True), (3, False)]
    assert any(t["bpmn_id"] == "Task_VerifyAtHome" for t in login_as("chengguan01_team").inbox())
    listed = login_as("county_office").get("/leads?channel=department_warning").get_data(as_text=True)
    assert lead.receipt_no in listed and "县医疗保障局" in listed


def test_out_of_pocket_spending_adds_up_over_the_year(app, login_as):
    (name, number, household), *_ = heads(app)
    with travel_to(china_moment(date(2026, 10, 20), 10)):
        upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, [name, number, 9000, 3000, 6000, "2026-10-09"]],
                                                  (2,)), month="2026-10", expect=303)
    assert _leads(app) == []
    with travel_to(china_moment(DAY, 10)):
        upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, [name, number, 20000, 15000, 5000, "2026-11-02"]],
                                                  (2,)), expect=303)
    [lead] = _leads(app)
    assert lead.household_id == household and "本年累计 11000.00 元" in lead.description


def test_a_household_with_an_open_lead_or_case_gets_no_second_one(app, login_as):
    from tests.helpers import open_case

    (a_name, a_id, a_household), (b_name, b_id, b_household), *_ = heads(app)
    with travel_to(china_moment(DAY, 10)):
        case_id = open_case(app, household_index=_index_of(app, b_household))
        upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, [a_name, a_id, 50000, 30000, 20000, "2026-11-03"]],
                                                  (2,)), month="2026-11", expect=303)
        first = _leads(app)
        assert len(first) == 1 and first[0].status == "open"
        # Next, the same household again (another settlement) and the one under monitoring.
        answer = upload(login_as("department_yibao"), xlsx([YIBAO_HEADER,
                                                            [a_name, a_id, 30000, 10000, 20000, "2026-11-18"],
                                                            [b_name, b_id, 90000, 50000, 40000, "2026-11-10"]], (2,)),
                        month="2026-11", expect=303)
        page = login_as("department_yibao").get(answer.headers["Location"]).get_data(as_text=True)
    assert "并入在办线索 1 条，在监测户案件备注 1 户" in page
    leads = _leads(app)
    assert [lead.status for lead in leads] == ["open", "merged"] and leads[1].merged_into_id == leads[0].id
    with app.app_context():
        note = db.session.scalar(select(Comment).where(Comment.case_id == case_id))
        assert note is not None and "部门预警：县医疗保障局" in note.text and "40000.00" in note.text
    assert "部门预警：县医疗保障局" in login_as("county_office").get(f"/cases/{case_id}").get_data(as_text=True)


def _index_of(app, household_id: int) -> int:
    from tests.departments.conftest import heads as village_heads

    return [h for _n, _i, h in village_heads(app)].index(household_id)


@pytest.mark.parametrize("problem, row, message", [
    ("a forged check character", 1, "校验位错误"),
    ("an amount in words", 4, "“一万二”不是有效的金额（元）"),
    ("a date in words", 5, "“下月初”不是有效的日期"),
    ("an empty required cell", 4, "不能为空"),
])
def test_a_list_with_a_malformed_row_stores_nothing_and_names_the_row(app, login_as, problem, row, message):
    (a_name, a_id, _), (b_name, b_id, _), *_ = heads(app)
    good = [a_name, a_id, 52000, 40000, 12000, "2026-11-03"]
    bad = [b_name, b_id, 52000, 40000, 12000, "2026-11-03"]
    if problem == "a forged check character":
        bad[1] = b_id[:17] + ("0" if b_id[17] != "0" else "1")
    elif problem == "an amount in words":
        bad[4] = "一万二"
    elif problem == "a date in words":
        bad[5] = "下月初"
    else:
        bad[4] = None
    with travel_to(china_moment(DAY, 10)):
        answer = upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, good, bad], (2,)), expect=422)
    page = answer.get_data(as_text=True)
    assert "未导入任何一行" in page and "第3行" in page and message in page
    assert _count(app, DepartmentUpload) == 0 and _count(app, DepartmentRecord) == 0 and _leads(app) == []


def test_a_formula_or_an_id_number_stored_as_a_number_is_refused(app, login_as):
    (a_name, a_id, _), (b_name, b_id, _), *_ = heads(app)
    rows = [YIBAO_HEADER, [a_name, a_id, 52000, 40000, "=C2-D2", "2026-11-03"],
            [b_name, int(b_id[:15]), 1000, 900, 100, "2026-11-03"]]
    with travel_to(china_moment(DAY, 10)):
        page = upload(login_as("department_yibao"), xlsx(rows), expect=422).get_data(as_text=True)
    assert "第2行 个人自付：是公式，请粘贴为数值后再上传" in page
    assert "第3行 身份证号码：证件号码被存成了数字" in page
    assert _count(app, DepartmentUpload) == 0


def test_the_same_file_again_and_the_same_rows_in_another_file_change_nothing(app, login_as):
    (a_name, a_id, _), *_ = heads(app)
    rows = [YIBAO_HEADER, [a_name, a_id, 52000, 40000, 12000, "2026-11-03"]]
    yibao = login_as("department_yibao")
    content = xlsx(rows, (2,))
    with travel_to(china_moment(DAY, 10)):
        first = upload(yibao, content, expect=303)
        yibao.get(first.headers["Location"])
        again = upload(yibao, content, expect=303)
        assert again.headers["Location"] == first.headers["Location"]
        assert "该文件已于 2026-11-20 上传过" in yibao.get(again.headers["Location"]).get_data(as_text=True)
        resaved = upload(yibao, csv_bytes(rows), name="名单.csv", expect=303)
        page = yibao.get(resaved.headers["Location"]).get_data(as_text=True)
    assert "其中 1 行此前已导入" in page
    assert len(_leads(app)) == 1 and _count(app, DepartmentRecord) == 1 and _count(app, DepartmentUpload) == 2


def test_a_gbk_csv_as_chinese_offices_save_it_is_read(app, login_as):
    (a_name, a_id, _), *_ = heads(app)
    content = csv_bytes([["姓名", "证件号码", "个人自付"], [a_name, a_id, "12,500.00"]], encoding="gbk")
    with travel_to(china_moment(DAY, 10)):
        upload(login_as("department_yibao"), content, name="11月名单.csv", expect=303)
    [lead] = _leads(app)
    assert "12500.00" in lead.description


def test_wrong_columns_are_named_and_a_saved_mapping_reads_the_departments_own(app, login_as):
    (a_name, a_id, _), *_ = heads(app)
    own = [["患者", "证件", "自付部分"], [a_name, a_id, 15000]]
    yibao = login_as("department_yibao")
    with travel_to(china_moment(DAY, 10)):
        refused = upload(yibao, xlsx(own, (2,)), expect=422).get_data(as_text=True)
        assert "找不到表头" in refused or "找不到" in refused
        assert _count(app, DepartmentUpload) == 0
        saved = yibao.post("/departments/mapping", {"name": "患者", "id_number": "证件", "out_of_pocket": "自付部分"},
                           page="/departments/mapping")
        assert saved.status_code == 303
        upload(yibao, xlsx(own, (2,)), expect=303)
        form = yibao.get("/departments/mapping").get_data(as_text=True)
        assert 'value="自付部分"' in form
        missing = yibao.post("/departments/mapping", {"name": "患者", "id_number": ""}, page="/departments/mapping")
        assert missing.status_code == 422
        assert "请填写“证件号码”在本部门表格中的列名" in missing.get_data(as_text=True)
    assert len(_leads(app)) == 1


def test_the_template_carries_the_departments_headers(app, login_as):
    import io

    from openpyxl import load_workbook

    response = login_as("department_minzheng").get("/departments/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[3]] == ["姓名", "证件号码", "救助类别", "变动情况", "变动日期"]
    assert login_as("county_office").get("/departments/template.xlsx").status_code == 403


def test_too_many_rows_and_a_zip_bomb_are_refused_without_storing(app, login_as, tmp_path):
    from tests.excel.bombs import shared_strings_bomb

    app.config["DEPARTMENT_LIST_MAX_ROWS"] = 1000
    try:
        (a_name, a_id, _), *_ = heads(app)
        rows = [["姓名", "证件号码", "个人自付"]] + [[a_name, a_id, 1]] * 1200
        with travel_to(china_moment(DAY, 10)):
            page = upload(login_as("department_yibao"), csv_bytes(rows), name="名单.csv",
                          expect=422).get_data(as_text=True)
            assert "名单超过 1,000 行，已拒绝" in page
            bomb = shared_strings_bomb(tmp_path / "bomb.xlsx").read_bytes()
            page = upload(login_as("department_yibao"), bomb, expect=422).get_data(as_text=True)
            assert "已拒绝" in page
    finally:
        app.config.pop("DEPARTMENT_LIST_MAX_ROWS", None)
    assert _count(app, DepartmentUpload) == 0 and _count(app, DepartmentRecord) == 0


def test_a_department_sees_only_its_own_lists(app, login_as):
    (a_name, a_id, _), *_ = heads(app)
    with travel_to(china_moment(DAY, 10)):
        answer = upload(login_as("department_yibao"), xlsx([YIBAO_HEADER, [a_name, a_id, 1, 1, 1, "2026-11-03"]],
                                                         (2,)), expect=303)
    url = answer.headers["Location"]
    assert login_as("department_minzheng").get(url).status_code == 403
    assert "县医疗保障局" not in login_as("department_minzheng").get("/departments").get_data(as_text=True).split(
        "上传的名单")[1]
    assert login_as("county_office").get(url).status_code == 200
    assert login_as("supervisor").get(url).status_code == 200
    assert login_as("chengguan01_team").get(url).status_code == 403
    refused = login_as("county_office").client.post("/departments/uploads", data={})
    assert refused.status_code in (400, 403)
    assert re.search(r"县医疗保障局", login_as("county_office").get("/departments").get_data(as_text=True))


def test_a_list_longer_than_one_statement_is_matched_whole(app, login_as, monkeypatch):
    """Members, known rows, year totals and households are read a statement's worth of values at a time (an array
    parameter on PostgreSQL, an IN list on SQLite) and the records written in bulk (COPY on PostgreSQL): with two
    values a statement, every row of a seven-row list is still matched, totalled, stored and deduplicated."""
    monkeypatch.setattr("app.bulk.SQLITE_CHUNK", 2)
    monkeypatch.setattr("app.bulk.POSTGRES_CHUNK", 2)
    people = heads(app)[:6]
    assert len(people) == 6
    spending = [12000, 300, 9000, 400, 15000, 200]  # over the yearly 10,000 yuan: the 1st, 3rd (with row 8), 5th
    rows = [YIBAO_HEADER, *([name, number, amount * 4, amount * 3, amount, "2026-11-03"]
                            for (name, number, _household), amount in zip(people, spending, strict=True))]
    rows.append([people[2][0], people[2][1], 8000, 2000, 2000, "2026-11-09"])  # a second visit: 11,000 this year
    yibao = login_as("department_yibao")
    with travel_to(china_moment(DAY, 10)):
        upload(yibao, xlsx(rows, (2,)), expect=303)
        resaved = upload(yibao, csv_bytes(rows[:4] + [[people[5][0], people[5][1], 900, 500, 400, "2026-11-20"]]),
                         name="补报.csv", expect=303)
        page = yibao.get(resaved.headers["Location"]).get_data(as_text=True)
    assert "其中 3 行此前已导入" in page
    with app.app_context():
        records = db.session.scalars(select(DepartmentRecord).order_by(DepartmentRecord.id)).all()
        assert len(records) == 8 and len({r.fingerprint for r in records}) == 8
        assert records[0].data and records[0].rules == ["yibao_out_of_pocket_year"]
        assert [r.rules != [] for r in records[:7]] == [True, False, True, False, True, False, True]
    assert sorted(lead.household_id for lead in _leads(app)) == sorted(people[i][2] for i in (0, 2, 4))
