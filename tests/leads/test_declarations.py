"""风险线索 from 农户自主申报 (the national mechanism's first channel): a resident declares hardship for their own
household on a public phone page and follows it with a receipt number; staff record declarations made by
telephone (12317), in writing or in person. Every report is kept; one for a household with an open lead or case
joins it. Bad input — a forged or malformed ID number, a household not in the registry, a flood from one address —
gets a clear message and stores nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.households.idnumber import check_character
from app.models import Event, Household, Member, PublicSubmission, RiskLead
from tests.conftest import CSRF_RE
from tests.helpers import open_case

VILLAGE = "610922100001"


class Resident:
    """Someone with a phone and no account: the public page, its CSRF token and nothing else."""

    def __init__(self, app, address: str = "10.1.2.3") -> None:
        self.client = app.test_client()
        self.address = address

    def _token(self, url: str) -> str:
        page = self.client.get(url, environ_base={"REMOTE_ADDR": self.address})
        assert page.status_code == 200
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match
        return match.group(1)

    def declare(self, **fields):
        data = {"csrf_token": self._token(f"/declare?village={VILLAGE}"), "urgency": "normal", **fields}
        return self.client.post("/declare", data=data, environ_base={"REMOTE_ADDR": self.address})

    def look_up(self, receipt_no: str, id_tail: str):
        data = {"csrf_token": self._token("/declare/status"), "receipt_no": receipt_no, "id_tail": id_tail}
        return self.client.post("/declare/status", data=data, environ_base={"REMOTE_ADDR": self.address})


def member_of(app, village: str = VILLAGE, index: int = 0) -> tuple[int, str, str]:
    """(household id, name, ID number) of a member of one of the village's households."""
    with app.app_context():
        member = db.session.scalars(select(Member).join(Household).where(Household.village_code == village)
                                    .order_by(Household.id, Member.id)).all()[index]
        return member.household_id, member.name, member.id_number


def declaration(name: str, id_number: str, **more) -> dict:
    return {"name": name, "id_number": id_number, "phone": "13800138000", "risk_types": "illness",
            "description": "父亲突发脑梗住院，自付医疗费用约六万元", **more}


def leads(app) -> list[RiskLead]:
    with app.app_context():
        rows = db.session.scalars(select(RiskLead).order_by(RiskLead.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_resident_declares_for_their_household_and_follows_it_with_the_receipt_number(app):
    household_id, name, number = member_of(app)
    resident = Resident(app)
    answer = resident.declare(**declaration(name, number))
    assert answer.status_code == 201
    receipt = re.search(r"<strong>(FP[0-9A-Z]{8})</strong>", answer.get_data(as_text=True)).group(1)
    [lead] = leads(app)
    assert (lead.receipt_no, lead.channel, lead.source, lead.household_id) == (receipt, "self_declared", "web",
                                                                               household_id)
    assert lead.status == "open" and lead.risk_types == ["illness"] and lead.recorded_by_id is None

    found = resident.look_up(receipt.lower(), number[-4:])
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and receipt in page and "村工作队将在规定时限内入户核实" in page
    assert name not in page and number not in page  # the status says where it stands, nothing about the household
    wrong = resident.look_up(receipt, "0000" if number[-4:] != "0000" else "1111")
    assert wrong.status_code == 404 and "后四位不符" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "lead_declared")) == 1


@pytest.mark.parametrize("id_number, message", [
    ("110105194912310021", "校验位不符"),  # a forged check character (the right one is X)
    ("11010519491231002", "应为 18 位"),
    ("110105194913310027", "出生日期无效"),
])
def test_a_forged_or_malformed_id_number_is_refused_and_nothing_stored(app, id_number, message):
    _, name, _ = member_of(app)
    answer = Resident(app).declare(**declaration(name, id_number))
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert leads(app) == []


def test_a_household_not_in_the_registry_or_a_name_that_does_not_match_is_refused_alike(app):
    _, name, number = member_of(app)
    stranger = "11010519491231002X"  # valid, but nobody of the county
    assert check_character(stranger[:17]) == "X"
    for fields in (declaration(name, stranger), declaration("张冒名", number)):
        answer = Resident(app).declare(**fields)
        assert answer.status_code == 422 and "未找到与姓名和证件号码相符的农户" in answer.get_data(as_text=True)
    assert leads(app) == []


