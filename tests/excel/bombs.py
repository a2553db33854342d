"""Hostile workbooks, built in the tests, streamed to disk part by part so that making one costs the test little
memory: what an attacker with an account that may upload would send."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.excel.conftest import workbook_bytes

HEADER = ["乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "家庭人口", "脱贫年度", "联系电话"]
GOOD_ROW = ["城关镇", "金星村（演示）", "6109221000019301", "马兴", "610922196903039811", "户主", 1, 2018, ""]
SST_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def base_parts() -> dict[str, bytes]:
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([HEADER, GOOD_ROW])))
    return {info.filename: source.read(info.filename) for info in source.infolist()}


def write_workbook(path: Path, streamed: dict[str, Iterable[bytes]], extra: dict[str, bytes] | None = None,
                   drop: tuple[str, ...] = ()) -> Path:
    """A real workbook with parts replaced: `streamed` parts are written chunk by chunk."""
    parts = {name: data for name, data in base_parts().items() if name not in drop}
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for name, data in parts.items():
            if name not in streamed:
                target.writestr(name, data)
        for name, chunks in streamed.items():
            with target.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def shared_strings_bomb(path: Path, megabytes: int = 100) -> Path:
    """The issue's bomb: a couple of MB that expands to `megabytes` of shared strings, at a compression ratio (about
    56) far below what the archive check calls a bomb."""
    rng = random.Random(1)

    def chunks() -> Iterator[bytes]:
        yield SST_HEAD
        written = 0
        while written < megabytes * 1024 * 1024:
            data = "".join(f"<si><t>{rng.getrandbits(12):03x}{'户' * 60}</t></si>" for _ in range(4000)).encode()
            written += len(data)
            yield data
        yield b"</sst>"

    return write_workbook(path, {"xl/sharedStrings.xml": chunks()}, extra=_shared_strings_content_types())


def many_shared_strings(path: Path, count: int, text: str = "") -> Path:
    """`count` distinct strings (`text` and a number): few megabytes, but each a Python object once openpyxl builds
    the list."""
    def chunks() -> Iterator[bytes]:
        yield SST_HEAD
        for start in range(0, count, 10_000):
            yield "".join(f"<si><t>{text}{n}</t></si>" for n in range(start, min(start + 10_000, count))).encode()
        yield b"</sst>"

    return write_workbook(path, {"xl/sharedStrings.xml": chunks()}, extra=_shared_strings_content_types())


def _shared_strings_content_types() -> dict[str, bytes]:
    parts = base_parts()
    types = parts["[Content_Types].xml"]
    if b"sharedStrings" not in types:
        types = types.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                           b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                                           b"</Types>")
    rels = parts["xl/_rels/workbook.xml.rels"]
    if b"sharedStrings" not in rels:
        rels = rels.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/'
                                                 b'officeDocument/2006/relationships/sharedStrings" '
                                                 b'Target="sharedStrings.xml"/></Relationships>')
    return {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels}


def sheet_rows(path: Path, rows: int, dimension: str = "A1:I2", cells_per_row: int = 1,
               header: list[str] | None = None) -> Path:
    """A sheet of `rows` rows of empty cells (under a `header` row, if given) beneath a `dimension` that need not
    tell the truth."""
    def chunks() -> Iterator[bytes]:
        yield SHEET_HEAD + f'<dimension ref="{dimension}"/><sheetData>'.encode()
        first = 1
        if header:
            yield ('<row r="1">' + "".join(f'<c r="{"ABCDEFGHI"[i]}1" t="inlineStr"><is><t>{title}</t></is></c>'
                                           for i, title in enumerate(header)) + "</row>").encode()
            first = 2
        for start in range(first, rows + 1, 10_000):
            yield "".join(f'<row r="{n}">' + "".join(f'<c r="{column}{n}"/>' for column in "ABCDEFGHI"[:cells_per_row])
                          + "</row>" for n in range(start, min(start + 10_000, rows + 1))).encode()
        yield b"</sheetData></worksheet>"

    return write_workbook(path, {"xl/worksheets/sheet1.xml": chunks()})


def deeply_nested(path: Path, part: str = "xl/styles.xml", depth: int = 100_000) -> Path:
    """Elements nested `depth` deep (under the 1 MB above which the compression ratio is judged)."""
    return write_workbook(path, {part: iter([b"<a>" * depth, b"</a>" * depth])})


def deeply_nested_sheet(path: Path, depth: int = 1_000_000) -> Path:
    """Rows' worth of elements nested `depth` deep inside the sheet's data, each with a little random text so that
    the part compresses like a real sheet (the parser holds every open element: hundreds of MB)."""
    rng = random.Random(2)

    def chunks() -> Iterator[bytes]:
        yield SHEET_HEAD + b'<dimension ref="A1:I2"/><sheetData>'
        for start in range(0, depth, 50_000):
            yield "".join(f'<a b="{rng.getrandbits(16):04x}">' for _ in range(min(50_000, depth - start))).encode()
        for start in range(0, depth, 50_000):
            yield b"</a>" * min(50_000, depth - start)
        yield b"</sheetData></worksheet>"

    return write_workbook(path, {"xl/worksheets/sheet1.xml": chunks()})


def many_entries(path: Path, count: int = 3_000) -> Path:
    return write_workbook(path, {}, extra={f"xl/media/image{n}.png": b"x" for n in range(count)})


def declared_small(path: Path, real_megabytes: int = 20, declared: int = 1_000) -> Path:
    """Shared strings that hold `real_megabytes` but whose zip headers declare `declared` bytes."""
    count = real_megabytes * 1024 * 1024 // 20
    strings = SST_HEAD + "".join(f"<si><t>{n}</t></si>" for n in range(count)).encode() + b"</sst>"
    extra = {**_shared_strings_content_types(), "xl/sharedStrings.xml": strings}
    write_workbook(path, {}, extra=extra)
    data = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    # The uncompressed size stands in the local header (offset 22; name length at 26, name at 30) and in the central
    # directory (offset 24; name length at 28, name at 46).
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at != -1:
            (length,) = struct.unpack_from("<H", data, at + length_at)
            if bytes(data[at + name_at:at + name_at + length]) == name:
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path
