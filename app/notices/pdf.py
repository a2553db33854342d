"""A notice as an A4 PDF that carries its own font (fpdf2, with fontTools subsetting the face).

A village office prints from whatever viewer or printer driver it has, so nothing is left to the viewer: the
glyphs the notice uses are embedded, a subset of a Chinese Song (serif) face found on the server through
fontconfig (Noto Serif CJK SC of Debian's fonts-noto-cjk, which `make run` and `make test` install; any
installed face that covers Simplified Chinese otherwise), or the file the NOTICE_FONT_FILE setting names.
A character the face lacks (a rare one outside the common planes) is printed as a full-width ？, to be written
in by hand, rather than dropped from a name.

The layout: A4, the title, the opening paragraph, the table (its header repeated on each page), the period and
where it is posted, the supervision lines, the issuing unit and the date, page numbers when there is more than one
page. What a notice may show is decided in `app.notices.lists` (no ID number, phone, bank or reason text)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import DomainError
from app.notices.lists import Notice

if TYPE_CHECKING:
    from fpdf import FPDF

MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 62.0, 64.0, 60.0  # points, on A4
BODY = 12.0
FAMILY = "notice"
FONTCONFIG_PATTERNS = ("Noto Serif CJK SC:lang=zh-cn", "serif:lang=zh-cn", "sans-serif:lang=zh-cn")
MISSING_GLYPH = "？"


class NoticeFontMissing(DomainError):
    """No Chinese face to embed: the notice can still be printed from its page, not as a PDF."""

    status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(f"服务器上没有可嵌入的中文字体，暂时无法生成 PDF（{detail}）：请用“打印”按钮打印本页，"
                         "并请系统管理员安装 fonts-noto-cjk 字体包或在设置 NOTICE_FONT_FILE 中指定中文字体文件")


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int  # the face within a collection (.ttc); 0 for a single font file


def find_font(configured: str | None, configured_index: int = 0) -> FontChoice:
    """The face to embed: the configured file, or what fontconfig finds for Simplified Chinese."""
    if configured:
        if not Path(configured).is_file():
            raise NoticeFontMissing(f"NOTICE_FONT_FILE 指定的 {configured} 不存在")
        return FontChoice(configured, configured_index)
    found = _fontconfig_font()
    if found is None:
        raise NoticeFontMissing("fontconfig 找不到覆盖简体中文的字体")
    return found


@lru_cache(maxsize=1)
def _fontconfig_font() -> FontChoice | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    for pattern in FONTCONFIG_PATTERNS:
        try:
            answer = subprocess.run([fc_match, "--format=%{file}\t%{index}\t%{lang}", pattern],
                                    capture_output=True, text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        path, _, rest = answer.partition("\t")
        index, _, languages = rest.partition("\t")
        # fontconfig always answers something: only a face that covers Simplified Chinese will do.
        if path.endswith((".ttf", ".otf", ".ttc", ".otc")) and "zh-cn" in languages.split("|") and Path(path).is_file():
            return FontChoice(path, int(index or 0))
    return None


@lru_cache(maxsize=1)
def _document_class() -> Any:
    """fpdf2 (with fontTools and Pillow, some 20 MB) is loaded when a PDF is first asked for, not by every web
    worker at start-up."""
    from fpdf import FPDF
    from fpdf.enums import Align

    class NoticePDF(FPDF):  # type: ignore[misc]
        def __init__(self, numbered: bool) -> None:
            super().__init__(orientation="portrait", unit="pt", format="A4")
            self.numbered = numbered

        def footer(self) -> None:
            if self.numbered:  # "{nb}" is fpdf2's alias for the page count, filled in at output
                self.set_y(-(MARGIN_BOTTOM - 12))
                self.set_font(FAMILY, size=9)
                self.cell(0, 12, f"第 {self.page_no()} 页 共 {{nb}} 页", align=Align.C)

    return NoticePDF


def render_notice_pdf(notice: Notice, font: FontChoice) -> bytes:
    pages = _output(notice, font, numbered=False)
    if pages[0] > 1:  # page numbers only when there is more than one page
        pages = _output(notice, font, numbered=True)
    return pages[1]


def _output(notice: Notice, font: FontChoice, numbered: bool) -> tuple[int, bytes]:
    from fpdf.fonts import TTFFont

    pdf = _document_class()(numbered)
    try:
        _render(pdf, notice, font)
        return pdf.pages_count, bytes(pdf.output())
    finally:
        for face in pdf.fonts.values():  # fontTools reads the font file lazily and keeps it open
            if isinstance(face, TTFFont):
                face.ttfont.close()


def _render(pdf: FPDF, notice: Notice, font: FontChoice) -> None:
    from fpdf.enums import Align, WrapMode, XPos, YPos

    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.set_auto_page_break(True, margin=MARGIN_BOTTOM)
    pdf.add_font(FAMILY, fname=font.path, collection_font_number=font.index)
    pdf.set_title(notice.title)
    pdf.set_creator("返贫监测认定和帮扶")
    printable = _Printable(pdf)
    pdf.add_page()
    pdf.set_font(FAMILY, size=17)
    pdf.multi_cell(0, 26, printable(notice.title), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                   wrapmode=WrapMode.CHAR)
    pdf.ln(14)
    _paragraph(pdf, printable(notice.intro))
    _table(pdf, notice, printable)
    for text in notice.closing_lines:
        _paragraph(pdf, printable(text))
    pdf.set_font(FAMILY, size=BODY)
    if pdf.will_page_break(100):
        pdf.add_page()
    pdf.ln(24)
    for text in notice.signatures:
        pdf.cell(0, 22, printable(text), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


class _Printable:
    """Text as the embedded face can print it: a character it has no glyph for becomes a full-width ？."""

    def __init__(self, pdf: FPDF) -> None:
        from fpdf.fonts import TTFFont

        face = pdf.fonts[FAMILY]
        assert isinstance(face, TTFFont)  # added from a file, never one of PDF's 14 standard fonts
        self.cmap = face.cmap

    def __call__(self, text: str) -> str:
        cmap = self.cmap
        return "".join(ch if ord(ch) in cmap or ch in "\n\t " else MISSING_GLYPH for ch in text)


def _paragraph(pdf: FPDF, text: str) -> None:
    from fpdf.enums import Align, WrapMode, XPos, YPos

    pdf.set_font(FAMILY, size=BODY)
    pdf.multi_cell(0, BODY * 1.7, "　　" + text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                   wrapmode=WrapMode.CHAR)  # Chinese breaks between any two characters
    pdf.ln(6)


def _columns(notice: Notice) -> list[tuple[str, float]]:
    columns = [("序号", 34.0), ("户主姓名", 72.0), ("村民小组", 66.0), ("家庭人口", 58.0),
               (notice.kind.result_header, 0.0)]
    if notice.rows and notice.common_posting is None:
        columns.append((f"{notice.kind.label}期", 132.0))
    width = 595.28 - 2 * MARGIN_X
    rest = width - sum(w for _, w in columns)
    return [(name, w or rest) for name, w in columns]


def _row_cells(notice: Notice, index: int) -> list[str]:
    row = notice.rows[index]
    cells = [str(index + 1), row.head_name, "", f"{row.size}人", row.result]
    if notice.common_posting is None:
        posting = row.posting
        cells.append(f"{posting.posted_on:%Y.%m.%d}—{posting.ends_on:%m.%d}（{posting.period_days}天）"
                     if posting else "尚未张贴")
    return cells


def _table(pdf: FPDF, notice: Notice, printable: _Printable) -> None:
    from fpdf.enums import Align, TableBordersLayout, VAlign, WrapMode
    from fpdf.fonts import FontFace

    columns = _columns(notice)
    pdf.set_font(FAMILY, size=11)
    heading = FontFace(family=FAMILY, emphasis=None, size_pt=BODY, fill_color=None)
    with pdf.table(col_widths=[w for _, w in columns], width=sum(w for _, w in columns), align=Align.L,
                   text_align=Align.C, v_align=VAlign.M, line_height=11 * 1.3, padding=(4.5, 3), wrapmode=WrapMode.CHAR,
                   headings_style=heading, repeat_headings=1, borders_layout=TableBordersLayout.ALL,
                   first_row_as_headings=True) as table:
        table.row([name for name, _ in columns])
        for index in range(len(notice.rows)):
            table.row([printable(cell) for cell in _row_cells(notice, index)])
        if not notice.rows:
            table.row().cell(f"本村目前没有{notice.kind.label}中的户", colspan=len(columns))
    pdf.ln(14)
