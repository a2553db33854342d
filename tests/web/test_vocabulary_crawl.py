"""Every page a user of each role reaches by following links speaks Chinese: no English word and no stored code
(a step's id, a status, a decision) in what the page shows, and no full ID number (shown only when asked for, and
logged). A crawl from each role's landing page, following the
links of the pages it reaches (GET only, within the app), with cases at every kind of step to show."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import Browser
from tests.helpers import approve_case, open_case

# Words an official meets in Chinese offices as they are: file formats and the tools' own names. Account names
# (ASCII by nature) and text marked as code (an administrator's process keys) are identifiers, not words.
ALLOWED = {"PDF", "Excel", "ID", "API", "BPMN", "bpmn", "XLSX", "xlsx", "CSV", "QR", "JPEG", "PNG", "WebP", "HEIC",
           "JavaScript", "Camunda", "Modeler"}
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")  # a full 18-character ID number: lists show it masked
SKIPPED_PATHS = ("/logout", "/static/", "/api/", "/declare")  # not a page (or the public form, tested on its own)
# Links that download a file or change something on GET are not followed.
FILE_SUFFIXES = (".xlsx", ".pdf", ".bpmn", ".csv", ".zip", ".png", ".svg", ".json")
MAX_PAGES = 150  # a role's pages; more would repeat the same templates


class _Text(HTMLParser):
    """The text a reader sees (not scripts, styles or attribute values other than titles and placeholders), and
    the page's links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style", "template", "code"):
            self._hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in ("title", "placeholder", "aria-label"):
            if values.get(name):
                self.text.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.text.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "code") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def _english(text: str, usernames: set[str]) -> set[str]:
    words = {w for w in WORD.findall(text) if w not in ALLOWED and w not in usernames}
    return words | {f"完整证件号码 {n[:6]}…" for n in ID_NUMBER.findall(text)}


def crawl(app: Flask, username: str) -> tuple[int, dict[str, set[str]]]:
    """How many pages the user reached, and each that shows English words or codes, with them."""
    browser = Browser(app, username)
    with app.app_context():
        usernames = set(db.session.scalars(select(User.username)))
    usernames |= {part for name in usernames for part in name.split("_")}
    queue, seen, found, pages = deque(["/"]), {"/"}, {}, 0
    while queue and len(seen) <= MAX_PAGES:
        path = queue.popleft()
        response = browser.get(path, follow_redirects=True)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        pages += 1
        parser = _Text()
        parser.feed(response.get_data(as_text=True))
        words = _english(" ".join(parser.text), usernames)
        if words:
            found[path] = words
        for href in parser.links:
            url = urldefrag(urljoin(path, href))[0]
            parts = urlparse(url)
            if parts.netloc or parts.scheme not in ("", "http") or url in seen:
                continue
            if parts.path.startswith(SKIPPED_PATHS) or parts.path.endswith(FILE_SUFFIXES):
                continue
            if "export" in parts.path or "download" in parts.path or "print" in parts.path:
                continue
            seen.add(url)
            queue.append(url)
    return pages, found


@pytest.fixture()
def cases_everywhere(app: Flask) -> Flask:
    """Cases waiting at the town's certification, and at the 公示 after the county's approval."""
    waiting = open_case(app)
    approved = open_case(app, village="610922100002")
    with app.app_context():
        approve_case(approved)
        db.session.commit()
    assert waiting != approved
    return app


@pytest.mark.parametrize(("username", "at_least"), [
    ("chengguan01_team", 30), ("chengguan_certifier", 30), ("chengguan_leader", 30), ("county_office", 60),
    ("supervisor", 60), ("admin", 20),
    ("chengguan01_cadre1", 3),  # no household assigned yet: the inbox, the account, the help
])
def test_no_english_word_or_stored_code_on_any_page_a_role_reaches(cases_everywhere, username, at_least):
    pages, found = crawl(cases_everywhere, username)
    assert pages >= at_least, f"{username} reached only {pages} pages: the crawl proved little"
    assert found == {}, "\n".join(f"{path}: {sorted(words)}" for path, words in sorted(found.items()))
