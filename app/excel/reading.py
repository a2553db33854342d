"""Opening untrusted .xlsx uploads safely: every import goes through here.

The checks run in this order, each before anything heavier is attempted:
1. the container: an .xlsx is a zip; an OLE2 file (D0 CF 11 E0) is a legacy .xls or an encrypted
   (password-protected) workbook; anything else is not a workbook at all;
2. the zip's central directory: entry count, declared uncompressed sizes and compression ratios (a zip
   bomb is refused before a byte is inflated — Python's zipfile never inflates past a declared size, so
   the declared sizes bound what openpyxl can read; a part that holds more than it declares fails its
   checksum), encrypted entries, and XML parts with a DOCTYPE (entity expansion). The upload's own page
   runs this much, as it costs only the directory and a few kilobytes per part;
3. what openpyxl would hold in memory, before it is asked to: each part it parses whole (the workbook,
   styles, theme, relationships) within `max_part_bytes`, the shared strings within their own size and, counted
   by streaming the XML without building the list, `max_shared_strings`; the first sheet's declared dimension
   (rows, columns), read from the sheet's first bytes; and the sheet itself, which is streamed, within
   `max_sheet_bytes`;
4. the sheet: its merged ranges, read from the raw XML;
5. while rows are read: formulas where values are expected and the real row count.

Steps 3 to 5 run in a child process within a memory and time budget (`app.excel.bounded`): what gets past the
checks still cannot take more than that, and a web worker never parses an upload itself.

Text is read as the spreadsheet shows it: OOXML escapes (`_x000D_` for a carriage return, `_x005F_` for an
underscore, as Excel writes them and as `app.excel.cells` does) are undone, so an export imports unchanged.

Refusals are `SpreadsheetRefused` (an `InvalidInput`) with a Chinese message for the user.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, overload

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet._reader import WorkSheetParser

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
    # Per part, what a county's file really is. The county registry (60,053 households, 219,043 person rows) as
    # LibreOffice saves it (shared strings, as Excel and WPS do): shared strings 20.2 MB holding 386,364 strings,
    # its sheet 114 MB (149 MB with inline strings, as openpyxl writes it), every part's ratio under 13.
    max_shared_strings_bytes: int = 64 * 1024 * 1024
    max_shared_strings: int = 1_000_000
    max_sheet_bytes: int = 256 * 1024 * 1024
    max_part_bytes: int = 16 * 1024 * 1024  # any other XML part openpyxl parses whole

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            max_rows=int(config.get("EXCEL_MAX_ROWS", cls.max_rows)),
            max_columns=int(config.get("EXCEL_MAX_COLUMNS", cls.max_columns)),
            max_uncompressed=int(config.get("EXCEL_MAX_UNCOMPRESSED", cls.max_uncompressed)),
            max_ratio=int(config.get("EXCEL_MAX_RATIO", cls.max_ratio)),
            max_shared_strings_bytes=int(config.get("EXCEL_MAX_SHARED_STRINGS_BYTES", cls.max_shared_strings_bytes)),
            max_shared_strings=int(config.get("EXCEL_MAX_SHARED_STRINGS", cls.max_shared_strings)),
            max_sheet_bytes=int(config.get("EXCEL_MAX_SHEET_BYTES", cls.max_sheet_bytes)),
            max_part_bytes=int(config.get("EXCEL_MAX_PART_BYTES", cls.max_part_bytes)),
        )


class SpreadsheetRefused(InvalidInput):
    """The file as a whole cannot be read: not an xlsx, encrypted, a bomb, too large, merged data rows."""


NOT_XLSX = "上传的文件不是 Excel 工作簿（.xlsx），请在 Excel 或 WPS 中另存为 .xlsx 后再上传"
OLE2 = "文件已加密或为旧版 .xls 格式，请取消密码保护并另存为 .xlsx 后再上传"
CORRUPT = "文件内容已损坏，无法读取，请重新另存为 .xlsx 后再上传"
UNREADABLE = "文件内容已损坏或不是标准的 .xlsx，无法读取，请重新另存为 .xlsx 后再上传"


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
            try:
                for info in infos:
                    if info.filename.endswith((".xml", ".rels")) and _declares_doctype(archive, info):
                        raise SpreadsheetRefused("文件含有不允许的 XML 声明（DOCTYPE），已拒绝读取")
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:  # a part that is not what it declares
                raise SpreadsheetRefused(CORRUPT) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SpreadsheetRefused(NOT_XLSX) from exc


BOMB = "文件过大或结构异常，已拒绝："
SHARED_STRINGS = "xl/sharedStrings.xml"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SHARED_STRING_RE = re.compile(rb"<(?:\w+:)?si[\s>/]")
_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)\"")
_SHEET_DATA_RE = re.compile(rb"<(?:\w+:)?sheetData\b")
MAX_XML_DEPTH = 100


def check_parts(path: Path, limits: Limits) -> tuple[str, int | None, int | None] | None:
    """What openpyxl would hold in memory, judged before it reads the file (step 3 of the module's checks).
    Returns the first sheet's part and its declared dimension (max column, max row), when it declares one."""
    try:
        with zipfile.ZipFile(path) as archive:
            sheet_path = _first_sheet_path(archive, limits)
            for info in archive.infolist():
                name = info.filename
                if name == SHARED_STRINGS:
                    if info.file_size > limits.max_shared_strings_bytes:
                        raise SpreadsheetRefused(
                            f"{BOMB}共享字符串部分解压后 {size_label(info.file_size)}，"
                            f"超过上限 {size_label(limits.max_shared_strings_bytes)}")
                    _count_shared_strings(archive, info, limits)
                elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    if info.file_size > limits.max_sheet_bytes:
                        raise SpreadsheetRefused(
                            f"{BOMB}工作表解压后 {size_label(info.file_size)}，超过上限 "
                            f"{size_label(limits.max_sheet_bytes)}；请拆分后分批导入")
                elif name.endswith((".xml", ".rels")) and info.file_size > limits.max_part_bytes:
                    raise _part_too_large(info, limits)
            if sheet_path is not None and sheet_path in archive.namelist():
                dimension = _check_declared_dimension(archive, sheet_path, limits)
                return (sheet_path, *dimension) if dimension is not None else None
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        raise SpreadsheetRefused(CORRUPT) from exc


def _part_too_large(info: zipfile.ZipInfo, limits: Limits) -> SpreadsheetRefused:
    return SpreadsheetRefused(f"{BOMB}{info.filename} 解压后 {size_label(info.file_size)}，"
                              f"超过上限 {size_label(limits.max_part_bytes)}")


def _count_shared_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Counts the strings as the XML streams past, never building them (a county registry's are 386,364), and
    watches how deep its elements nest: a shared string is a handful of levels
    deep (sst, si, r, rPr, b), while nesting thousands deep makes the parser hold every open element."""
    count = 0
    depth = 0
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(1 << 16):
            data = tail + chunk
            cut = len(data) - 8 if len(data) > 8 else 0
            count += len(_SHARED_STRING_RE.findall(data, 0, cut))
            body = data[:cut]
            opened = body.count(b"<") - body.count(b"</") - body.count(b"<?") - body.count(b"<!")
            depth += opened - body.count(b"</") - body.count(b"/>")
            tail = data[cut:]
            if count > limits.max_shared_strings:
                raise SpreadsheetRefused(f"{BOMB}共享字符串超过 {limits.max_shared_strings:,} 个")
            if depth > MAX_XML_DEPTH:
                raise SpreadsheetRefused(f"{BOMB}共享字符串部分的 XML 嵌套超过 {MAX_XML_DEPTH} 层")
        count += len(_SHARED_STRING_RE.findall(tail))
    if count > limits.max_shared_strings:
        raise SpreadsheetRefused(f"{BOMB}共享字符串超过 {limits.max_shared_strings:,} 个")


def _first_sheet_path(archive: zipfile.ZipFile, limits: Limits) -> str | None:
    """The part of the workbook's first sheet (the one openpyxl opens), from workbook.xml and its relationships."""
    from xml.etree import ElementTree

    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        info = archive.getinfo(name) if name in archive.namelist() else None
        if info is not None and info.file_size > limits.max_part_bytes:
            raise _part_too_large(info, limits)
    if "xl/_rels/workbook.xml.rels" not in archive.namelist():
        return None
    try:
        first_id = None
        with archive.open("xl/workbook.xml") as part:
            for _event, element in ElementTree.iterparse(part):
                if element.tag == f"{_MAIN_NS}sheet":
                    first_id = element.get(_REL_ID)
                    break
        if first_id is None:
            return None
        with archive.open("xl/_rels/workbook.xml.rels") as part:
            for _event, element in ElementTree.iterparse(part):
                if element.tag.endswith("Relationship") and element.get("Id") == first_id:
                    target = element.get("Target") or ""
                    return target.lstrip("/") if target.startswith("/") else "xl/" + target
    except ElementTree.ParseError as exc:
        raise SpreadsheetRefused(UNREADABLE) from exc
    return None


def _check_declared_dimension(archive: zipfile.ZipFile, sheet_path: str, limits: Limits
                              ) -> tuple[int | None, int | None] | None:
    """The sheet's <dimension> comes before its rows: read from the first bytes, before any cell is parsed."""
    with archive.open(sheet_path) as part:
        head = part.read(64 * 1024)
    data_at = _SHEET_DATA_RE.search(head)
    match = _DIMENSION_RE.search(head, 0, data_at.start() if data_at else len(head))
    if match is None:
        return None
    ref = match.group(1).decode("ascii")
    _min_col, _min_row, max_col, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    if max_row is not None and max_row > limits.max_rows:
        raise SpreadsheetRefused(too_many_rows(limits))
    if max_col is not None and max_col > limits.max_columns:
        raise SpreadsheetRefused(too_many_columns(limits))
    return max_col, max_row


def _declares_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    # A DOCTYPE must come before the root element, so the first few kilobytes tell.
    with archive.open(info) as part:
        return b"<!DOCTYPE" in part.read(4096).upper()


class PlainCell:
    """A cell as read: its value, and data_type "f" where it held a formula (its text), "n" otherwise."""

    __slots__ = ("value", "data_type")

    def __init__(self, value: Any, data_type: str = "n") -> None:
        self.value = value
        self.data_type = data_type


class PlainRow(Sequence[PlainCell]):
    """A row's values, with the cells made only for the columns an importer looks at (a registry row has a dozen
    columns, of which an import reads a few: building every cell cost more than the parse)."""

    __slots__ = ("values", "formulas")

    def __init__(self, values: tuple[Any, ...], formulas: tuple[int, ...] = ()) -> None:
        self.values = values
        self.formulas = formulas

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> PlainCell: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[PlainCell, ...]: ...

    def __getitem__(self, index: int | slice) -> PlainCell | tuple[PlainCell, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self.values))))
        if index < 0:
            index += len(self.values)
        value = self.values[index]
        return PlainCell(value, "f" if index in self.formulas else "n")

    def __iter__(self) -> Iterator[PlainCell]:
        formulas = self.formulas
        for index, value in enumerate(self.values):
            yield PlainCell(value, "f" if index in formulas else "n")


