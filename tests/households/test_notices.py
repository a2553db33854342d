"""Printable notices through HTTP: a village's 公示 (certification results) and 公告 (closures) list exactly its
households in that phase, with the posting once posted, and never an ID number, phone or reason."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.households.idnumber import masked_id
from app.models import Household
from tests.conftest import today
from tests.helpers import approve_case, complete, plan_measures
from tests.households import households_of, screen_village

VILLAGE = "610922100001"
OTHER_VILLAGE = "610922100002"
REASON = "患尿毒症长期透析"  # a health detail: must never reach a posted notice


def post_notice(case_id: int, period_days: int = 7, location: str = "村委会公示栏") -> None:
    complete("chengguan01_team", "Task_PostNotice", {"posted_on": today().isoformat(), "period_days": period_days,
                                                     "location": location}, case_id)


def to_announcement(case_id: int) -> None:
    """From a filed measure plan to the closure announcement (公告) waiting to be posted."""
    from app.models import Measure

    measure_ids = db.session.scalars(select(Measure.id).where(Measure.case_id == case_id))
    results: dict[str, Any] = {}
    for index, measure_id in enumerate(measure_ids):
        results.update({f"results-{index}-measure_id": measure_id, f"results-{index}-result": "已落实",
                        f"results-{index}-completed_on": today().isoformat()})
    complete("chengguan01_cadre1", "Task_CarryOutMeasures", results, case_id)
    complete("chengguan01_team", "Task_ApplyClosure", {"applied_on": today().isoformat(),
                                                       "income_per_capita": "8600", "summary": "达标"}, case_id)
    complete("chengguan_certifier", "Task_TownAcceptance", {"decision": "accept", "opinion": "验收合格"}, case_id)
    complete("county_office", "Task_CountyRecheck", {"decision": "confirm", "opinion": "复核达标"}, case_id)


@pytest.fixture()
def village(app) -> dict[str, Any]:
    """Village 1: households 0 and 1 in 公示 (1 already posted), household 2 in 公告, the rest not listed.
    Village 2: household 0 in 公示."""
    waiting, posted, closing = screen_village(app, VILLAGE, [0, 1, 2], reason=REASON)
    (elsewhere,) = screen_village(app, OTHER_VILLAGE, [0], reason=REASON)
    with app.app_context():
        approve_case(waiting)
        approve_case(posted, risk_level="returned")
        post_notice(posted)
        approve_case(closing)
        plan_measures(closing, [{"content": "公益岗位", "measure_type": "public_welfare_job",
                                 "responsible_unit": "镇政府", "deadline": today().isoformat()}])
        to_announcement(closing)
        approve_case(elsewhere)
        homes = households_of(VILLAGE)
        other = households_of(OTHER_VILLAGE)
        return {"names": [h.head_name for h in homes], "sizes": [h.size for h in homes],
                "other_name": other[0].head_name,
                "secrets": _secrets(homes + other), "cases": (waiting, posted, closing)}


def _secrets(households: list[Household]) -> list[str]:
    """What a posted notice must never show: every ID number (full and masked) and phone of the households."""
    found = [REASON]
    for h in households:
        found += [h.head_id_number, masked_id(h.head_id_number), h.head_id_number[-6:]]
        found += [p for p in (h.phone,) if p]
        for m in h.members:
            found += [m.id_number, masked_id(m.id_number)]
    return found


def _rows(html: str) -> list[list[str]]:
    body = html[html.index('<table class="notice-table">'):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def pdf_text(data: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (from the embedded font's own character map)."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout \
        .decode("utf-8")


def pdf_fonts(data: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """pdffonts' table: name, type, encoding, emb, sub, uni per font."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(data)
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout.splitlines()
    found = []
    for line in lines[2:]:
        fields = line.split()
        found.append({"name": fields[0], "emb": fields[-5], "sub": fields[-4], "uni": fields[-3]})
    return found


