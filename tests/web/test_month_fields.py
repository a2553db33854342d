"""Month fields work without the browser's own month picker (issue 26): no page has <input type=month> (a bare
text box in Firefox and 360's compatibility mode); each has the YYYY-MM text box behaviours.js turns into 年/月
lists, and the forms take month=YYYY-MM as before."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Screening

MONTH_FIELD = re.compile(r'<input type="text"[^>]* name="month" value="(\d{4}-\d{2})"[^>]* data-month-picker[^>]*'
                         r'pattern="\[0-9\]\{4\}-\(0\[1-9\]\|1\[0-2\]\)"')


@pytest.mark.parametrize(("username", "url"), [
    ("county_office", "/screenings/?month=2026-03"),
    ("supervisor", "/supervision/scoreboard?month=2026-03"),
    ("county_office", "/reports/roster?month=2026-03"),
    ("county_office", "/reports/ledger?month=2026-03"),
    ("county_office", "/exchange"),
    ("department_yibao", "/departments"),
])
def test_every_month_field_is_a_picker_that_needs_no_native_support(app, login_as, username, url):
    page = login_as(username).get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    assert 'type="month"' not in html
    fields = MONTH_FIELD.findall(html)
    assert fields, f"{url} has no month field of templates/_month.html"
    if "month=" in url:
        assert set(fields) == {"2026-03"}  # the month asked for, as YYYY-MM


def test_a_month_chosen_as_yyyy_mm_starts_the_screening_of_that_month(app, login_as):
    county = login_as("county_office")
    answer = county.post("/screenings/start", {"month": "2030-01"}, page="/screenings/")
    assert answer.status_code == 302
    page = county.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已启动 2030-01 月度排查" in page and 'value="2030-01"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screening).where(Screening.month == "2030-01")) > 0
