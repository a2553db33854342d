"""Journey 3: the administrator edits the household case diagram in the web modeler — a user task's time limit
in 本系统设置, a lane renamed to no known role — validation marks the lane's tasks on the diagram, the lane's
role is set back in the panel, validation passes and the new version is deployed and listed."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.journey import Journey

TASK, LANE, LANE_TASK = "Task_TownCertify", "Lane_TownLeadership", "Task_TownLeadershipReview"
ROLE = "镇脱贫攻坚领导小组"
UNKNOWN = "镇扶贫工作小组"
PROBLEM_STROKE = "rgb(217, 45, 32)"  # .rpm-has-problem in the modeler's stylesheet (#d92d20)


def _shape(page: Page, element_id: str) -> Locator:
    return page.locator(f'.djs-element[data-element-id="{element_id}"]')


def _select_lane(page: Page) -> None:
    """A lane is selected by its label band at its left edge (its body lets clicks through to the canvas);
    a click on a lane that is already selected would unselect it."""
    header = page.get_by_label("元素属性").locator(".bio-properties-panel-header")
    if "泳道" not in header.inner_text():
        _shape(page, LANE).locator(".djs-hit-all").click()
    expect(header).to_contain_text("泳道")


# English words of a tooltip, a label or a text of the modeler: names of notations are kept as they are, and so
# are the diagram's and the forms' keys, shown in full-width brackets (镇认定工作组认定（town_certification）).
ENGLISH = re.compile(r"[A-Za-z]{2,}")
KEPT = re.compile(r"\b(BPMN|ID|FEEL|QName|ISO|XML)\b|（[^）]*）|\w+_\w+")
SHOWN_TEXT = """root => {
  const shown = [];
  for (const el of root.querySelectorAll(".djs-palette, .djs-context-pad, .bio-properties-panel, .djs-popup")) {
    for (const node of [el, ...el.querySelectorAll("*")]) {
      for (const name of ["title", "aria-label", "placeholder"]) {
        if (node.getAttribute(name)) shown.push(node.getAttribute(name));
      }
    }
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (!parent.closest("svg, .bio-properties-panel-header-label") && walker.currentNode.nodeValue.trim()) {
        shown.push(walker.currentNode.nodeValue.trim());
      }
    }
  }
  return shown;
}"""


def _english_shown(page: Page) -> list[str]:
    """Tooltips, labels and texts of the palette, context pad, popup menu and properties panel still in English."""
    shown = page.locator("[data-modeler]").evaluate(SHOWN_TEXT)
    return sorted({text for text in shown if ENGLISH.search(KEPT.sub("", text))})


def _select(page: Page, element_id: str | None) -> None:
    page.evaluate("""id => { const modeler = window.rpmModeler.modeler;
        modeler.get("selection").select(id ? modeler.get("elementRegistry").get(id) : null); }""", element_id)


def _open_every_group(panel: Locator) -> None:
    closed = panel.locator(".bio-properties-panel-group-header:not(.open)")
    for _ in range(closed.count()):
        closed.first.click()
    expect(closed).to_have_count(0)


def _the_modeler_speaks_chinese(journey: Journey) -> None:
    """The controls the issue named — the palette's lasso, a panel group's 'Toggle section', a FEEL field's 'Open
    pop-up editor' — and every other tooltip and label shown for a task, a lane, a condition and the process."""
    page = journey.page
    panel = page.get_by_label("元素属性")
    lasso = page.locator('.djs-palette .entry[data-action="lasso-tool"]')
    expect(lasso).to_have_attribute("aria-label", re.compile("套索"))
    _shape(page, TASK).click()
    toggles = panel.locator("button.bio-properties-panel-group-header-button")
    expect(toggles.first).to_have_attribute("title", "展开/收起本组")
    _open_every_group(panel)  # so every entry's tooltips are drawn
    assert (english := _english_shown(page)) == [], english
    _select(page, "Flow_TownCertified")  # a condition (a click on a thin line could land on the task's pad)
    expect(panel.locator(".bio-properties-panel-header")).to_contain_text("顺序流")
    _open_every_group(panel)
    popups = panel.locator("button.bio-properties-panel-open-feel-popup")
    for button in popups.all():
        expect(button).to_have_attribute("title", "在弹出窗口中编辑")
    assert (english := _english_shown(page)) == [], english
    journey.shoot("modeler-in-chinese")
    _select(page, None)  # nothing selected: the diagram's collaboration
    expect(panel.locator(".bio-properties-panel-header")).to_contain_text("协作")  # the pools of the diagram
    assert (english := _english_shown(page)) == [], english


