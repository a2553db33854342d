"""A notice as an A4 PDF, written by hand: no PDF library, no font file.

The text uses the standard Chinese CID font STSong-Light (Adobe-GB1, UniGB-UCS2-H), which PDF viewers supply
themselves (Acrobat's Asian font pack, pdf.js, PDFium and poppler substitute a Song/Ming face), so nothing is
embedded and the file stays a few kilobytes. Streams are left uncompressed: the text can be checked in tests.
Half-width characters are set in half an em (the full stop in a quarter), everything else in a full em."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.notices.lists import Notice

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 62.0, 64.0, 60.0
ROW_H = 24.0
BODY = 12.0


def _em(ch: str) -> float:
    return 0.25 if ch == "." else 0.5 if ord(ch) < 0x7F else 1.0


def text_width(text: str, size: float) -> float:
    return sum(_em(ch) for ch in text) * size


def wrap(text: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if line and text_width(line + ch, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def _hex(text: str) -> str:
    # UCS-2: characters outside the BMP (rare in names) cannot be set in this encoding; show a full-width ？.
    return "".join(f"{ord(ch):04X}" if ord(ch) <= 0xFFFF else "FF1F" for ch in text)


@dataclass
class _Page:
    ops: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, size: float = BODY) -> None:
        if text:
            self.ops.append(f"BT /F1 {size:g} Tf {x:.2f} {y:.2f} Td <{_hex(text)}> Tj ET")

    def centred(self, y: float, text: str, size: float, left: float = MARGIN_X,
                right: float = PAGE_W - MARGIN_X) -> None:
        self.text(left + (right - left - text_width(text, size)) / 2, y, text, size)

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.ops.append(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")


class _Layout:
    """Pages filled top to bottom; a new page when the next block does not fit."""

    def __init__(self) -> None:
        self.pages: list[_Page] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> _Page:
        self.pages.append(_Page(["0.6 w 0 g 0 G"]))
        self.y = PAGE_H - MARGIN_TOP
        return self.pages[-1]

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def need(self, height: float) -> None:
        if self.y - height < MARGIN_BOTTOM:
            self.new_page()

    def paragraph(self, text: str, size: float = BODY, indent: bool = True, gap: float = 6.0) -> None:
        width = PAGE_W - 2 * MARGIN_X
        for line in wrap(("　　" if indent else "") + text, size, width):
            self.need(size * 1.7)
            self.y -= size * 1.7
            self.page.text(MARGIN_X, self.y, line, size)
        self.y -= gap


def _columns(notice: Notice) -> list[tuple[str, float]]:
    cols = [("序号", 34.0), ("户主姓名", 72.0), ("村民小组", 66.0), ("家庭人口", 58.0),
            (notice.kind.result_header, 0.0)]
    if notice.rows and notice.common_posting is None:
        cols.append((f"{notice.kind.label}期", 132.0))
    rest = PAGE_W - 2 * MARGIN_X - sum(w for _, w in cols)
    return [(name, w or rest) for name, w in cols]


def _row_cells(notice: Notice, index: int) -> list[str]:
    row = notice.rows[index]
    cells = [str(index + 1), row.head_name, "", f"{row.size}人", row.result]
    if notice.common_posting is None:
        p = row.posting
        cells.append(f"{p.posted_on:%Y.%m.%d}—{p.ends_on:%m.%d}（{p.period_days}天）" if p else "尚未张贴")
    return cells


def _table(layout: _Layout, notice: Notice) -> None:
    cols = _columns(notice)
    left = MARGIN_X

    def draw_row(cells: Iterable[str], size: float = BODY) -> None:
        wrapped = [wrap(cell, size, width - 6) for (_, width), cell in zip(cols, cells, strict=True)]
        lines = max(1, *(len(w) for w in wrapped))
        height = max(ROW_H, lines * size * 1.3 + 9)
        if layout.y - height < MARGIN_BOTTOM:
            layout.new_page()
            header()
        page = layout.page
        top, bottom = layout.y, layout.y - height
        page.line(left, bottom, PAGE_W - MARGIN_X, bottom)
        x = left
        for (_, width), cell_lines in zip(cols, wrapped, strict=True):
            first = bottom + (height + (len(cell_lines) - 1) * size * 1.3 - size) / 2 + 1.5
            for number, text in enumerate(cell_lines):
                page.centred(first - number * size * 1.3, text, size, x, x + width)
            x += width
        x = left
        for _, width in cols:
            page.line(x, top, x, bottom)
            x += width
        page.line(x, top, x, bottom)
        layout.y = bottom

    def header() -> None:
        layout.page.line(left, layout.y, PAGE_W - MARGIN_X, layout.y)
        draw_row([name for name, _ in cols])

    layout.need(ROW_H * 2)
    header()
    for index in range(len(notice.rows)):
        draw_row(_row_cells(notice, index), 11.0)
    if not notice.rows:
        layout.need(ROW_H)
        layout.page.line(left, layout.y - ROW_H, left, layout.y)
        layout.page.line(PAGE_W - MARGIN_X, layout.y - ROW_H, PAGE_W - MARGIN_X, layout.y)
        layout.page.line(left, layout.y - ROW_H, PAGE_W - MARGIN_X, layout.y - ROW_H)
        layout.page.centred(layout.y - ROW_H + 7.5, f"本村目前没有{notice.kind.label}中的户", BODY)
        layout.y -= ROW_H
    layout.y -= 14


def render_notice_pdf(notice: Notice) -> bytes:
    layout = _Layout()
    for line in wrap(notice.title, 17, PAGE_W - 2 * MARGIN_X):
        layout.y -= 26
        layout.page.centred(layout.y, line, 17)
    layout.y -= 18
    layout.paragraph(notice.intro)
    _table(layout, notice)
    for text in notice.closing_lines:
        layout.paragraph(text)
    layout.need(100)
    layout.y -= 24
    right = PAGE_W - MARGIN_X
    for text in notice.signatures:
        layout.y -= 22
        layout.page.text(right - text_width(text, BODY) - 12, layout.y, text)
    pages = layout.pages
    for number, page in enumerate(pages, start=1):
        if len(pages) > 1:
            page.centred(MARGIN_BOTTOM - 30, f"第 {number} 页 共 {len(pages)} 页", 9)
    return _document([p.ops for p in pages], notice.title)


def _document(pages: list[list[str]], title: str) -> bytes:
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # filled in below, once the pages object exists
    pages_id = add("")
    descriptor = add("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                     "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
    cid_font = add("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                   "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
                   f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [1 14 500 15 15 250 16 95 500] >>")
    font = add(f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H /Encoding /UniGB-UCS2-H "
               f"/DescendantFonts [{cid_font} 0 R] >>")
    kids = []
    for ops in pages:
        stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                        f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("latin-1")
    objects[pages_id - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                             f"/Count {len(kids)} >>").encode("latin-1")
    info = add(f"<< /Title <FEFF{_hex(title)}> /Producer (rpm-shiquan) >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, catalog, info, xref))
    return bytes(out)