RowValues = tuple[int, tuple[Any, ...], tuple[int, ...]]  # row number, values, indexes of formula cells


@dataclass
class Sheet:
    """The first worksheet of a checked workbook, read row by row with openpyxl's own sheet parser.

    Not through openpyxl's read-only worksheet: opening one scans its whole sheet once more when the file has no
    <dimension> near the top (as openpyxl's own write-only files have not: 18 of 25 s reading a county registry),
    and it builds a cell object per cell before anyone asks for it."""

    path: Path
    limits: Limits
    title: str
    max_row: int | None
    max_column: int | None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row
    _archive: zipfile.ZipFile | None = None
    _sheet_path: str = ""
    _parser_options: dict[str, Any] = field(default_factory=dict)

    def values(self) -> Iterator[RowValues]:
        """(row number, values, formula indexes) for every row, blank ones included, each as wide as the declared
        dimension (or the column limit); text as the spreadsheet shows it, a formula as its text."""
        width = min(self.max_column or self.limits.max_columns, self.limits.max_columns)
        blank = (None,) * width
        max_rows = self.limits.max_rows
        if self._archive is None:
            return
        # Every row the sheet holds, not only those its declared dimension names: some exporters declare "A1" for
        # a whole registry (a short dimension would end the read early and lose rows), and a bomb may lie.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it drops
            try:
                with self._archive.open(self._sheet_path) as source:
                    parser = WorkSheetParser(source, **self._parser_options)
                    expected = 1
                    for number, cells in parser.parse():
                        if number > max_rows:
                            raise SpreadsheetRefused(too_many_rows(self.limits))
                        while expected < number:
                            yield expected, blank, ()
                            expected += 1
                        yield number, *_row_values(cells, width)
                        expected = number + 1
            except SpreadsheetRefused:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError, SyntaxError,
                    zlib.error) as exc:
                raise SpreadsheetRefused(CORRUPT) from exc

    def rows(self) -> Iterator[tuple[int, PlainRow]]:
        """(row number, cells) for every row, as `values` reads them."""
        for number, values, formulas in self.values():
            yield number, PlainRow(values, formulas)

    def merged_in_rows(self, first_row: int, last_row: int | None = None) -> tuple[int, int, int, int] | None:
        return merged_in_rows(self.merged, first_row, last_row)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _row_values(cells: list[dict[str, Any]], width: int) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    values: list[Any] = [None] * width
    formulas: list[int] = []
    for cell in cells:
        index = cell["column"] - 1
        if 0 <= index < width:
            value = cell["value"]
            kind = cell["data_type"]
            if kind == "s" and value is not None and "_x" in value:
                value = from_xstring(value)
            elif kind == "f":
                formulas.append(index)
            values[index] = value
    return tuple(values), tuple(formulas)


