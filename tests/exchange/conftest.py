"""The national system's export, written by the tests in its own columns from the registry as the demo county holds
it, and the county office that reconciles it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Household, Member
from tests.excel.conftest import follow_job, upload, workbook_bytes

# The national system's export, as its columns are named (../shared/docs/national-rules.md §d).
NATIONAL_HEADER = ["县", "乡(镇)", "行政村", "户编号", "人编号", "姓名", "证件号码", "与户主关系", "人数", "脱贫年度",
                   "户类型", "易返贫致贫户(监测对象)类型", "风险是否消除", "风险识别时间", "风险消除时间"]
TEXT_COLUMNS = (4, 5, 7)  # 户编号, 人编号, 证件号码
TOWN = "610922100"


@pytest.fixture(autouse=True)
def _folders(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORTS_FOLDER", str(folder))
    return folder


@dataclass
class Person:
    name: str
    id_number: str
    relation: str
    person_no: str = ""


@dataclass
class NationalHousehold:
    """One household as the national system exports it; its state columns empty unless a test sets them."""

    town: str
    village: str
    household_no: str
    kind: str
    lifted_year: int | None
    people: list[Person]
    category: str = ""
    eliminated: str = ""
    identified_on: Any = ""
    eliminated_on: Any = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[list[Any]]:
        kind = "脱贫户" if self.kind == "lifted" else "一般农户"
        return [["石泉县", self.town, self.village, self.household_no, p.person_no, p.name, p.id_number, p.relation,
                 len(self.people), self.lifted_year or "", kind, self.category, self.eliminated, self.identified_on,
                 self.eliminated_on] for p in self.people]


def registry(app: Flask, town: str = TOWN) -> list[NationalHousehold]:
    """The town's households as the registry holds them, in the national system's words, head first."""
    with app.app_context():
        names = {code: name for code, name in db.session.execute(select(Area.code, Area.name))}
        found = []
        for household in db.session.scalars(select(Household).where(Household.town_code == town)
                                             .order_by(Household.id)):
            members = sorted(db.session.scalars(select(Member).where(Member.household_id == household.id)),
                             key=lambda m: (m.relation != "户主", m.id))
            found.append(NationalHousehold(
                names[town], names[household.village_code], household.household_no, household.kind,
                household.lifted_year, [Person(m.name, m.id_number, m.relation, m.person_no or "") for m in members]))
        return found


def national_file(households: list[NationalHousehold], header: list[str] | None = None) -> bytes:
    title = "石泉县已脱贫户和边缘易致贫户信息（全国防返贫监测信息系统导出）"
    rows: list[list[Any]] = [[title], header or NATIONAL_HEADER]
    for household in households:
        rows += household.rows()
    return workbook_bytes(rows, text_columns=TEXT_COLUMNS)


def reconcile(browser: Any, content: bytes, name: str = "国家系统导出.xlsx") -> Any:
    """Upload for reconciliation and follow the job page until it stops refreshing; returns that page."""
    return follow_job(browser, upload(browser, "/exchange/reconciliations", content, name, "/exchange"))


def count(page: Any, section: str) -> int:
    import re

    match = re.search(rf'data-count="{section}">(\d+)<', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:3000]
    return int(match.group(1))