def inked_share(data: bytes, tmp_path: Path) -> list[float]:
    """Each page rendered by poppler (pdftoppm, greyscale): the share of its pixels that carry ink."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", "-", str(tmp_path / "page")], input=data, check=True)
    shares = []
    for page in sorted(tmp_path.glob("page-*.png")):
        with Image.open(page) as image:
            histogram = image.convert("L").histogram()
        shares.append(sum(histogram[:128]) / sum(histogram))
    return shares


def _no_secrets(output: str, village: dict[str, Any], patterns: bool = True) -> None:
    for secret in village["secrets"]:
        assert secret not in output
    if not patterns:  # raw PDF bytes: hex strings and offsets are digit runs of their own
        return
    assert not re.search(r"\d{17}[\dX]", output), "an 18-character ID number is on the notice"
    assert not re.search(r"1[3-9]\d{9}", output), "a mobile phone number is on the notice"


def test_the_publicity_notice_lists_the_village_households_in_publicity(login_as, village):
    page = login_as("chengguan01_team").get(f"/notices/{VILLAGE}?kind=publicity")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    names = village["names"]
    assert "石泉县城关镇" in html and "返贫监测对象认定结果公示" in html
    rows = _rows(html)
    assert [row[1] for row in rows] == [names[0], names[1]]
    assert [row[3] for row in rows] == [f"{n}人" for n in village["sizes"][:2]]
    assert rows[0][2] == ""  # 村民小组: left for handwriting
    assert [row[4] for row in rows] == ["返贫（致贫）风险户", "返贫户（新致贫户）"]
    # Household 1 was posted (today, 7 days); household 0 waits to be posted.
    start = today()
    assert rows[0][5] == "尚未张贴"
    assert rows[1][5].startswith(start.strftime("%Y.%m.%d")) and "（7天）" in rows[1][5]
    if village["other_name"] not in names[:2]:  # the other village's household in 公示 is not on this list
        assert village["other_name"] not in [row[1] for row in rows]
    assert "监督电话" in html and "如对公示结果有异议" in html and "（盖章）" in html
    _no_secrets(html, village)


def test_once_every_household_is_posted_the_period_prints_once(app, login_as, village):
    with app.app_context():
        post_notice(village["cases"][0])
    html = login_as("chengguan_certifier").get(f"/notices/{VILLAGE}?kind=publicity").get_data(as_text=True)
    start = today()
    end = start.fromordinal(start.toordinal() + 6)
    assert f"公示期：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日（7天）" in html
    assert "张贴地点：村委会公示栏" in html
    assert all(len(row) == 5 for row in _rows(html))  # no per-household period column


def test_the_announcement_lists_the_households_being_closed(app, login_as, village):
    browser = login_as("county_office")
    html = browser.get(f"/notices/{VILLAGE}?kind=announcement").get_data(as_text=True)
    assert "返贫监测对象销号公告" in html and "销号结果" in html
    assert [row[1] for row in _rows(html)] == [village["names"][2]]
    assert _rows(html)[0][4] == "销号" and _rows(html)[0][5] == "尚未张贴"
    _no_secrets(html, village)
    with app.app_context():
        post_notice(village["cases"][2], period_days=10, location="村口宣传栏")
    html = browser.get(f"/notices/{VILLAGE}?kind=announcement").get_data(as_text=True)
    assert "（10天）" in html and "张贴地点：村口宣传栏" in html
    # The announcement's posting is not the 公示 one: the 公示 list does not carry it.
    assert village["names"][2] not in [row[1] for row in _rows(
        browser.get(f"/notices/{VILLAGE}?kind=publicity").get_data(as_text=True))]
    _no_secrets(html, village)


@pytest.mark.parametrize("kind", ["publicity", "announcement"])
def test_the_pdf_carries_the_same_list_and_no_secret(login_as, village, kind, tmp_path):
    response = login_as("chengguan01_team").get(f"/notices/{VILLAGE}.pdf?kind={kind}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    listed = [0, 1] if kind == "publicity" else [2]
    for index in listed:
        assert village["names"][index] in text
    assert ("认定结果公示" if kind == "publicity" else "销号公告") in text
    assert "监督电话" in text and "村民委员会（盖章）" in text
    _no_secrets(text, village)


def test_the_pdf_carries_its_own_chinese_font(login_as, village, tmp_path):
    """A village office prints from whatever viewer it has: the face is embedded (a subset), never left to the
    viewer, and every page prints ink, not blank or boxes."""
    data = login_as("chengguan01_team").get(f"/notices/{VILLAGE}.pdf?kind=publicity").get_data()
    fonts = pdf_fonts(data, tmp_path)
    assert fonts, "no font in the PDF"
    for font in fonts:
        assert font["emb"] == "yes" and font["sub"] == "yes" and font["uni"] == "yes", fonts
        assert "CJK" in font["name"] or "Song" in font["name"] or "Hei" in font["name"], fonts
    shares = inked_share(data, tmp_path)
    assert len(shares) == 1
    assert shares[0] > 0.005, "the page rendered blank"


def test_a_long_list_runs_over_pages_with_the_header_and_page_numbers(tmp_path):
    from app.notices.lists import KINDS, Notice, NoticeRow
    from app.notices.pdf import find_font, render_notice_pdf

    rows = [NoticeRow(f"王{index}", 3, "返贫（致贫）风险户", None) for index in range(60)]
    rows[3] = NoticeRow("张𠀀", 4, "返贫（致贫）风险户", None)  # a rare character the face may lack
    data = render_notice_pdf(Notice(KINDS["publicity"], "石泉县", "城关镇", "金星村", VILLAGE, rows), find_font(None))
    text = pdf_text(data)
    pages = [page.replace(" ", "") for page in text.split("\f")]
    assert "第1页共3页" in pages[0] and "第3页共3页" in pages[2]
    assert all("户主姓名" in page for page in pages[:2])  # the header repeats on each page of the table
    assert all(f"王{index}" in text for index in range(4, 60))
    assert "张𠀀" in text or "张？" in text  # printed, or marked to be written in by hand: never dropped
    assert all(share > 0.005 for share in inked_share(data, tmp_path))


def test_without_a_chinese_font_the_pdf_is_refused_with_a_reason(app, login_as, village):
    app.config["NOTICE_FONT_FILE"] = "/nonexistent/font.ttc"
    try:
        response = login_as("chengguan01_team").get(f"/notices/{VILLAGE}.pdf?kind=publicity")
    finally:
        app.config["NOTICE_FONT_FILE"] = None
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "没有可嵌入的中文字体" in page and "fonts-noto-cjk" in page


@pytest.mark.parametrize("username,status", [
    ("chengguan01_team", 200),
    ("chengguan_certifier", 200),
    ("chengguan_leader", 200),
    ("county_office", 200),
    ("supervisor", 200),
    ("chengguan02_team", 403),     # another village
    ("raofeng_certifier", 403),    # another town
    ("chengguan01_cadre1", 403),   # cadres carry out measures; they do not post notices
])
def test_only_the_village_its_town_and_the_county_print_its_notices(login_as, village, username, status):
    browser = login_as(username)
    for kind in ("publicity", "announcement"):
        assert browser.get(f"/notices/{VILLAGE}?kind={kind}").status_code == status
        assert browser.get(f"/notices/{VILLAGE}.pdf?kind={kind}").status_code == status


def test_unknown_villages_and_kinds_are_refused(login_as):
    browser = login_as("county_office")
    assert browser.get("/notices/610922999999").status_code == 404
    assert browser.get("/notices/610922100").status_code == 404  # a town, not a village
    assert browser.get(f"/notices/{VILLAGE}?kind=roster").status_code == 422


def test_the_case_page_and_the_village_case_list_link_to_the_notice(login_as, village):
    browser = login_as("chengguan01_team")
    case_page = browser.get(f"/cases/{village['cases'][0]}").get_data(as_text=True)
    assert f"/notices/{VILLAGE}?kind=publicity" in case_page
    case_list = browser.get("/cases/").get_data(as_text=True)
    assert f"/notices/{VILLAGE}?kind=publicity" in case_list
    assert f"/notices/{VILLAGE}?kind=announcement" in case_list

