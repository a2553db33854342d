"""Journey 4: the team of the neighbouring village sees nothing of a case that is not theirs — not in the inbox,
not in the case list, not by search — and typing the case's or its task's address gets the refusal page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.journey import Journey
from tests.browser.seed import SeededCase

OUTSIDER = "raofeng02_team"  # same town as the case (饶峰镇), another village
REFUSED = "您无权访问此页面"


def test_another_village_cannot_reach_the_case(journey: Journey, seeded_case: SeededCase) -> None:
    page, main = journey.page, journey.main()
    case_links = page.locator(f'a[href="/cases/{seeded_case.case_id}"], a[href="/tasks/{seeded_case.task_id}"]')

    journey.log_in(OUTSIDER)
    expect(main).not_to_contain_text(seeded_case.head_name)
    expect(case_links).to_have_count(0)
    journey.shoot("inbox")

    journey.nav("案件")
    page.get_by_label("状态").select_option(label="全部状态")
    page.get_by_label("搜索").fill(seeded_case.head_name)
    page.get_by_role("button", name="筛选").click()
    expect(main).to_contain_text("没有符合条件的案件")
    expect(case_links).to_have_count(0)
    journey.shoot("case-list")

    for what, path in [("case", f"/cases/{seeded_case.case_id}"),
                       ("diagram", f"/cases/{seeded_case.case_id}/diagram"),
                       ("task", f"/tasks/{seeded_case.task_id}")]:
        response = page.goto(journey.url(path))
        assert response is not None and response.status == 403, (path, response and response.status)
        expect(page.get_by_role("heading", level=1)).to_have_text(REFUSED)
        expect(main).not_to_contain_text(seeded_case.head_name)
        journey.shoot(f"refused-{what}")
