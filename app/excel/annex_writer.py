"""The two official annexes as print-ready workbooks: A4 landscape, merged title, borders, header row repeated
on every printed page, fitted to the page width, frozen header, ID numbers stored as text.

Written in openpyxl's write-only mode, so a county-wide file streams row by row in bounded memory."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import IO, Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.dimensions import RowDimension

from app.excel.cells import Cell, new_workbook
from app.excel.rows import StyledRows
from app.excel.tables import set_up_print, styled_cell
from app.reports.annexes import LedgerRow, RosterRow

NOTES = (
    '备注：1. 脱贫年度以全国扶贫系统为准，非贫困户填写"非贫困户"；',
    "2. 返贫风险类型分为：因重大疾病、因自然灾害、因意外变故、因产业失败、因就业不稳、其它原因。",
)
HEADER_ROW = 4  # 附件 label, title, 单位/date line, then the header
FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TEXT = "@"
DATE_FORMAT = 'yyyy"年"m"月"d"日"'


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    wrap: bool = False
    align: str = "center"
    number_format: str | None = None


ROSTER_COLUMNS = (
    Column("序号", 6), Column("镇", 10), Column("村", 14, wrap=True), Column("户主姓名", 10),
    Column("户主证件号码", 22, number_format=TEXT), Column("家庭人口", 7), Column("脱贫年度", 10),
    Column("返贫风险类型", 14),
    Column("详细原因", 42, wrap=True, align="left"), Column("包抓干部", 10),
)
LEDGER_COLUMNS = (
    Column("序号", 6), Column("镇", 10), Column("村", 12, wrap=True), Column("户主姓名", 10),
    Column("户主证件号码", 22, number_format=TEXT), Column("家庭人口", 7), Column("脱贫年度", 10),
    Column("风险类型", 13), Column("制定的帮扶措施", 56, wrap=True, align="left"),
    Column("完成时限", 15, number_format=DATE_FORMAT), Column("包抓干部", 10),
)


LINE_HEIGHT = 13.5  # points per line of 10-point 宋体


def display_width(text: str) -> int:
    """Width in Excel's character units: Chinese characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@lru_cache(maxsize=4096)  # village names and common reasons recur down a county-wide list
def wrapped_lines(text: str, column_width: float) -> int:
    usable = max(column_width - 1.5, 1)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


@dataclass(frozen=True)
class AnnexHeading:
    """What the top of an annex says: which annex, county, report month, unit and the date it was drawn."""

    annex_no: int
    title: str
    unit: str
    drawn_on: date


def roster_title(county_name: str, month_label: str) -> str:
    return f"{county_name}返贫风险对象花名册（{month_label}）"


def ledger_title(county_name: str, month_label: str) -> str:
    return f"{county_name}返贫风险对象帮扶措施台账（{month_label}）"


class _SharedHeight(RowDimension):
    """A row height many rows share; its XML attributes are worked out once, not for every row written."""

    def __init__(self, worksheet: Any, ht: float) -> None:
        super().__init__(worksheet, ht=ht)
        self._attributes = tuple(super().__iter__())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._attributes)


