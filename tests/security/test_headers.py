"""Security headers on every kind of answer, and no inline script anywhere the CSP would have to allow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.excel.test_annex_exports import month

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _assert_secure(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"] == CSP


def test_pages_carry_the_security_headers(client, login_as):
    _assert_secure(client.get("/login"))
    page = login_as("county_office").get("/cases/")
    assert page.status_code == 200
    _assert_secure(page)


def test_api_answers_carry_the_security_headers(client, api):
    _assert_secure(api("county_office").get("/api/v1/me"))
    _assert_secure(client.get("/api/v1/tasks"))  # refusals too


def test_downloads_carry_the_security_headers(login_as):
    response = login_as("county_office").get(f"/reports/roster.xlsx?month={month()}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    _assert_secure(response)


def test_static_files_carry_the_security_headers(client):
    response = client.get("/static/js/behaviours.js")
    try:
        _assert_secure(response)
    finally:
        response.close()


# <script> without src= (but <script type="application/json"> data blocks are fine: they do not run),
# on…= event handler attributes and javascript: URLs would all be blocked by script-src 'self'.
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=""", re.I | re.S)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script(path: Path):
    html = path.read_text(encoding="utf-8")
    for match in SCRIPT_TAG.finditer(html):
        attributes = match.group(1)
        assert "src=" in attributes or re.search(r"""type=["']application/json["']""", attributes), (
            f"inline <script> in {path.name}: move it to app/static/js/")
    assert not HANDLER.search(html), f"inline event handler (on…=) in {path.name}"
    assert not JS_URL.search(html), f"javascript: URL in {path.name}"
