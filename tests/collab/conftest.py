"""Attachments go to a temporary folder per test, never to the real instance folder; helpers to upload files
through the real case page (CSRF token and all) and to read the stored state."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

# The first bytes of each kind of file the checks must recognise, padded to a realistic length.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def attachments_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(folder))
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    return folder


def stored_files(folder: Path) -> list[Path]:
    """Every file under the attachments folder, temporary copies included."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def upload(browser: Any, case_id: int, content: bytes, name: str, **fields: str) -> Any:
    """POST the upload form of the case page, as the phone's browser would."""
    token = browser._csrf(browser.get(f"/cases/{case_id}").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "file": (io.BytesIO(content), name), **fields}
    return browser.client.post(f"/cases/{case_id}/attachments", data=data, content_type="multipart/form-data")


def api_upload(client: Any, case_id: int, content: bytes, name: str, **fields: str) -> Any:
    data: dict[str, Any] = {"file": (io.BytesIO(content), name), **fields}
    return client.post(f"/api/v1/cases/{case_id}/attachments", data=data, content_type="multipart/form-data")


def fetch(get: Any, url: str) -> Any:
    """GET a download, read it whole and close it (the file behind it is closed with the response)."""
    response = get(url)
    response.get_data()
    response.close()
    return response
