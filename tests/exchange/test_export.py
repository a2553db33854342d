"""按国家系统格式导出: the monitoring roster and the month's changes in the national system's columns, one row per
person (head first), the county's risk types as the national codes; the file reads back into the reconciliation
without a difference."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from app.clock import china_today
from app.exchange.export import CHANGE_COLUMNS, COLUMNS
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.models import Case, Member
from tests.exchange.conftest import count, reconcile
from tests.helpers import approve_case, close_case, open_case, plan_measures
from tests.national.steps import COUNTY, case_row, eliminate, monitored_case


def sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    book = load_workbook(BytesIO(response.data), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def by_household(rows: list[tuple[Any, ...]], header: tuple[Any, ...]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        record = dict(zip(header, row, strict=True))
        grouped.setdefault(record["户编号"], []).append(record)
    return grouped


def members_of(app, case_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        case = db.session.get(Case, case_id)
        members = db.session.query(Member).filter(Member.household_id == case.household_id).all()
        return sorted((m.id_number, m.relation) for m in members)


def test_the_roster_travels_in_the_national_columns_and_reads_back_without_a_difference(app, login_as):
    county_case = open_case(app, household_index=3)  # 意外事故 (the county's accident)
    with app.app_context():
        approve_case(county_case)
    national_case = monitored_case(app, login_as, days_ago=40)
    office = login_as(COUNTY)

    rows = sheet_rows(office.get("/exchange/roster.xlsx?state=monitored"))
    header, body = rows[0], rows[1:]
    assert header == tuple(c.header for c in COLUMNS)
    households = by_household(body, header)
    county_row = case_row(app, county_case)
    national_row = case_row(app, national_case)
    assert set(households) == {county_row.household.household_no, national_row.household.household_no}

    county_people = households[county_row.household.household_no]
    assert county_people[0]["与户主关系"] == "户主"  # head first
    assert sorted((p["证件号码"], p["与户主关系"]) for p in county_people) == members_of(app, county_case)
    first = county_people[0]
    assert first["县"] == "石泉县" and first["人数"] == len(county_people)
    assert first["致贫原因"] == "因意外事故"
    expected = "脱贫不稳定户" if county_row.household.kind == "lifted" else "边缘易致贫户"
    assert first["易返贫致贫户(监测对象)类型"] == expected
    assert first["户类型"] == ("脱贫户" if county_row.household.kind == "lifted" else "一般农户")
    assert first["风险是否消除"] == "否" and first["风险识别时间"].date() == china_today()
    assert first["风险消除时间"] is None

    national_people = households[national_row.household.household_no]
    assert national_people[0]["易返贫致贫户(监测对象)类型"] == MONITORING_CATEGORIES[national_row.category]
    assert national_people[0]["风险识别时间"].date() == national_row.identified_on
    assert national_people[0]["致贫原因"]  # the lead's national risk types, in the national words

    # Read back: the registry and the cases agree with every household of it.
    page = reconcile(office, office.get("/exchange/roster.xlsx?state=monitored").data, name="roster.xlsx")
    assert (count(page, "new"), count(page, "changed"), count(page, "conflicting")) == (0, 0, 0)
    assert count(page, "unchanged") == 2


def test_the_months_changes_list_identifications_eliminations_and_reversals(app, login_as):
    county_case = open_case(app, household_index=3)
    with app.app_context():
        approve_case(county_case)
        plan_measures(county_case, [{"content": "发放临时救助", "measure_type": "temporary_relief",
                                     "responsible_unit": "县民政局", "deadline": china_today().isoformat()}])
        close_case(county_case)
    assert case_row(app, county_case).status == "closed"
    national_case = monitored_case(app, login_as)
    eliminate(app, login_as, national_case)
    eliminated_on = case_row(app, national_case).eliminated_on
    office = login_as(COUNTY)
    page = f"/cases/{national_case}"
    assert office.post(f"/cases/{national_case}/elimination-reversal",
                       {"reason": "县级抽查发现该户务工收入未实际到账，风险未消除"}, page=page).status_code == 303

    month = china_today().strftime("%Y-%m")
    rows = sheet_rows(office.get(f"/exchange/changes.xlsx?month={month}"))
    header = rows[0]
    assert header == tuple(c.header for c in CHANGE_COLUMNS)
    heads = [dict(zip(header, row, strict=True)) for row in rows[1:] if row[header.index("与户主关系")] == "户主"]
    county_no = case_row(app, county_case).household.household_no
    national_no = case_row(app, national_case).household.household_no
    changes = sorted((h["户编号"], h["变动类型"]) for h in heads)
    assert changes == sorted([(county_no, "新识别纳入监测"), (county_no, "风险消除"),
                              (national_no, "风险消除"), (national_no, "回退（恢复监测）")])
    closed = next(h for h in heads if h["户编号"] == county_no and h["变动类型"] == "风险消除")
    assert closed["风险是否消除"] == "是" and closed["风险消除时间"].date() == china_today()
    withdrawn = next(h for h in heads if h["户编号"] == national_no and h["变动类型"] == "风险消除")
    assert withdrawn["变动日期"].date() == eliminated_on
    assert withdrawn["风险是否消除"] == "否"  # reverted: monitored again

    # Another month has none of them; a month that is not one is refused.
    assert len(sheet_rows(office.get("/exchange/changes.xlsx?month=2020-01"))) == 1
    bad = office.get("/exchange/changes.xlsx?month=2026-13")
    assert bad.status_code == 422 and "月份格式应为" in bad.get_data(as_text=True)


def test_a_county_case_is_identified_on_its_latest_approval_and_not_while_an_objection_is_upheld(app):
    """风险识别时间 of the county procedure: the county office's approval; an objection upheld in the 公示 sends the
    case back to the town, unidentified, until the county approves again."""
    from datetime import date

    from app.clock import china_moment, travel_to
    from tests.helpers import uphold_publicity_objection

    with travel_to(china_moment(date(2026, 3, 2))):
        case_id = open_case(app)
    with app.app_context():
        with travel_to(china_moment(date(2026, 3, 5))):
            approve_case(case_id)
            assert db.session.get(Case, case_id).identified_on == date(2026, 3, 5)
        uphold_publicity_objection(case_id, date(2026, 3, 5), date(2026, 3, 12))
        db.session.expire_all()
        assert db.session.get(Case, case_id).identified_on is None
        with travel_to(china_moment(date(2026, 4, 2))):
            approve_case(case_id)
            db.session.expire_all()
            assert db.session.get(Case, case_id).identified_on == date(2026, 4, 2)
