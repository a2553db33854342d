"""One test's browser: a page of a fresh Chromium profile, the live server, and the click paths every journey
shares (log in as someone, open a task from the inbox, submit it), with numbered screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Download, Locator, Page, Request, Route, WebSocketRoute, expect

from tests.browser.live_server import PASSWORD, LiveServer

SUBMITTED = "已提交，流程已流转到下一环节"


@dataclass
class Journey:
    page: Page
    context: BrowserContext
    server: LiveServer
    artifacts: Path
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    # ---- the network: only the app itself ---------------------------------------------------------------

    def guard_network(self) -> None:
        """Every request that is not to the app on 127.0.0.1 is recorded and refused (no CDN, no telemetry)."""
        port = urlsplit(self.server.url).port

        def only_the_app(route: Route, request: Request) -> None:
            target = urlsplit(request.url)
            if target.scheme in ("http", "https") and target.hostname == "127.0.0.1" and target.port == port:
                route.continue_()
            else:
                self.blocked.append(request.url)
                route.abort("blockedbyclient")

        def only_the_app_socket(socket: WebSocketRoute) -> None:
            target = urlsplit(socket.url)
            if target.hostname == "127.0.0.1" and target.port == port:
                socket.connect_to_server()
            else:
                self.blocked.append(socket.url)
                socket.close()

        self.context.route("**/*", only_the_app)
        self.context.route_web_socket(re.compile(".*"), only_the_app_socket)
        self.page.on("pageerror", lambda error: self.page_errors.append(f"{self.page.url}: {error}"))

    # ---- pages ------------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.server.url + path

    def shoot(self, what: str) -> Path:
        """A full-page screenshot, numbered in the order the journey took it."""
        path = self.artifacts / f"{len(self.shots) + 1:02d}-{what}.png"
        self.page.screenshot(path=path, full_page=True)
        self.shots.append(path)
        return path

    def nav(self, name: str) -> None:
        """Follow a link of the top navigation bar (待办 carries the number of waiting tasks)."""
        link = re.compile(rf"^{re.escape(name)}(\s+\d+)?$")
        self.page.get_by_role("banner").get_by_role("navigation").get_by_role("link", name=link).click()

    def main(self) -> Locator:
        return self.page.get_by_role("main")

    def status(self, text: str | re.Pattern[str]) -> Locator:
        """A flash message (role=status) of the page."""
        return self.main().get_by_role("status").filter(has_text=text)

    # ---- who is at the keyboard -------------------------------------------------------------------------

    def log_in(self, username: str) -> None:
        """Leave the current user's session (退出) and log in as `username` on the log-in page."""
        page = self.page
        if page.url.startswith(self.server.url):
            logout = page.get_by_role("banner").get_by_role("button", name="退出")
            if logout.count():
                logout.click()
                expect(self.status("已退出登录")).to_be_visible()
        if "/login" not in page.url:
            page.goto(self.url("/login"))
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        # Whoever holds tasks lands on 我的待办; a supervisor, who holds none, on the supervision scoreboard.
        expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("我的待办|镇村工作评分"))
        expect(page.get_by_role("banner")).to_contain_text("退出")

    # ---- the inbox and task forms -----------------------------------------------------------------------

    def inbox_row(self, task: str, subject: str) -> Locator:
        return (self.main().get_by_role("row").filter(has=self.page.get_by_role("cell", name=task, exact=True))
                .filter(has_text=subject))

    def open_task(self, task: str, subject: str) -> None:
        """From 待办 (followed unless a submit has just landed there), open the task called `task` whose row
        mentions `subject` (a household or a village)."""
        if urlsplit(self.page.url).path != "/":
            self.nav("待办")
        row = self.inbox_row(task, subject)
        expect(row).to_have_count(1)
        row.get_by_role("link", name="办理").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(task)

    def submit(self) -> None:
        """提交 the task form; the inbox answers that the case moved on."""
        self.page.get_by_role("button", name="提交", exact=True).click()
        expect(self.status(SUBMITTED)).to_be_visible()

    def choose(self, label: str) -> None:
        """Tick a radio option (a decision) by its label."""
        self.page.get_by_role("radio", name=label, exact=True).check()

    def download(self, link: Locator) -> tuple[Download, Path]:
        """Click a download link and keep the file beside the screenshots."""
        with self.page.expect_download() as info:
            link.click()
        download = info.value
        path = self.artifacts / download.suggested_filename
        download.save_as(path)
        return download, path
