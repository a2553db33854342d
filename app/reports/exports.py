"""Drawing an annex for a month and an area: the one entry point the web pages and the CLI share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO

from app.excel.annex_writer import AnnexHeading, ledger_title, roster_title, write_ledger, write_roster
from app.reports.annexes import ledger_rows, roster_rows
from app.reports.scope import ReportMonth, ReportScope


@dataclass(frozen=True)
class Annex:
    kind: str  # roster | ledger
    number: int
    name: str

    def title(self, county_name: str, month: ReportMonth) -> str:
        maker = roster_title if self.kind == "roster" else ledger_title
        return maker(county_name, month.label)

    def filename(self, county_name: str, month: ReportMonth, scope: ReportScope) -> str:
        return f"附件{self.number}_{county_name}{self.name}_{scope.file_label}_{month.label}.xlsx"


ANNEXES = {
    "roster": Annex("roster", 1, "返贫风险对象花名册"),
    "ledger": Annex("ledger", 2, "返贫风险对象帮扶措施台账"),
}


def export_annex(kind: str, month: ReportMonth, scope: ReportScope, county_name: str, drawn_on: date,
                 out: IO[bytes]) -> int:
    """Write the annex to `out`; returns how many households it lists."""
    annex = ANNEXES[kind]
    heading = AnnexHeading(annex.number, annex.title(county_name, month), scope.unit_label, drawn_on)
    if kind == "roster":
        return write_roster(roster_rows(month, scope), heading, out)
    return write_ledger(ledger_rows(month, scope), heading, out)
