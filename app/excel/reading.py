"""Opening untrusted .xlsx uploads safely: every import goes through here.

The checks run in this order, each before anything heavier is attempted:
1. the container: an .xlsx is a zip; an OLE2 file (D0 CF 11 E0) is a legacy .xls or an encrypted
   (password-protected) workbook; anything else is not a workbook at all;
2. the zip's central directory: entry count, declared uncompressed sizes and compression ratios (a zip
   bomb is refused before a byte is inflated — Python's zipfile never inflates past a declared size, so
   the declared sizes bound what openpyxl can read), encrypted entries, and XML parts with a DOCTYPE
   (entity expansion);
3. the sheet: its declared dimensions (rows, columns) and its merged ranges, read from the raw XML;
4. while rows are read: formulas where values are expected and the real row count.

Text is read as the spreadsheet shows it: OOXML escapes (`_x000D_` for a carriage return, `_x005F_` for an
underscore, as Excel writes them and as `app.excel.cells` does) are undone, so an export imports unchanged.

Refusals are `SpreadsheetRefused` (an `InvalidInput`) with a Chinese message for the user.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from app.errors import InvalidInput
from app.excel.cells import from_xstring

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    """What an upload may be. Defaults suit a county-wide registry (about 220,000 person rows)."""

    max_rows: int = 300_000
    max_columns: int = 200
    max_entries: int = 2_000
    max_uncompressed: int = 500 * 1024 * 1024
    max_ratio: int = 200
    # Small parts (styles, a tiny sheet) compress very well by nature; the ratio is judged above this size.
    ratio_floor: int = 1024 * 1024

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            max_rows=int(config.get("EXCEL_MAX_ROWS", cls.max_rows)),
            max_columns=int(config.get("EXCEL_MAX_COLUMNS", cls.max_columns)),
            max_uncompressed=int(config.get("EXCEL_MAX_UNCOMPRESSED", cls.max_uncompressed)),
            max_ratio=int(config.get("EXCEL_MAX_RATIO", cls.max_ratio)),
        )


class SpreadsheetRefused(InvalidInput):
    """The file as a whole cannot be read: not an xlsx, encrypted, a bomb, too large, merged data rows."""


NOT_XLSX = "上传的文件不是 Excel 工作簿（.xlsx），请在 Excel 或 WPS 中另存为 .xlsx 后再上传"
OLE2 = "文件已加密或为旧版 .xls 格式，请取消密码保护并另存为 .xlsx 后再上传"


def check_container(path: Path, limits: Limits) -> None:
    """Refuse anything that is not a plain, reasonably sized .xlsx, without inflating it."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE2_SIGNATURE):
        raise SpreadsheetRefused(OLE2)
    if not head.startswith(ZIP_SIGNATURE):
        raise SpreadsheetRefused(NOT_XLSX)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise SpreadsheetRefused(NOT_XLSX)
            if len(infos) > limits.max_entries:
                raise SpreadsheetRefused("文件结构异常（压缩包内文件过多），已拒绝读取")
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise SpreadsheetRefused(OLE2)
                total += info.file_size
                if info.file_size > limits.ratio_floor and \
                        info.file_size > limits.max_ratio * max(info.compress_size, 1):
                    raise SpreadsheetRefused("文件解压后异常膨胀（疑似压缩炸弹），已拒绝读取")
            if total > limits.max_uncompressed:
                raise SpreadsheetRefused(
                    f"文件解压后超过 {size_label(limits.max_uncompressed)}，已拒绝读取；请拆分后分批导入")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")) and _declares_doctype(archive, info):
                    raise SpreadsheetRefused("文件含有不允许的 XML 声明（DOCTYPE），已拒绝读取")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SpreadsheetRefused(NOT_XLSX) from exc


def _declares_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    # A DOCTYPE must come before the root element, so the first few kilobytes tell.
    with archive.open(info) as part:
        return b"<!DOCTYPE" in part.read(4096).upper()


