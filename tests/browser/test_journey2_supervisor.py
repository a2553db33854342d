"""Journey 2: the county headquarters (supervisor, read-only) follows a case of one town to where it waits on
its diagram, looks at the heatmap and the scoreboard, and downloads 附件1 and 附件2 as Excel."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Locator, expect

from tests.browser.journey import Journey
from tests.browser.seed import TOWN, SeededCase

TOWN_NAME = "饶峰镇"
WAITING_TASK = "Task_CarryOutMeasures"  # 落实帮扶措施, the cadre's


def _rows(path: Path) -> list[tuple[object, ...]]:
    """Every row of the workbook's first sheet, as the cells' values."""
    book = load_workbook(path, read_only=True)
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def _assert_annex(path: Path, title: str, case: SeededCase, *also: str) -> None:
    """The annex's title on top, and the household on exactly one row with its ID number as text."""
    rows = _rows(path)
    assert any(isinstance(cell, str) and title in cell for row in rows[:3] for cell in row), (title, rows[:3])
    found = [row for row in rows if case.head_name in row]
    assert len(found) == 1, f"{case.head_name} should be on one row of {path.name}: {found}"
    assert case.head_id_number in found[0], f"the ID number should be written in full, as text: {found[0]}"
    for text in also:
        assert any(isinstance(cell, str) and text in cell for cell in found[0]), (text, found[0])


def _scale(diagram: Locator) -> float:
    """The diagram's zoom: the scale of its viewport's transform (bpmn-js's canvas.viewbox().scale)."""
    return float(diagram.locator("g.viewport").evaluate("g => g.transform.baseVal.consolidate().matrix.a"))


def _inside(inner: Locator, outer: Locator) -> bool:
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a and b
    return (a["x"] >= b["x"] and a["y"] >= b["y"] and a["x"] + a["width"] <= b["x"] + b["width"]
            and a["y"] + a["height"] <= b["y"] + b["height"])


def _the_path_is_readable_zoomable_and_starts_at_the_current_step(journey: Journey, current: Locator) -> None:
    """Issue 26 item 5: not squeezed to the page's width, the current step in view, zoom and pan."""
    page = journey.page
    diagram = page.locator(".diagram", has=current)
    expect(diagram).to_have_attribute("data-diagram-ready", "")
    start = _scale(diagram)
    assert start >= 0.9, f"the path should start at a readable size, not squeezed (scale {start})"
    assert _inside(current, diagram), "the current step should be in view at start"
    journey.shoot("case-path-at-start")
    controls = diagram.get_by_role("group", name="流程图缩放")
    controls.get_by_role("button", name="放大").click()
    assert _scale(diagram) > start
    controls.get_by_role("button", name="缩小").click()
    controls.get_by_role("button", name="缩小").click()
    assert _scale(diagram) < start
    controls.get_by_role("button", name="显示整个流程图").click()
    whole = _scale(diagram)
    assert whole < start
    # The viewer's own: Ctrl + wheel zooms where the pointer is, a drag pans.
    box = diagram.bounding_box()
    assert box
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*middle)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    page.wait_for_function("""([selector, whole]) => document.querySelector(selector)
        .transform.baseVal.consolidate().matrix.a > whole""",
                           arg=[f".diagram:has(.current[data-element-id={WAITING_TASK}]) g.viewport", whole])
    before = current.bounding_box()
    page.mouse.down()
    page.mouse.move(middle[0] + 120, middle[1] + 40, steps=8)
    page.mouse.up()
    after = current.bounding_box()
    assert before and after and after["x"] - before["x"] > 60, (before, after)


