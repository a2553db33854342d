"""Departments' lists written by the tests in each department's own columns, and the people who send and read them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Household, Member
from tests.excel.conftest import workbook_bytes


@pytest.fixture(autouse=True)
def _folders(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "IMPORTS_FOLDER", str(tmp_path / "imports"))
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))


def people(app: Flask, village: str = "610922100001") -> list[tuple[str, str, int]]:
    """(name, ID number, household id) of the village's members, household by household."""
    with app.app_context():
        return [(m.name, m.id_number, m.household_id) for m in db.session.scalars(
            select(Member).join(Household).where(Household.village_code == village)
            .order_by(Household.id, Member.id))]


def heads(app: Flask, village: str = "610922100001") -> list[tuple[str, str, int]]:
    """One member of each of the village's households (the first), so that each row is another household."""
    seen: set[int] = set()
    found = []
    for name, number, household in people(app, village):
        if household not in seen:
            seen.add(household)
            found.append((name, number, household))
    return found


def xlsx(rows: list[list[Any]], text_columns: tuple[int, ...] = ()) -> bytes:
    return workbook_bytes(rows, text_columns=text_columns)


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def upload(browser: Any, content: bytes, name: str = "名单.xlsx", month: str = "", expect: int | None = None) -> Any:
    """POST the department's upload form as the browser would (encoded in memory: the test client would spool a
    large body to a temporary file it never closes)."""
    from app.clock import china_today
    from tests.excel.conftest import upload as post_file

    response = post_file(browser, "/departments/uploads", content, name, "/departments",
                         month=month or china_today().strftime("%Y-%m"))
    if expect is not None:
        assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response


YIBAO_HEADER = ["参保人姓名", "身份证号码", "医疗总费用", "报销金额", "个人自付", "结算日期"]