@dataclass
class Sheet:
    """The first worksheet of a checked workbook, read row by row (openpyxl read-only mode)."""

    path: Path
    limits: Limits
    title: str
    max_row: int | None
    max_column: int | None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row
    _workbook: Any = None
    _worksheet: Any = None

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, cells) for every row, blank ones included; cells are openpyxl read-only cells, their text
        as the spreadsheet shows it."""
        width = min(self.max_column or self.limits.max_columns, self.limits.max_columns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it drops
            try:
                for number, cells in enumerate(self._worksheet.iter_rows(max_col=width), start=1):
                    if number > self.limits.max_rows:
                        raise SpreadsheetRefused(too_many_rows(self.limits))
                    for cell in cells:
                        if cell.data_type == "s" and "_x" in cell._value:
                            cell._value = from_xstring(cell._value)
                    yield number, cells
            except SpreadsheetRefused:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, SyntaxError) as exc:
                raise SpreadsheetRefused("文件内容已损坏，无法读取，请重新另存为 .xlsx 后再上传") from exc

    def merged_in_rows(self, first_row: int, last_row: int | None = None) -> tuple[int, int, int, int] | None:
        """The first merged range that touches rows first_row..last_row, if any."""
        for box in self.merged:
            _min_col, min_row, _max_col, max_row = box
            if max_row >= first_row and (last_row is None or min_row <= last_row):
                return box
        return None

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def too_many_rows(limits: Limits) -> str:
    return f"表格行数超过上限（{limits.max_rows:,} 行），请拆分后分批导入"


def open_sheet(path: Path, limits: Limits) -> Sheet:
    """Check the container, then open the first worksheet read-only and check its size and merged ranges."""
    check_container(path, limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
        except Exception as exc:  # openpyxl raises many kinds on malformed parts; all mean "unreadable"
            raise SpreadsheetRefused("文件内容已损坏或不是标准的 .xlsx，无法读取，请重新另存为 .xlsx 后再上传") from exc
    if not workbook.worksheets:
        workbook.close()
        raise SpreadsheetRefused("工作簿中没有工作表")
    worksheet = workbook.worksheets[0]
    sheet = Sheet(path=path, limits=limits, title=worksheet.title, max_row=worksheet.max_row,
                  max_column=worksheet.max_column, _workbook=workbook, _worksheet=worksheet)
    try:
        if sheet.max_row is not None and sheet.max_row > limits.max_rows:
            raise SpreadsheetRefused(too_many_rows(limits))
        if sheet.max_column is not None and sheet.max_column > limits.max_columns:
            raise SpreadsheetRefused(f"表格列数超过上限（{limits.max_columns} 列），请只保留需要导入的列")
        sheet_path = getattr(worksheet, "_worksheet_path", None)
        if sheet_path:
            sheet.merged = _merged_ranges(path, sheet_path.lstrip("/"))
    except BaseException:
        sheet.close()
        raise
    return sheet


MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)\"")


def _merged_ranges(path: Path, sheet_path: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges from the sheet XML; read-only openpyxl does not expose them. Streams the part."""
    found: list[tuple[int, int, int, int]] = []
    with zipfile.ZipFile(path) as archive, archive.open(sheet_path) as part:
        tail = b""
        while chunk := part.read(1 << 20):
            data = tail + chunk
            last_end = 0
            for match in MERGE_RE.finditer(data):
                ref = match.group(1).decode("ascii")
                min_col, min_row, max_col, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
                found.append((int(min_col or 1), int(min_row or 1), int(max_col or 1), int(max_row or 1)))
                last_end = match.end()
            tail = data[max(last_end, len(data) - 512):]
    return found


def describe_range(box: tuple[int, int, int, int]) -> str:
    min_col, min_row, max_col, max_row = box
    return f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"


def cell_name(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def is_formula(cell: Any) -> bool:
    return getattr(cell, "data_type", None) == "f"


def formula_message(row: int, column: int) -> str:
    return f"第{row}行{get_column_letter(column)}列是公式，请粘贴为数值"


def save_upload(stream: IO[bytes], target: Path, max_bytes: int) -> int:
    """Copy an uploaded stream to `target`, refusing (and removing the file) past max_bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise UploadTooLarge(max_bytes)
            out.write(chunk)
    return written


class UploadTooLarge(SpreadsheetRefused):
    status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"上传的文件过大（上限 {size_label(max_bytes)}），请拆分后分批导入")


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"
