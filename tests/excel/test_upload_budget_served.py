"""Through HTTP, as the app is served: two bomb uploads at once while a third client completes tasks. The
completions keep succeeding, and both uploads end refused with nothing stored."""

from __future__ import annotations

import http.cookiejar
import io
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.browser.live_server import PASSWORD, LiveServer, serve_for_the_suite
from tests.browser.seed import seed_case
from tests.conftest import CSRF_RE
from tests.excel import bombs

REFUSED = "文件过大或结构异常，已拒绝："


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve_for_the_suite(tmp_path_factory.mktemp("bomb-server")) as live:
        yield live


class WebSession:
    """A logged-in browser session over real HTTP (cookies, CSRF tokens, redirects followed)."""

    def __init__(self, server: LiveServer, username: str) -> None:
        self.url = server.url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        token = self._token("/login")
        self.open("/login", urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                                     "csrf_token": token}).encode(),
                  "application/x-www-form-urlencoded")

    def open(self, path: str, body: bytes | None = None, content_type: str | None = None) -> Any:
        request = urllib.request.Request(path if path.startswith("http") else self.url + path, data=body)
        if content_type:
            request.add_header("Content-Type", content_type)
        return self.opener.open(request, timeout=60)

    def _token(self, path: str) -> str:
        with self.open(path) as page:
            match = CSRF_RE.search(page.read().decode())
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def import_file(self, content: bytes, name: str) -> str:
        """Upload to the household import and follow the job page until it stops refreshing; its text."""
        file = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
        boundary, body = encode_multipart(MultiDict({"csrf_token": self._token("/households/import"), "file": file}))
        with self.open("/households/import", body, f"multipart/form-data; boundary={boundary}") as answer:
            job_url = answer.geturl()
            html = answer.read().decode()
            refresh = answer.headers.get("Refresh")
        assert "/households/import/jobs/" in job_url, html[:2000]
        deadline = time.monotonic() + 120
        while refresh:
            assert time.monotonic() < deadline, "the import job did not end within 120 s"
            time.sleep(0.2)
            with self.open(job_url) as page:
                html, refresh = page.read().decode(), page.headers.get("Refresh")
        return html


def household_count(server: LiveServer) -> int:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM household")).scalar_one())
    finally:
        engine.dispose()


def test_two_bomb_uploads_at_once_leave_the_server_serving_and_both_end_refused(server, tmp_path):
    shared_strings = bombs.shared_strings_bomb(tmp_path / "strings.xlsx", megabytes=100).read_bytes()
    empty_rows = bombs.sheet_rows(tmp_path / "rows.xlsx", 320_000, dimension="A1:I2", header=bombs.HEADER).read_bytes()
    households_before = household_count(server)
    uploaders = [WebSession(server, "county_office"), WebSession(server, "admin")]
    pages: dict[int, str] = {}
    failures: list[BaseException] = []

    def upload(index: int, content: bytes) -> None:
        try:
            pages[index] = uploaders[index].import_file(content, f"农户{index}.xlsx")
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(0, shared_strings)),
               threading.Thread(target=upload, args=(1, empty_rows))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    # The third client walks a household from screening to a filed measure plan (eleven task completions and the
    # reads between them) over the JSON API while both uploads are being read.
    seeded = seed_case(server)
    walk_seconds = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=180)
    assert not failures, failures
    assert seeded.case_id > 0 and walk_seconds < 60
    for index, message in ((0, "共享字符串部分解压后 100 MB，超过上限 64 MB"), (1, "表格行数超过上限（300,000 行）")):
        text = re.sub(r"<[^>]+>", "", pages[index])
        assert "未导入" in text and message in text, text[:3000]
    assert pages[0].count(REFUSED) >= 1
    assert household_count(server) == households_before
