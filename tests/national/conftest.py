"""A lead's papers and a case's attachments go to a temporary folder per test, never to the real instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def attachments_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(folder))
    return folder
