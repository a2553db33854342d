"""Body rows of a write-only sheet, each column in one style, at close to the cost of unstyled values.

openpyxl's write-only `append` takes styled cells through a slow path: each cell first fails to be a plain value
(an exception whose message formats the cell), a spare cell is made after it, and its style is looked up in the
workbook's style table cell by cell. Here each column's style is looked up once, and the body rows bypass that
path, so a county-wide file costs about what openpyxl takes for the same values unstyled. The XML written is the
same cell for cell (same values, types, style ids, in the same order); other rows (headings, notes) still take
the sheet's own `append`. Every value is put in its cell by `app.excel.cells.bind`, so text stays text; a text that
needs quotePrefix takes the column's style with it (registered the first time one is met).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.excel.cells import Cell, bind


class _ColumnCell(Cell):
    """A column's body cell, reused row after row (each row is written out before the next is appended), its
    style id resolved once."""

    __slots__ = ("_style_id", "_plain_id", "_quoted_id", "_column_style")
    _plain_id: int
    _quoted_id: int | None
    _column_style: StyleArray

    @property
    def style_id(self) -> int:
        return self._style_id  # type: ignore[no-any-return]

    def quoted_id(self) -> int:
        if self._quoted_id is None:
            quoted = StyleArray(self._column_style)
            quoted.quotePrefix = 1
            self._quoted_id = int(self.parent.parent._cell_styles.add(quoted))
        return self._quoted_id


class _Cells(list[_ColumnCell]):
    """A body row, ready to write: told apart from rows that go through openpyxl's own conversion."""


class StyledRows:
    """Appends body rows of plain values to `sheet`, column i in `styles[i]` (every cell written, empty ones too,
    so borders stay unbroken)."""

    def __init__(self, sheet: WriteOnlyWorksheet, styles: Sequence[StyleArray]) -> None:
        self.sheet = sheet
        self.styles = list(styles)
        self._cells: _Cells | None = None
        convert = sheet._values_to_row

        def values_to_row(values: Any, row_idx: int) -> Iterator[Cell]:
            if type(values) is not _Cells:
                yield from convert(values, row_idx)
                return
            for cell in values:
                cell.row = row_idx
                yield cell

        sheet._values_to_row = values_to_row  # type: ignore[method-assign]

    def _column_cells(self) -> _Cells:
        # Registered on the first body row, in column order, as openpyxl would: the style ids stay the same.
        table = self.sheet.parent._cell_styles
        cells = _Cells()
        for column, style in enumerate(self.styles, start=1):
            cell = _ColumnCell(self.sheet, row=1, column=column)
            cell._style_id = cell._plain_id = table.add(style)
            cell._quoted_id = None
            cell._column_style = style
            # A copy: binding a date may set the cell's number format, which must not reach the style table (the
            # written style is the column's, by its id, as when each cell was given the column's style).
            cell._style = StyleArray(style)
            cells.append(cell)
        return cells

    def append(self, values: Sequence[Any]) -> None:
        cells = self._cells
        if cells is None:
            cells = self._cells = self._column_cells()
        for cell, value in zip(cells, values, strict=True):
            cell._style_id = cell.quoted_id() if bind(cell, value) else cell._plain_id
            if cell.data_type == "d":
                # A date or time once met an unstyled cell, which registered openpyxl's default format for its
                # type in the workbook (unused, as the column's style replaced it): keep the style table as it was.
                Cell(self.sheet, value=value)
        self.sheet.append(cells)
