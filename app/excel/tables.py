"""Plain lists as print-ready sheets: a merged title, a 单位/date line, a bold bordered header repeated on every
printed page, frozen under the header, bordered cells, A4 landscape fitted to the page width. For lists that
are not official annexes (the supervisors' case list, the annual review and its accountability lists)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.page import PageMargins

from app.excel.cells import Cell, new_workbook
from app.excel.cells import cell as text_safe_cell
from app.excel.rows import StyledRows

FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TEXT = "@"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
HEADER_ROW = 3  # title, 单位/date line, header


@dataclass(frozen=True)
class TableColumn:
    header: str
    width: float
    number_format: str | None = None
    wrap: bool = False


def set_up_print(ws: Any, columns: Sequence[Any], header_row: int) -> None:
    """A4 landscape fitted to the page width, the header row repeated on every page and frozen, page numbers."""
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.freeze_panes = f"A{header_row + 1}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def styled_cell(sheet: Any, value: Any, font: Font, alignment: Alignment | None = None, border: bool = False,
                number_format: str | None = None) -> Cell:
    """A write-only cell with its font and, where given, alignment, thin border and number format (text stays
    text: `app.excel.cells`)."""
    cell = text_safe_cell(sheet, value)
    cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if border:
        cell.border = BORDER
    if number_format:
        cell.number_format = number_format
    return cell


class ListWorkbook:
    """A workbook of lists, one sheet each, written in openpyxl's write-only mode."""

    def __init__(self) -> None:
        self.book = new_workbook()
        self.fonts = {"title": Font(name=FONT_NAME, size=16, bold=True), "line": Font(name=FONT_NAME, size=11),
                      "head": Font(name=FONT_NAME, size=11, bold=True), "body": Font(name=FONT_NAME, size=10)}
        self.fill = PatternFill("solid", fgColor="F2F2F2")

    def _cell(self, sheet: Any, value: Any, font: str, alignment: Alignment | None = None, border: bool = False,
              number_format: str | None = None) -> Cell:
        return styled_cell(sheet, value, self.fonts[font], alignment, border, number_format)

    def add_sheet(self, name: str, title: str, subtitle: str, columns: Sequence[TableColumn],
                  rows: Iterable[Sequence[Any]]) -> int:
        """Append a sheet; returns how many rows it holds."""
        ws = self.book.create_sheet(name[:31])
        last = get_column_letter(len(columns))
        set_up_print(ws, columns, HEADER_ROW)
        ws.row_dimensions[1].height = 30
        ws.append([self._cell(ws, title, "title", Alignment(horizontal="center", vertical="center"))])
        ws.append([self._cell(ws, subtitle, "line", Alignment(horizontal="left"))])
        header = Alignment(horizontal="center", vertical="center", wrap_text=True)
        heads = []
        for column in columns:
            cell = self._cell(ws, column.header, "head", header, border=True)
            cell.fill = self.fill
            heads.append(cell)
        ws.append(heads)
        # Each column's style is resolved once (see app/excel/rows.py).
        body = StyledRows(ws, [self._cell(ws, None, "body", Alignment(vertical="center", wrap_text=c.wrap or None),
                                          border=True, number_format=c.number_format)._style for c in columns])
        count = 0
        for row in rows:
            count += 1
            body.append(row)
        ws.merged_cells = MultiCellRange([f"A1:{last}1", f"A2:{last}2"])
        ws.print_area = f"A1:{last}{HEADER_ROW + count}"
        return count

    def save(self, out: IO[bytes]) -> None:
        self.book.save(out)


def write_table(title: str, subtitle: str, columns: Sequence[TableColumn], rows: Iterable[Sequence[Any]],
                out: IO[bytes], sheet_name: str = "清单") -> int:
    """One list as a one-sheet workbook; returns the number of rows."""
    book = ListWorkbook()
    count = book.add_sheet(sheet_name, title, subtitle, columns, rows)
    book.save(out)
    return count
