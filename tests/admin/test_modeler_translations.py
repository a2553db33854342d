"""The administrators' modeler speaks Chinese: every string its bundle passes to bpmn-js's `translate` has a
Chinese translation (app/frontend/check-translations.mjs reads the bundle as the page gets it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "app" / "frontend"


def test_every_string_the_modeler_translates_is_chinese() -> None:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "esbuild").is_dir():
        pytest.fail("needs Node.js and app/frontend/node_modules: run `make assets` (npm ci) first", pytrace=False)
    done = subprocess.run([node, "check-translations.mjs"], cwd=FRONTEND, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 not in Chinese" in done.stdout
