"""What a file is, read from its first bytes; the name and the browser's content type are not trusted."""

from __future__ import annotations

from dataclasses import dataclass

# Enough of the start of any accepted file to recognise it.
HEAD_BYTES = 32


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    suffixes: tuple[str, ...]  # the first is the one given to a download whose name lacks a fitting one


JPEG = FileType("image/jpeg", "JPEG 图片", (".jpg", ".jpeg", ".jpe", ".jfif"))
PNG = FileType("image/png", "PNG 图片", (".png",))
WEBP = FileType("image/webp", "WebP 图片", (".webp",))
HEIC = FileType("image/heic", "HEIC 图片", (".heic", ".heif"))
HEIF = FileType("image/heif", "HEIF 图片", (".heif", ".heic"))
PDF = FileType("application/pdf", "PDF 文件", (".pdf",))

ACCEPTED = (JPEG, PNG, WEBP, HEIC, HEIF, PDF)
ACCEPTED_LABEL = "JPEG、PNG、WebP、HEIC 图片或 PDF 文件"

# ISO base media files (HEIF and its HEVC flavour, as phones save photos) name their brand after "ftyp".
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}


def detect(head: bytes) -> FileType | None:
    """The accepted type the bytes begin like, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _HEIF_BRANDS:
            return HEIF
    return None


def by_content_type(content_type: str) -> FileType | None:
    return next((t for t in ACCEPTED if t.content_type == content_type), None)


def size_label(size: int) -> str:
    """10 MB, 512 KB, 900 字节: how a limit is named to the user."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} 字节"