def test_missing_answers_are_named_on_the_form(app):
    _, name, number = member_of(app)
    answer = Resident(app).declare(**declaration(name, number, phone="12345", description="", risk_types="flood"))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "请填写能联系到您的手机号" in page and "请简要说明遇到的困难" in page and "请选择困难类型" in page
    assert leads(app) == []


def test_a_flood_of_declarations_from_one_address_is_refused(app):
    app.config["PUBLIC_DECLARATIONS_PER_HOUR"] = 3
    try:
        resident = Resident(app, "10.9.9.9")
        for index in range(3):
            _, name, number = member_of(app, index=index * 3)
            assert resident.declare(**declaration(name, number)).status_code in (201, 422)
        _, name, number = member_of(app, index=12)
        refused = resident.declare(**declaration(name, number))
        assert refused.status_code == 429 and "提交过于频繁" in refused.get_data(as_text=True)
        assert len(leads(app)) <= 3
        # Another address is not held up by this one.
        assert Resident(app, "10.9.9.10").declare(**declaration(name, number)).status_code == 201
    finally:
        app.config.pop("PUBLIC_DECLARATIONS_PER_HOUR")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PublicSubmission)) == 4  # the refused one: not


def test_a_declaration_without_the_forms_token_is_refused(app):
    _, name, number = member_of(app)
    answer = app.test_client().post("/declare", data=declaration(name, number))
    assert answer.status_code == 400 and leads(app) == []


def test_a_second_report_joins_the_open_lead_and_a_household_in_monitoring_keeps_its_case(app):
    household_id, name, number = member_of(app)
    resident = Resident(app)
    assert resident.declare(**declaration(name, number)).status_code == 201
    again = resident.declare(**declaration(name, number, description="住院费用又增加了两万元"))
    assert again.status_code == 201
    first, second = leads(app)
    assert second.status == "merged" and second.merged_into_id == first.id
    assert "已并入一并办理" in resident.look_up(second.receipt_no, number[-4:]).get_data(as_text=True)

    case_id = open_case(app, "610922100002")
    with app.app_context():
        from app.models import Case

        case = db.session.get(Case, case_id)
        monitored = db.session.scalars(select(Member).where(Member.household_id == case.household_id)).first()
        monitored_name, monitored_number = monitored.name, monitored.id_number
    assert resident.declare(**declaration(monitored_name, monitored_number)).status_code == 201
    joined = leads(app)[-1]
    assert joined.status == "merged" and joined.open_case_id == case_id and joined.merged_into_id is None


def test_staff_record_a_12317_call_for_a_household_of_their_area(app, login_as):
    household_id, name, number = member_of(app)
    team = login_as("chengguan01_team")
    search = team.get(f"/leads/new?q={number}").get_data(as_text=True)
    assert f"/leads/new?household_id={household_id}" in search
    form = {"household_id": household_id, "source": "hotline_12317", "reporter_name": "王邻居",
            "reporter_phone": "0915-6321234", "discovered_on": "2026-12-01", "risk_types": "disaster",
            "description": "房屋后坡滑坡，厨房倒塌", "urgency": "urgent", "member_id": ""}
    saved = team.post("/leads/new", form, page=f"/leads/new?household_id={household_id}")
    assert saved.status_code == 303
    [lead] = leads(app)
    assert (lead.channel, lead.source, lead.urgency, lead.declarant_id_tail) == ("self_declared", "hotline_12317",
                                                                                 "urgent", "")
    listing = team.get("/leads").get_data(as_text=True)
    assert lead.receipt_no in listing and "12317 热线" in listing and "因自然灾害" in listing
    # Another town's team sees none of it, and cannot record for the household.
    other = login_as("raofeng01_team")
    assert lead.receipt_no not in other.get("/leads").get_data(as_text=True)
    assert other.post("/leads/new", form, page="/leads/new").status_code == 403
    assert len(leads(app)) == 1


