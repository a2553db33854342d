"""The files around the registry import: the blank template users download, and the copy of an uploaded
workbook with an added 错误说明 column and the bad cells highlighted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.excel.bounded import Budget, open_upload
from app.excel.cells import cell, new_workbook
from app.excel.reading import Limits
from app.households.importer import TEMPLATE_COLUMNS, RowError

ERROR_HEADER = "错误说明"
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
ERROR_FONT = Font(color="9C0006")
TEXT_COLUMNS = ("户编号", "证件号码", "联系电话")
TEMPLATE_ROWS = 2000  # rows pre-formatted as text in the template

INSTRUCTIONS: tuple[str, ...] = (
    "农户名单导入模板 填写说明",
    "",
    "1. 每个家庭成员填一行；同一户的成员填写相同的户编号。户主那一行的“与户主关系”填“户主”，每户只能有一个户主。",
    "2. 户编号：全国防返贫监测信息系统中的户编号；没有时可以留空，此时本户成员须紧跟在户主那一行之后，"
    "系统按户主证件号码识别该户。",
    "3. 证件号码：18 位居民身份证号码，末位 X 大小写均可。本列已设为文本格式，请勿改为数字，否则后几位会丢失。",
    "4. 乡镇、行政村：填写系统中的名称，例如“城关镇”“金星村”。",
    "5. 家庭人口：本户总人数，应与本户的行数一致（可只在户主行填写）。",
    "6. 脱贫年度：已脱贫户填写脱贫年份（如 2016），非贫困户填写“非贫困户”（填在户主那一行）。",
    "7. 联系电话可以不填。空行会被跳过；不要合并单元格，不要使用公式。",
    "8. 整个文件检查无误才会导入；重复导入同一文件不会产生重复数据，已有的户会按本表更新（成员名单以本表为准）。",
)


def write_template(out: IO[bytes]) -> None:
    """The blank registry template: one sheet to fill (ID, 户编号 and phone as text), one of instructions."""
    workbook = new_workbook()
    sheet = workbook.create_sheet("农户名单")
    header_font = Font(bold=True)
    centred = Alignment(horizontal="center")
    header = []
    for index, title in enumerate(TEMPLATE_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 22 if title in ("证件号码", "户编号") else 12
        made = cell(sheet, title)
        made.font = header_font
        made.alignment = centred
        header.append(made)
    sheet.freeze_panes = "A2"
    sheet.append(header)
    # Pre-format the rows people will fill, so Excel and WPS keep the digits as typed.
    text_columns = {TEMPLATE_COLUMNS.index(title) for title in TEXT_COLUMNS}
    for _row in range(TEMPLATE_ROWS):
        blank: list[Any] = []
        for index in range(len(TEMPLATE_COLUMNS)):
            if index in text_columns:
                made = cell(sheet)
                made.number_format = "@"
                blank.append(made)
            else:
                blank.append(None)
        sheet.append(blank)
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 120
    wrapped = Alignment(wrap_text=True)
    for row, line in enumerate(INSTRUCTIONS, start=1):
        made = cell(notes, line)
        made.alignment = wrapped
        if row == 1:
            made.font = Font(bold=True, size=14)
        notes.append([made])
    workbook.save(out)


def write_error_copy(source: Path, target: Path, errors: Iterable[RowError], header_row: int | None, *,
                     limits: Limits, budget: Budget) -> None:
    """The uploaded sheet's values, row for row, with a 错误说明 column and the bad cells filled red.

    Streams (read in the budgeted reader, `app.excel.bounded`; written write-only), so a county-sized file does not
    need the whole workbook in memory. Formatting of the original is not kept; values (and text-typed IDs) are.
    What was text stays text, so the corrected copy imports; a refused formula is copied as its text, for the
    user to see what to replace."""
    by_row: dict[int, list[RowError]] = defaultdict(list)
    file_level: list[str] = []
    for error in errors:
        if error.row is None:
            file_level.append(error.message)
        else:
            by_row[error.row].append(error)
    with open_upload(source, limits, budget) as sheet:
        width = sheet.max_column or 0
        title = sheet.title
        if header_row is not None:
            for number, cells in sheet.rows():
                if number == header_row:
                    width = max(width, max((i for i, c in enumerate(cells, 1) if c.value is not None), default=0))
                    break
    out = new_workbook()
    written_sheet = out.create_sheet(title or "Sheet1")
    error_column = max(width, 1) + 1
    written_sheet.column_dimensions[get_column_letter(error_column)].width = 60
    if file_level:
        written_sheet.append([_error_cell(written_sheet, "；".join(file_level))])
    with open_upload(source, limits, budget) as sheet:
        for number, cells in sheet.rows():
            row_errors = by_row.get(number, [])
            bad_columns = {e.column_index for e in row_errors if e.column_index}
            values: list[object] = []
            for index, original in enumerate(cells[:width or None], start=1):
                written = cell(written_sheet, original.value)
                if isinstance(original.value, str):
                    written.number_format = "@"
                if index in bad_columns:
                    written.fill = BAD_FILL
                values.append(written)
            values += [None] * (error_column - 1 - len(values))
            if number == header_row:
                header = cell(written_sheet, ERROR_HEADER)
                header.font = Font(bold=True, color="9C0006")
                values.append(header)
            elif row_errors:
                values.append(_error_cell(written_sheet, "；".join(
                    f"{e.column}：{e.message}" if e.column else e.message for e in row_errors)))
            written_sheet.append(values)
    out.save(target)


def _error_cell(sheet: Any, text: str) -> Any:
    made = cell(sheet, text)
    made.font = ERROR_FONT
    made.alignment = Alignment(wrap_text=True)
    return made
