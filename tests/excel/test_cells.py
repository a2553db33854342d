"""The one place a value becomes a cell (`app.excel.cells`): any string in, a text cell out, showing that string;
only the app's own `Formula` is written as a formula."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.styles import Font

from app.excel.cells import Cell, Formula, from_xstring, needs_quote_prefix, new_workbook
from app.excel.reading import Limits, open_sheet
from app.excel.rows import StyledRows
from app.excel.tables import styled_cell

# Every way a writer of app/excel puts a value in a sheet: a body row of column styles (the annexes, the lists),
# a styled cell (headings, the error report), a plain value.
PATHS = ("column style", "styled cell", "plain value")


def written(values: list[str]) -> bytes:
    book = new_workbook()
    sheet = book.create_sheet("清单")
    body = styled_cell(sheet, None, Font(name="宋体"), border=True)
    rows = StyledRows(sheet, [body._style])
    for value in values:
        rows.append([value])
        sheet.append([styled_cell(sheet, value, Font(name="宋体", bold=True))])
        sheet.append([value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_back(content: bytes) -> list[tuple[str, Cell]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [(PATHS[(cell.row - 1) % 3], cell) for (cell,) in sheet.iter_rows(max_col=1)]


def read_by_the_importers(content: bytes) -> list[object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(content)
        with open_sheet(path, Limits()) as sheet:
            return [cells[0].value for _number, cells in sheet.rows()]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(min_size=1, max_size=60) | st.sampled_from(
    ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "#N/A", "_x0041_", "_x1_", "a\x01b", "\ufffe"]),
    min_size=1, max_size=4))
def test_any_string_is_written_as_a_text_cell_showing_that_string(values):
    content = written(values)
    cells = read_back(content)
    assert len(cells) == 3 * len(values)
    for index, (path, cell) in enumerate(cells):
        typed = values[index // 3]
        assert cell.data_type == "s", (path, typed, cell.value)
        assert from_xstring(cell.value) == typed, (path, typed, cell.value)
        assert cell.quotePrefix == needs_quote_prefix(typed), (path, typed)
    # What the importers read is what was typed: an exported file imports unchanged.
    assert read_by_the_importers(content) == [value for value in values for _path in PATHS]


def test_text_that_looks_like_a_formula_is_shown_as_typed_and_stays_text_when_edited():
    cells = read_back(written(["-3 户", "+86 13900000000", "=HYPERLINK(\"http://evil.example/\",\"点我\")"]))
    assert [cell.value for _path, cell in cells[::3]] == [
        "-3 户", "+86 13900000000", "=HYPERLINK(\"http://evil.example/\",\"点我\")"]
    assert all(cell.quotePrefix and cell.data_type == "s" for _path, cell in cells)
    plain = read_back(written(["金星村", "3 户"]))
    assert not any(cell.quotePrefix for _path, cell in plain)


def test_the_apps_own_formulas_stay_formulas():
    book = new_workbook()
    sheet = book.create_sheet("合计")
    body = styled_cell(sheet, None, Font(name="宋体"))
    rows = StyledRows(sheet, [body._style, body._style])
    rows.append([3, "=1+1"])
    rows.append([4, "合计"])
    rows.append([Formula("=SUM(A1:A2)"), Formula("=A3*2")])
    sheet.append([Formula("=A3+1"), styled_cell(sheet, Formula("=A3+2"), Font(name="宋体"))])
    out = io.BytesIO()
    book.save(out)
    result = load_workbook(io.BytesIO(out.getvalue())).active
    assert [(c.value, c.data_type) for c in result[1]] == [(3, "n"), ("=1+1", "s")]
    assert [(c.value, c.data_type) for c in result[3]] == [("=SUM(A1:A2)", "f"), ("=A3*2", "f")]
    assert [(c.value, c.data_type) for c in result[4]] == [("=A3+1", "f"), ("=A3+2", "f")]
    with pytest.raises(ValueError):
        Formula("SUM(A1)")


def test_a_cell_made_round_the_shared_writer_is_still_written_as_text():
    book = new_workbook()
    sheet = book.create_sheet("清单")
    stray = Cell(sheet, row=1, column=1)
    stray.value = "=WEBSERVICE(\"http://evil.example/\")"  # openpyxl's own binding makes it a formula
    assert stray.data_type == "f"
    error = Cell(sheet, row=1, column=1)
    error.value = "#REF!"
    sheet.append([stray, error])
    out = io.BytesIO()
    book.save(out)
    first, second = load_workbook(io.BytesIO(out.getvalue())).active[1]
    assert (first.value, first.data_type, first.quotePrefix) == ("=WEBSERVICE(\"http://evil.example/\")", "s", True)
    assert (second.value, second.data_type) == ("#REF!", "s")