def test_a_staff_record_with_bad_fields_is_refused_with_each_field_named(app, login_as):
    household_id, _, _ = member_of(app)
    team = login_as("chengguan01_team")
    refused = team.post("/leads/new", {"household_id": household_id, "source": "app", "reporter_name": "",
                                       "reporter_phone": "1", "discovered_on": "2099-01-01", "description": "x"},
                        page=f"/leads/new?household_id={household_id}")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    for message in ("请选择申报方式", "请填写申报人姓名", "申报日期不能晚于今天", "请选择困难类型"):
        assert message in page, message
    assert leads(app) == []


def test_the_village_notice_board_sheet_carries_the_declaration_pages_qr_code(app, login_as):
    sheet = login_as("chengguan01_team").get(f"/leads/qr/{VILLAGE}")
    html = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and "<svg" in html and f"/declare?village={VILLAGE}" in html and "12317" in html
    assert login_as("raofeng01_team").get(f"/leads/qr/{VILLAGE}").status_code == 403
    assert login_as("chengguan01_team").get("/leads/qr/610922999999").status_code == 404


def test_a_household_whose_member_declared_can_still_be_imported_again_and_the_receipt_still_works(
        app, runner, tmp_path):
    """Re-importing the registry replaces a household's member rows; a lead keeps what it needs without them."""
    from app.households.importer import TEMPLATE_COLUMNS
    from tests.excel.conftest import DATA, workbook_bytes

    assert runner.invoke(args=["households", "import", str(DATA / "national_export.xlsx")]).exit_code == 0
    with app.app_context():
        household = db.session.scalar(select(Household).where(Household.household_no == "6109221000019001"))
        spouse = next(m for m in household.members if m.relation == "配偶")
        head = next(m for m in household.members if m.relation == "户主")
        names = (head.name, head.id_number, spouse.name, spouse.id_number)
    resident = Resident(app)
    assert resident.declare(**declaration(names[2], names[3])).status_code == 201
    receipt = leads(app)[-1].receipt_no
    changed = tmp_path / "changed.xlsx"
    changed.write_bytes(workbook_bytes([
        list(TEMPLATE_COLUMNS),
        ["城关镇", "金星村（演示）", "6109221000019001", names[0], names[1], "户主", 2, 2017, ""],
        ["城关镇", "金星村（演示）", "6109221000019001", names[2], names[3], "配偶", 2, 2017, ""],
    ], text_columns=(3, 5)))
    result = runner.invoke(args=["households", "import", str(changed)])
    assert result.exit_code == 0 and "updated 1" in result.output, result.output
    assert "入户核实" in resident.look_up(receipt, names[3][-4:]).get_data(as_text=True)


def test_one_ipv6_subscriber_is_one_address_for_the_rate_limit():
    from app.leads.operations import _client_key

    assert _client_key("2409:8a00:1:2:aaaa::1") == _client_key("2409:8a00:1:2:ffff:1:2:3") == "2409:8a00:1:2::/64"
    assert _client_key("2409:8a00:1:3::1") != _client_key("2409:8a00:1:2::1")
    assert _client_key("::ffff:10.1.2.3") == _client_key("10.1.2.3") == "10.1.2.3"


def test_the_county_filters_its_leads_by_channel_and_by_town_or_village(app, login_as):
    for village in (VILLAGE, "610922101001"):
        _, name, number = member_of(app, village=village)
        assert Resident(app, f"10.7.{village[-4:-3]}.{village[-1]}").declare(
            **declaration(name, number)).status_code == 201
    office = login_as("county_office")
    first, second = leads(app)

    def listed(query: str) -> set[str]:
        html = office.get(f"/leads?{query}").get_data(as_text=True)
        return {lead.receipt_no for lead in (first, second) if lead.receipt_no in html}

    assert listed("") == {first.receipt_no, second.receipt_no}
    assert listed("area=610922100") == {first.receipt_no}
    assert listed("area=610922101001") == {second.receipt_no}
    assert listed("channel=cadre_screening") == set()
    assert listed("channel=self_declared&area=610922101") == {second.receipt_no}
    page = office.get("/leads").get_data(as_text=True)
    assert 'name="channel"' in page and "饶峰镇" in page
