"""Uploading workbooks through the real pages, and waiting for a background import to finish."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # noqa: TID251 (a third party's workbook, as users bring them)
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

DATA = Path(__file__).resolve().parent.parent / "data"


def upload(browser: Any, url: str, content: bytes, name: str, page: str, **fields: str) -> Any:
    """POST a multipart form with the CSRF token of `page`, as the browser would. The body is encoded in memory:
    the test client would spool a large one to a temporary file that it never closes."""
    token = browser._csrf(browser.get(page).get_data(as_text=True))
    file = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    data: dict[str, Any] = {"csrf_token": token, "file": file, **fields}
    boundary, body = encode_multipart(MultiDict(data))
    return browser.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def import_households(browser: Any, content: bytes, name: str = "农户.xlsx", valid_only: bool = False) -> Any:
    """Upload to /households/import and follow the job page until it stops refreshing; returns that page."""
    fields = {"valid_only": "1"} if valid_only else {}
    return follow_job(browser, upload(browser, "/households/import", content, name, "/households/import", **fields))


def follow_job(browser: Any, response: Any) -> Any:
    """From the redirect to a background job's page, follow that page until it stops refreshing; returns it (its
    address as `job_url`)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_url = response.headers["Location"]
    response.close()  # and the request's body with it: a large one is a temporary file
    deadline = time.monotonic() + 60
    while True:
        page = browser.get(job_url)
        assert page.status_code == 200
        if "Refresh" not in page.headers:
            page.job_url = job_url
            return page
        assert time.monotonic() < deadline, f"the job at {job_url} did not finish within 60 s"
        time.sleep(0.05)


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def workbook_bytes(rows: list[list[Any]], text_columns: tuple[int, ...] = (), merge: str | None = None) -> bytes:
    """A small workbook written by openpyxl (for the cases LibreOffice's CSV import cannot make)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for column in text_columns:
        for cells in sheet.iter_rows(min_col=column, max_col=column):
            cells[0].number_format = "@"
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _imports_folder(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads and error workbooks of these tests go to a temporary folder, not instance/."""
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORTS_FOLDER", str(folder))
    return folder


@pytest.fixture()
def county_office(login_as: Any) -> Any:
    return login_as("county_office")
