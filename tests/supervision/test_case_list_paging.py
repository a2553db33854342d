"""The case list picks each page's cases before joining anything: its pages, read one after the other, hold every
matching case once, in the order of the chosen sort, across the turn from cases with a due date to those without."""

from __future__ import annotations

from datetime import date

import pytest

from app.clock import china_moment, travel_to
from app.extensions import db
from app.supervision import cases as case_list
from app.supervision.cases import CaseFilters, case_page
from tests.helpers import complete, open_case, user

REJECT = {"decision": "reject", "opinion": "收入达标，不予认定"}


@pytest.fixture()
def mixed_cases(app) -> list[int]:
    """Three cases waiting with due dates set on different days, and two rejected ones (no task, no due date)."""
    ids = []
    for day, village, index in ((date(2026, 10, 5), "610922100001", 0), (date(2026, 9, 30), "610922100002", 0),
                                (date(2026, 10, 1), "610922101001", 0), (date(2026, 9, 29), "610922100001", 1),
                                (date(2026, 10, 2), "610922101001", 1)):
        with travel_to(china_moment(day)):
            ids.append(open_case(app, village, index))
    with app.app_context():
        complete("chengguan_certifier", "Task_TownCertify", REJECT, ids[3])
        complete("raofeng_certifier", "Task_TownCertify", REJECT, ids[4])
    return ids


def _all_pages(sort: str, per_page: int) -> tuple[list[list[int]], int]:
    supervisor = user("supervisor")
    pages, number = [], 1
    while True:
        listing = case_page(supervisor, CaseFilters(status="all", sort=sort), number, per_page)
        pages.append([r.id for r in listing.rows])
        if not listing.has_next:
            return pages, listing.total
        number += 1


@pytest.mark.parametrize("sort", ["due", "waiting", "updated", "household"])
def test_pages_hold_every_case_once_in_the_sorted_order(app, mixed_cases, sort):
    with app.app_context():
        whole = [r.id for r in case_page(user("supervisor"), CaseFilters(status="all", sort=sort), 1, 50).rows]
        for per_page in (1, 2, 3):
            pages, total = _all_pages(sort, per_page)
            assert [i for page in pages for i in page] == whole
            assert total == len(mixed_cases) and all(len(p) == per_page for p in pages[:-1])
        db.session.rollback()
    assert sorted(whole) == sorted(mixed_cases)


def test_due_order_puts_dated_cases_first_then_the_rest_by_number(app, mixed_cases):
    with app.app_context():
        rows = case_page(user("supervisor"), CaseFilters(status="all", sort="due"), 1, 50).rows
    dated = [r for r in rows if r.due_on]
    assert rows[:len(dated)] == dated
    assert [(r.due_on, r.id) for r in dated] == sorted((r.due_on, r.id) for r in dated)
    assert [r.id for r in rows[len(dated):]] == sorted(r.id for r in rows[len(dated):])
    assert {r.id for r in rows[len(dated):]} == {mixed_cases[3], mixed_cases[4]}


def test_a_long_history_is_counted_up_to_the_cap(app, login_as, mixed_cases, monkeypatch):
    monkeypatch.setattr(case_list.CasePage, "COUNT_CAP", 2)
    html = login_as("supervisor").get("/cases/?status=all").get_data(as_text=True)
    assert "共 2+ 件" in html
    assert "共 2 件" in login_as("supervisor").get("/cases/?status=rejected").get_data(as_text=True)