class _AnnexSheet:
    def __init__(self, heading: AnnexHeading, columns: tuple[Column, ...]) -> None:
        self.workbook = new_workbook()
        self.sheet = self.workbook.create_sheet(f"附件{heading.annex_no}")
        self.columns = columns
        self.rows = 0
        self.merged: list[str] = []
        self._fonts = {"body": Font(name=FONT_NAME, size=10), "head": Font(name=FONT_NAME, size=11, bold=True),
                       "title": Font(name=FONT_NAME, size=18, bold=True), "line": Font(name=FONT_NAME, size=11)}
        # A county-wide file has tens of thousands of cells: each column's style is resolved once.
        data_styles = [self._cell(None, alignment=Alignment(horizontal=c.align, vertical="center",
                                                            wrap_text=c.wrap or None),
                                  border=True, number_format=c.number_format)._style for c in columns]
        self._set_up_page()
        self._write_heading(heading)
        self._body = StyledRows(self.sheet, data_styles)
        self._wrapped = [(index, column.width) for index, column in enumerate(columns) if column.wrap]
        self._heights: dict[float, _SharedHeight] = {}

    @property
    def last_column(self) -> str:
        return get_column_letter(len(self.columns))

    def _set_up_page(self) -> None:
        set_up_print(self.sheet, self.columns, HEADER_ROW)

    def _cell(self, value: Any, font: str = "body", alignment: Alignment | None = None,
              border: bool = False, number_format: str | None = None) -> Cell:
        return styled_cell(self.sheet, value, self._fonts[font], alignment, border, number_format)

    def _full_width_line(self, text: str, font: str, horizontal: str, height: float | None = None) -> None:
        self.rows += 1
        if height:
            self.sheet.row_dimensions[self.rows].height = height
        self.merged.append(f"A{self.rows}:{self.last_column}{self.rows}")
        self.sheet.append([self._cell(text, font, Alignment(horizontal=horizontal, vertical="center",
                                                             wrap_text=True))])

    def _write_heading(self, heading: AnnexHeading) -> None:
        self.rows += 1
        self.sheet.append([self._cell(f"附件{heading.annex_no}", "line")])
        self._full_width_line(heading.title, "title", "center", height=36)
        self.rows += 1
        split = len(self.columns) // 2
        self.merged += [f"A{self.rows}:{get_column_letter(split)}{self.rows}",
                        f"{get_column_letter(split + 1)}{self.rows}:{self.last_column}{self.rows}"]
        line: list[Any] = [self._cell(f"单位：{heading.unit}", "line", Alignment(horizontal="left"))]
        line += [None] * (split - 1)
        line.append(self._cell(f"{heading.drawn_on.year}年{heading.drawn_on.month}月{heading.drawn_on.day}日",
                               "line", Alignment(horizontal="right")))
        self.sheet.append(line)
        self.rows += 1
        self.sheet.row_dimensions[self.rows].height = 30
        header = Alignment(horizontal="center", vertical="center", wrap_text=True)
        fill = PatternFill("solid", fgColor="F2F2F2")
        cells = []
        for column in self.columns:
            cell = self._cell(column.header, "head", header, border=True)
            cell.fill = fill
            cells.append(cell)
        self.sheet.append(cells)

    def append(self, values: list[Any]) -> None:
        self.rows += 1
        # Spreadsheet programs do not grow rows for wrapped text on opening, so size them here.
        lines = max((wrapped_lines(str(values[index]), width) for index, width in self._wrapped if values[index]),
                    default=1)
        if lines > 1:
            self._set_height(lines * LINE_HEIGHT + 4)
        self._body.append(values)

    def _set_height(self, height: float) -> None:
        """Rows of the same height share one row dimension (it carries no row number): made once, not per row."""
        shared = self._heights.get(height)
        if shared is None:
            shared = self._heights[height] = _SharedHeight(self.sheet, ht=height)
        self.sheet.row_dimensions[self.rows] = shared

    def finish(self, out: IO[bytes]) -> None:
        for note in NOTES:
            self._full_width_line(note, "line", "left")
        self.sheet.merged_cells = MultiCellRange(self.merged)
        self.sheet.print_area = f"A1:{self.last_column}{self.rows}"
        self.workbook.save(out)


def write_roster(rows: Iterable[RosterRow], heading: AnnexHeading, out: IO[bytes]) -> int:
    """附件1 返贫风险对象花名册. Returns the number of households written."""
    sheet = _AnnexSheet(heading, ROSTER_COLUMNS)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append([count, row.town, row.village, row.head_name, row.head_id_number, row.size, row.lifted_year,
                      row.risk_type, row.reason, row.cadre])
    sheet.finish(out)
    return count


def write_ledger(rows: Iterable[LedgerRow], heading: AnnexHeading, out: IO[bytes]) -> int:
    """附件2 返贫风险对象帮扶措施台账, one row per household with its measures listed."""
    sheet = _AnnexSheet(heading, LEDGER_COLUMNS)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append([count, row.town, row.village, row.head_name, row.head_id_number, row.size, row.lifted_year,
                      row.risk_type, row.measures_text, row.deadline, row.cadre])
    sheet.finish(out)
    return count