def _a_month_is_chosen_from_the_picker(journey: Journey) -> None:
    """督查考核's 月份 is 年 and 月 lists (no browser month picker needed); the page asks for month=YYYY-MM."""
    page, main = journey.page, journey.main()
    expect(main.locator('input[type="month"]')).to_have_count(0)
    year = main.get_by_role("combobox", name="月份（年）")
    month = main.get_by_role("combobox", name="月份（月）")
    year.select_option(value="2025")
    month.select_option(label="3 月")
    main.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(r"[?&]month=2025-03\b"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("2025")
    expect(main.get_by_role("combobox", name="月份（年）")).to_have_value("2025")
    expect(main.get_by_role("combobox", name="月份（月）")).to_have_value("03")


def test_supervisor_follows_a_case_and_downloads_the_annexes(journey: Journey, seeded_case: SeededCase) -> None:
    page, main = journey.page, journey.main()
    journey.log_in("supervisor")
    expect(page.get_by_role("heading", level=1)).to_contain_text("镇村工作评分")  # where a supervisor lands
    expect(page.get_by_role("navigation").get_by_role("link", name="待办")).to_have_count(0)

    # 案件: one town's cases, then the case and where it waits.
    journey.nav("案件")
    page.get_by_label("镇", exact=True).select_option(label=TOWN_NAME)
    page.get_by_role("button", name="筛选").click()
    rows = main.get_by_role("row").filter(has=page.get_by_role("cell", name=TOWN_NAME, exact=True))
    expect(rows.filter(has_text=seeded_case.head_name)).to_have_count(1)
    expect(main.get_by_role("row").filter(has=page.get_by_role("cell", name="城关镇", exact=True))).to_have_count(0)
    journey.shoot("cases-of-one-town")
    main.get_by_role("link", name=seeded_case.head_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"案件 #{seeded_case.case_id}")
    expect(main).to_contain_text("落实帮扶措施")
    journey.shoot("case")

    page.get_by_role("link", name="在流程图上查看办理路径").click()
    current = page.locator(f'.djs-element.current[data-element-id="{WAITING_TASK}"]')
    expect(current).to_have_count(1)
    # The marker class is drawn: the shape's outline in the diagram's "current" orange (app.css).
    expect(current.locator(".djs-visual > :nth-child(1)")).to_have_css("stroke", "rgb(216, 67, 21)")
    expect(page.locator(".djs-element.current")).to_have_count(1)
    expect(page.locator('.djs-element.done[data-element-id="Task_TownCertify"]')).to_have_count(1)
    expect(main).to_contain_text("当前：落实帮扶措施")
    _the_path_is_readable_zoomable_and_starts_at_the_current_step(journey, current)
    journey.shoot("case-path-on-diagram")

    # 热力图: the case waits at its cadre's step; the step's badge leads to the cases waiting there.
    journey.nav("热力图")
    badge = page.locator(f'.djs-overlays[data-container-id="{WAITING_TASK}"] a.heat')
    expect(badge).to_contain_text("件等待")
    waiting = main.get_by_role("row").filter(has=page.get_by_role("link", name="落实帮扶措施", exact=True))
    assert int(waiting.get_by_role("cell").nth(1).inner_text()) >= 1
    journey.shoot("heatmap")
    badge.click()
    expect(main.get_by_role("link", name=seeded_case.head_name, exact=True)).to_be_visible()

    # 督查考核: the town has an open case.
    journey.nav("督查考核")
    expect(page.get_by_role("heading", level=1)).to_contain_text("镇村工作评分")
    town_row = main.locator(f'tr[data-unit="{TOWN}"]')
    expect(town_row).to_contain_text(TOWN_NAME)
    assert int(town_row.locator(".open-cases").inner_text()) >= 1
    journey.shoot("scoreboard")
    _a_month_is_chosen_from_the_picker(journey)

    # 花名册台账: 附件1 and 附件2 of the town, on screen and as Excel.
    journey.nav("花名册台账")
    page.get_by_label("范围").select_option(value=TOWN)
    page.get_by_role("button", name="查看").click()
    expect(main.get_by_role("row").filter(has_text=seeded_case.head_name)).to_have_count(1)
    title = page.get_by_role("heading", level=1).inner_text()
    assert "返贫风险对象花名册" in title
    journey.shoot("roster")
    _, roster = journey.download(page.get_by_role("link", name="下载 Excel（附件1）"))
    assert roster.name.startswith("附件1_") and roster.suffix == ".xlsx"
    _assert_annex(roster, title, seeded_case, "因重大疾病", seeded_case.village_name)

    page.get_by_role("link", name="附件2 帮扶措施台账").click()
    expect(main.get_by_role("row").filter(has_text=seeded_case.head_name)).to_contain_text(seeded_case.measure)
    title = page.get_by_role("heading", level=1).inner_text()
    assert "帮扶措施台账" in title
    journey.shoot("ledger")
    _, ledger = journey.download(page.get_by_role("link", name="下载 Excel（附件2）"))
    assert ledger.name.startswith("附件2_") and ledger.suffix == ".xlsx"
    _assert_annex(ledger, title, seeded_case, seeded_case.measure)
