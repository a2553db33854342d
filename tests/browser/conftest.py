"""Fixtures of the browser journeys: one live server per session (its own database), the distribution's
Chromium, and for each test a fresh profile whose requests may only reach the app, with screenshots under
instance/e2e/<test>/ (or $E2E_ARTIFACTS/<test>/) and a Playwright trace kept when the test fails.

These tests use none of the fixtures of tests/conftest.py: the app runs in its own processes, as `make run`
runs it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Playwright, expect, sync_playwright

from tests.browser.journey import Journey
from tests.browser.live_server import ROOT, LiveServer, serve_for_the_suite
from tests.browser.seed import SeededCase, seed_case

ACTION_TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 20_000
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test (rep_setup, rep_call) for the fixtures' teardown to read."""
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_for_the_suite(tmp_path_factory.mktemp("e2e-server")) as server:
        yield server


@pytest.fixture(scope="session")
def seeded_case(live_server: LiveServer) -> SeededCase:
    """A case of 饶峰镇 waiting for its cadre, made through the JSON API (see seed.py)."""
    return seed_case(live_server)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if not found:
        pytest.fail("Chromium not found (no `chromium` on PATH, no /usr/bin/chromium). The browser journeys drive "
                    "the distribution's Chromium: install it with `apt-get install chromium` (.ci/run does). "
                    "They never download a browser (`playwright install` is not used).", pytrace=False)
    return found


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


def _artifacts_dir(node_name: str) -> Path:
    base = Path(os.environ["E2E_ARTIFACTS"]) if os.environ.get("E2E_ARTIFACTS") else ROOT / "instance" / "e2e"
    directory = base / re.sub(r"[^\w.-]+", "_", node_name)
    shutil.rmtree(directory, ignore_errors=True)  # this run's screenshots only
    directory.mkdir(parents=True)
    return directory


def _failed(node: pytest.Item) -> bool:
    return any(getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


@pytest.fixture()
def journey(request: pytest.FixtureRequest, chromium_executable: str, live_server: LiveServer,
            playwright_driver: Playwright, tmp_path: Path) -> Iterator[Journey]:
    """A fresh Chromium profile on the live server, traced; its only page is the journey's page."""
    artifacts = _artifacts_dir(request.node.name)
    context = playwright_driver.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS,
        accept_downloads=True, downloads_path=tmp_path / "downloads", locale="zh-CN", timezone_id="Asia/Shanghai",
        viewport={"width": 1400, "height": 900}, service_workers="block")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    context.tracing.start(title=request.node.nodeid, screenshots=True, snapshots=True)
    page = context.pages[0] if context.pages else context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    trip = Journey(page=page, context=context, server=live_server, artifacts=artifacts)
    trip.guard_network()
    try:
        yield trip
    finally:
        problems = []
        if trip.blocked:
            problems.append("requests to other hosts than the app were attempted (and refused):\n  "
                            + "\n  ".join(trip.blocked))
        if trip.page_errors:
            problems.append("uncaught script errors on the pages:\n  " + "\n  ".join(trip.page_errors))
        keep_trace = bool(problems) or _failed(request.node)
        context.tracing.stop(path=artifacts / "trace.zip" if keep_trace else None)
        context.close()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
