"""Journey 7: the main pages as each kind of user sees them, at a desk (1366×900) and on a phone (375×812), kept
as screenshots beside the other journeys' (instance/e2e/<test>/, or $E2E_ARTIFACTS): what reviewers look at.
Each page is checked for its heading, and on the phone for a header that stays a compact bar."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.journey import Journey
from tests.browser.seed import SeededCase

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


def _both_sizes(journey: Journey, name: str, path: str) -> None:
    page = journey.page
    for label, size in (("desk", DESK), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(journey.url(path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")  # diagrams and charts drawn from their JSON
        if label == "phone":
            header = page.get_by_role("banner").bounding_box()
            assert header and header["height"] < 0.15 * PHONE["height"], (path, header)
        journey.shoot(f"{name}-{label}")
    page.set_viewport_size(DESK)


def test_the_main_pages_at_a_desk_and_on_a_phone(journey: Journey, seeded_case: SeededCase) -> None:
    page = journey.page
    page.set_viewport_size(DESK)
    page.goto(journey.url("/login"))
    journey.shoot("login-desk")
    page.set_viewport_size(PHONE)
    journey.shoot("login-phone")
    page.set_viewport_size(DESK)

    journey.log_in("raofeng01_team")
    _both_sizes(journey, "inbox", "/")
    _both_sizes(journey, "screenings", "/screenings/")

    journey.log_in("supervisor")
    _both_sizes(journey, "scoreboard", "/supervision/scoreboard")
    _both_sizes(journey, "cases", "/cases/")
    _both_sizes(journey, "case", f"/cases/{seeded_case.case_id}")
    _both_sizes(journey, "case-diagram", f"/cases/{seeded_case.case_id}/diagram")
    _both_sizes(journey, "heatmap", "/supervision/heatmap")
    _both_sizes(journey, "roster", "/reports/roster")

    journey.log_in("county_office")
    _both_sizes(journey, "county-inbox", "/")
    assert len(journey.shots) == 2 + 2 * 9
