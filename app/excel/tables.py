"""A plain list as a print-ready sheet: title, header row repeated on every page, borders, A4 landscape.
For lists that are not official annexes (the supervisors' case list and the like)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TEXT = "@"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class TableColumn:
    header: str
    width: float
    number_format: str | None = None
    wrap: bool = False


def write_table(title: str, subtitle: str, columns: Sequence[TableColumn], rows: Iterable[Sequence[Any]],
                out: IO[bytes], sheet_name: str = "清单") -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    last = get_column_letter(len(columns))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "3:3"
    sheet.freeze_panes = "A4"
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"

    def cell(value: Any, font: Font | None = None, align: Alignment | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(sheet, value=value)
        if font is not None:
            c.font = font
        if align is not None:
            c.alignment = align
        return c

    sheet.row_dimensions[1].height = 30
    sheet.append([cell(title, Font(size=16, bold=True), Alignment(horizontal="center", vertical="center"))])
    sheet.append([cell(subtitle, Font(size=10), Alignment(horizontal="left"))])
    header = []
    for column in columns:
        c = cell(column.header, Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True))
        c.border, c.fill = BORDER, PatternFill("solid", fgColor="F2F2F2")
        header.append(c)
    sheet.append(header)
    # Resolve each column's style once and copy it: per-cell style lookups dominate large exports.
    styles = []
    for column in columns:
        prototype = WriteOnlyCell(sheet)
        prototype.border = BORDER
        prototype.alignment = Alignment(vertical="center", wrap_text=column.wrap or None)
        if column.number_format:
            prototype.number_format = column.number_format
        styles.append(prototype._style)
    count = 0
    for values in rows:
        count += 1
        cells = []
        for value, style in zip(values, styles, strict=True):
            c = WriteOnlyCell(sheet, value=value)
            c._style = copy(style)
            cells.append(c)
        sheet.append(cells)
    sheet.merged_cells = MultiCellRange([f"A1:{last}1", f"A2:{last}2"])
    workbook.save(out)
    return count
