"""The journeys' proof that pages load nothing from the internet rests on the network guard: it has to see and
refuse a request to another host, or an empty list of refused requests would prove nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error

from tests.browser.journey import Journey

CDN = "https://cdn.jsdelivr.net/npm/bpmn-js/dist/bpmn-viewer.production.min.js"


def test_requests_to_other_hosts_are_seen_and_refused(journey: Journey) -> None:
    page = journey.page
    page.goto(journey.url("/login"))
    # The app's own pages could not even try (their CSP allows only 'self'), so the browser goes there itself.
    with pytest.raises(Error, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto(CDN)
    assert journey.blocked == [CDN]
    journey.blocked.clear()  # expected here; any refused request fails the journey that made it