def merged_in_rows(merged: list[tuple[int, int, int, int]], first_row: int, last_row: int | None = None
                   ) -> tuple[int, int, int, int] | None:
    """The first merged range that touches rows first_row..last_row, if any."""
    for box in merged:
        _min_col, min_row, _max_col, max_row = box
        if max_row >= first_row and (last_row is None or min_row <= last_row):
            return box
    return None


def too_many_rows(limits: Limits) -> str:
    return f"表格行数超过上限（{limits.max_rows:,} 行），请拆分后分批导入"


def too_many_columns(limits: Limits) -> str:
    return f"表格列数超过上限（{limits.max_columns} 列），请只保留需要导入的列"


def open_sheet(path: Path, limits: Limits) -> Sheet:
    """Check the container and its parts, then open the first worksheet and check its size and merged ranges.
    Parses the upload: run it within a budget (`app.excel.bounded.open_upload`), not in a web worker."""
    check_container(path, limits)
    dimension = check_parts(path, limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = ExcelReader(path, read_only=True, keep_vba=False, data_only=False, keep_links=False)
        except Exception as exc:
            raise SpreadsheetRefused(UNREADABLE) from exc
        try:
            # What openpyxl's load_workbook does, up to the worksheets: the strings and the styles (dates are
            # numbers with a date format) the sheet parser needs.
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            first = next(((sheet, rel) for sheet, rel in reader.parser.find_sheets()
                          if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        except MemoryError:
            reader.archive.close()
            raise
        except Exception as exc:  # openpyxl raises many kinds on malformed parts; all mean "unreadable"
            reader.archive.close()
            raise SpreadsheetRefused(UNREADABLE) from exc
    if first is None:
        reader.archive.close()
        raise SpreadsheetRefused("工作簿中没有工作表")
    sheet_entry, relationship = first
    workbook = reader.wb
    # The declared dimension, when it is the sheet read here (check_parts found the first <sheet>; openpyxl's
    # first worksheet skips chart sheets).
    max_column, max_row = (dimension[1], dimension[2]) if dimension and dimension[0] == relationship.target \
        else (None, None)
    sheet = Sheet(path=path, limits=limits, title=sheet_entry.name, max_row=max_row, max_column=max_column,
                  _archive=reader.archive, _sheet_path=relationship.target,
                  _parser_options={"shared_strings": reader.shared_strings, "data_only": False,
                                   "epoch": workbook.epoch, "date_formats": workbook._date_formats,
                                   "timedelta_formats": workbook._timedelta_formats})
    try:
        sheet.merged = _merged_ranges(path, relationship.target)
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


def save_upload(stream: IO[bytes], target: Path, max_bytes: int, digest: Any = None) -> int:
    """Copy an uploaded stream to `target`, refusing (and removing the file) past max_bytes; `digest` (a hashlib
    object), when given, takes in the bytes as they are written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise UploadTooLarge(max_bytes)
            if digest is not None:
                digest.update(chunk)
            out.write(chunk)
    return written


class UploadTooLarge(SpreadsheetRefused):
    status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"上传的文件过大（上限 {size_label(max_bytes)}），请拆分后分批导入")


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"