def _process_section(journey: Journey) -> Locator:
    heading = journey.page.get_by_role("heading", level=2, name=re.compile("household_case"))
    return journey.main().locator("section").filter(has=heading)


def test_administrator_edits_validates_and_deploys_a_diagram(journey: Journey) -> None:
    page = journey.page
    journey.log_in("admin")
    journey.nav("流程管理")
    section = _process_section(journey)
    expect(section.get_by_role("row").filter(has_text="第 1 版")).to_contain_text("当前")
    journey.shoot("processes")

    section.get_by_role("link", name="在线编辑当前版本").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("编辑流程")
    panel = page.get_by_label("元素属性")
    message = page.locator("[data-modeler-message]")
    problems = page.locator("[data-modeler-problems] li")
    _the_modeler_speaks_chinese(journey)

    # 本系统设置 of a user task: its time limit in working days.
    _shape(page, TASK).click()
    expect(panel.get_by_text("本系统设置")).to_be_visible()
    limit = panel.get_by_label("办理时限（工作日）")
    expect(limit).to_have_value("5")
    # 400 is outside 1–365: the panel says so, and 校验 (which saves first) is refused naming the task.
    limit.fill("400")
    expect(panel.get_by_text("请填写 1 到 365 之间的整数")).to_be_visible()
    page.get_by_role("button", name="校验", exact=True).click()
    expect(message).to_contain_text("办理时限 400 应在 1 到 365 个工作日之间")
    expect(message).to_contain_text("镇认定工作组认定")
    expect(page.locator(f'.djs-element.rpm-has-problem[data-element-id="{TASK}"]')).to_have_count(1)
    journey.shoot("time-limit-400-refused")
    limit.fill("7")
    expect(page.get_by_role("status").filter(has_text="有未保存的修改")).to_be_visible()
    journey.shoot("time-limit-changed")

    # A lane renamed to no known role: the panel says so, 校验 marks the lane's task on the diagram.
    _select_lane(page)
    name = panel.get_by_label("名称", exact=True)
    if not name.is_visible():
        panel.get_by_text("常规", exact=True).click()  # the panel's 常规 group starts folded
    expect(name).to_have_value(ROLE)
    name.fill(UNKNOWN)
    expect(_shape(page, LANE)).to_contain_text(UNKNOWN)
    expect(panel.get_by_label("角色").locator("option:checked")).to_contain_text("未知角色")
    page.get_by_role("button", name="校验", exact=True).click()
    expect(message).to_contain_text("校验未通过")
    expect(problems.filter(has_text=f"所在泳道“{UNKNOWN}”不是已知角色")).not_to_have_count(0)
    marked = page.locator(f'.djs-element.rpm-has-problem[data-element-id="{LANE_TASK}"]')
    expect(marked).to_have_count(1)
    expect(marked.locator(".djs-visual > :nth-child(1)")).to_have_css("stroke", PROBLEM_STROKE)
    expect(page.locator(f'.djs-overlays[data-container-id="{LANE_TASK}"] .rpm-problem-badge')).to_be_visible()
    journey.shoot("validation-marks-the-lane-task")

    # Fixed in the panel: the lane's role again; clean validation; deploy.
    _select_lane(page)
    panel.get_by_label("角色").select_option(label=ROLE)
    expect(_shape(page, LANE)).to_contain_text(ROLE)
    page.get_by_role("button", name="校验", exact=True).click()
    expect(message).to_have_text("校验通过：可以部署。")
    expect(page.locator(".djs-element.rpm-has-problem")).to_have_count(0)
    expect(problems).to_have_count(0)
    journey.shoot("validation-passes")
    page.get_by_role("button", name="部署", exact=True).click()  # confirms the dialog (accepted)
    expect(message).to_contain_text("已部署为第 2 版")
    journey.shoot("deployed")

    # The process page lists version 2 as current, deployed by the administrator; the diff names the task.
    message.get_by_role("link", name="查看版本列表").click()
    section = _process_section(journey)
    version_2 = section.get_by_role("row").filter(has_text="第 2 版")
    expect(version_2).to_contain_text("当前")
    expect(version_2).not_to_contain_text("系统初始化")
    expect(section.get_by_role("row").filter(has_text="第 1 版")).to_contain_text("历史")
    journey.shoot("new-version-listed")
    version_2.get_by_role("link", name="与上一版比较").click()
    changed = journey.main().locator("section").filter(has=page.get_by_role("heading", name="差异"))
    expect(changed.get_by_role("listitem").filter(has_text="镇认定工作组认定")).to_contain_text("5 → 7")
    journey.shoot("diff")
