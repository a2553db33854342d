"""Every value the app writes into a workbook passes through here, so typed text is never a live formula.

A village team's reason `=HYPERLINK("http://…","点我")` would otherwise reach the county office's Excel as a link
(openpyxl stores any string that starts with `=` as a formula; CWE-1236, "CSV injection"). So:
- a string is always a text cell (inline string), whatever it starts with, unless it is a `Formula`, which only
  the app's own code makes (a total, say);
- a string that a spreadsheet would take for a formula when the cell is edited (`=`, `+`, `-`, `@`, a tab or a
  carriage return first; an error literal like `#N/A`) also gets the cell style's quotePrefix, which is what
  Excel itself stores when a person types a leading apostrophe: the cell shows the text as typed, and stays
  text when someone presses F2 and Enter;
- text is stored as OOXML's ST_Xstring: `_xHHHH_` is that format's escape, so an underscore that starts such a
  sequence (or one LibreOffice reads as one) is escaped itself (`_x005F_`), and the control characters XML
  cannot carry are escaped rather than failing the whole export. `from_xstring` is the way back (the reader).

Workbooks come from `new_workbook()` (write-only, streaming) and its sheets check every cell as it is written:
the one place where a value becomes a cell. ruff's banned-api rule keeps openpyxl's `Workbook` and cells inside
`app/excel/`, so no new export can go round it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook  # noqa: TID251 (this module is the one place that makes them)
from openpyxl.cell import Cell  # noqa: TID251
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = ["Cell", "Formula", "bind", "cell", "from_xstring", "keep_text", "new_workbook", "to_xstring"]


class Formula(str):
    """One of the app's own formulas (`Formula("=SUM(C5:C20)")`): the only string written as a formula."""

    __slots__ = ()

    def __new__(cls, text: str) -> Formula:
        if not text.startswith("=") or len(text) < 2:
            raise ValueError(f"a formula starts with '=': {text!r}")
        return super().__new__(cls, text)


# What makes Excel, WPS or LibreOffice read an edited cell as a formula (or a DDE call) rather than text.
FORMULA_LEADS = frozenset("=+-@\t\r")
MAX_CELL_TEXT = 32767  # Excel's limit for one cell; openpyxl cuts text there too
# Characters XML 1.0 cannot carry (it can carry tab, line feed and carriage return).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel reads `_x` and four hex digits as an escape; LibreOffice takes one or two digits as well (`_x1_`).
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{1,4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# A text that needs more than being stored: a formula's or error value's lead, an escape, an unwritable character.
_NEEDS_CARE = re.compile(r"^[=+\-@\t\r#]|_x[0-9A-Fa-f]{1,4}_|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ERROR_LITERALS = frozenset(ERROR_CODES)


def needs_quote_prefix(text: str) -> bool:
    """Would a spreadsheet take this text for a formula (or an error value) once the cell is edited?"""
    return bool(text) and (text[0] in FORMULA_LEADS or text in _ERROR_LITERALS)


def to_xstring(text: str) -> str:
    """The text as OOXML stores it, so that a spreadsheet shows exactly `text`."""
    if "_x" in text:
        text = _ESCAPE_LIKE.sub("_x005F_", text)
    if _UNWRITABLE.search(text):
        text = _UNWRITABLE.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    return text


def from_xstring(text: str) -> str:
    """What a spreadsheet shows for a stored ST_Xstring (Excel writes `_x000D_` for a carriage return, say)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def bind(cell: Cell, value: Any) -> bool:
    """Put `value` in `cell`: a string is text (a `Formula` excepted). Returns whether the cell's style needs
    quotePrefix (callers that share one style per column pick the quoted variant themselves)."""
    if type(value) is str:
        if _NEEDS_CARE.search(value) is None:
            cell._value = value if len(value) <= MAX_CELL_TEXT else value[:MAX_CELL_TEXT]
            cell.data_type = "s"
            return False
        cell._value = to_xstring(value)[:MAX_CELL_TEXT]
        cell.data_type = "s"
        return needs_quote_prefix(value)
    if isinstance(value, Formula):
        cell.value = str(value)
        cell._value = value  # keeps its kind, so the sheet's last check knows the app made it
        return False
    if isinstance(value, str):  # another str subclass (markupsafe.Markup, say): its text
        return bind(cell, str(value))
    cell.value = value
    return False


def cell(sheet: Any, value: Any = None) -> Cell:
    """A write-only cell holding `value` as `bind` puts it, quotePrefix included."""
    made = Cell(sheet, row=1, column=1)
    if bind(made, value):
        made.quotePrefix = True
    return made


def keep_text(made: Cell) -> Cell:
    """The last check before a cell is written: a formula or error value the app did not make becomes text."""
    if made.data_type in ("f", "e") and not isinstance(made._value, Formula):
        text = str(made._value)
        made._value = to_xstring(text)
        made.data_type = "s"
        if needs_quote_prefix(text):
            made.quotePrefix = True
    return made


class TextSafeSheet(WriteOnlyWorksheet):
    """A write-only sheet whose every written cell went through `bind` or `keep_text`."""

    def _values_to_row(self, values: Any, row_idx: int) -> Iterator[Cell]:
        plain = Cell(self, row=1, column=1)
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, Cell):
                made = keep_text(value)
            else:
                made = plain  # plain values are written unstyled, one reused cell, as openpyxl does
                if bind(made, value):
                    made = cell(self, value)  # its own style: the reused one stays unstyled
            made.column = col_idx
            made.row = row_idx
            if made.hyperlink is not None:
                made.hyperlink.ref = made.coordinate
            yield made


class TextSafeWorkbook(Workbook):
    """A streaming (write-only) workbook of `TextSafeSheet`s."""

    def __init__(self) -> None:
        super().__init__(write_only=True)

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Any:
        sheet = TextSafeSheet(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


def new_workbook() -> TextSafeWorkbook:
    """The workbook every export starts from."""
    return TextSafeWorkbook()
