"""`make test` brings what the suite needs beyond pip and npm (the Makefile's `system-packages` step): nothing happens
when every program is there, and a missing one is named by its package, with the command that installs it.

The step is run for real with `make`, on a PATH made for the test: every program of this machine's PATH except the
ones a case hides, and stand-ins where a case needs one (`id` for a user who is not root, an `fc-list` that finds
no Chinese font). apt-get is hidden in every case that finds something missing, so nothing is installed here."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shadow_path(folder: Path, hide: set[str], stand_ins: dict[str, str]) -> str:
    """A PATH of one folder: links to the programs of today's PATH, less `hide`, plus the stand-in scripts."""
    folder.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = folder / entry.name
            if entry.name in hide or entry.name in stand_ins or link.exists() or link.is_symlink():
                continue
            if os.access(entry.path, os.X_OK) and not entry.is_dir():
                link.symlink_to(entry.path)
    for name, script in stand_ins.items():
        (folder / name).write_text("#!/bin/sh\n" + script + "\n")
        (folder / name).chmod(0o755)
    return str(folder)


def system_packages(path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=path) if path else dict(os.environ)
    return subprocess.run(["make", "-s", "--no-print-directory", "system-packages"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_with_everything_present_the_step_does_nothing():
    started = time.monotonic()
    result = system_packages()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert time.monotonic() - started < 30  # a few probes, no package manager


@pytest.mark.parametrize(("hidden", "stand_ins", "package"), [
    ({"soffice"}, {}, "libreoffice-calc-nogui"),
    ({"chromium"}, {}, "chromium"),
    ({"pdffonts"}, {}, "poppler-utils"),
    (set(), {"fc-list": "exit 0"}, "fonts-noto-cjk"),  # fontconfig there, but no Chinese font
], ids=["spreadsheet", "browser", "pdf-tools", "cjk-font"])
def test_a_missing_program_is_named_by_its_package(tmp_path, hidden, stand_ins, package):
    path = shadow_path(tmp_path / "bin", hidden | {"apt-get"}, stand_ins)
    result = system_packages(path)
    assert result.returncode != 0
    line = result.stderr.strip()
    assert line.startswith("make test needs these system packages:"), result.stderr
    named = line.split(":", 1)[1].split(";")[0].split("(")[0].split()
    assert named == [package], line


def test_without_root_or_sudo_it_stops_at_once_with_the_install_command(tmp_path):
    path = shadow_path(tmp_path / "bin", {"soffice", "sudo", "apt-get"}, {"id": "echo 1000"})
    result = system_packages(path)
    assert result.returncode != 0
    assert "make test needs these system packages: libreoffice-calc-nogui; install them with: " \
           "sudo apt-get install libreoffice-calc-nogui" in result.stderr, result.stderr
    assert "== installing" not in result.stdout
