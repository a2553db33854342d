"""An upload is judged by what it would cost before it is parsed, and parsed only in a child process with a memory
and time budget: a hostile workbook is refused within seconds, in Chinese, nothing is stored, and the process
that received it stays small and keeps serving."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.excel.bounded import Budget, open_upload
from app.excel.reading import Limits, SpreadsheetRefused
from app.extensions import db
from app.models import Household, ImportJob, RiskRegistration
from tests.excel import bombs
from tests.excel.conftest import import_households, upload

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "文件过大或结构异常，已拒绝："
# The process that asks for the read (a web worker, in production) and the reader it starts: what each may reach
# while a hostile file is refused. The issue's bomb took 1.6 GB and was still growing.
PARENT_PEAK_MB = 120
READER_PEAK_MB = 200


def refusal_in_a_fresh_process(path: Path, limits: Limits | None = None, budget: Budget | None = None) -> dict:
    """Open `path` the way the importers do, in a process of its own: the refusal's message, how long it took, the
    peak memory of that process (VmHWM: its own, as exec starts it anew) and of the reader it started (psutil,
    sampled every 5 ms)."""
    script = textwrap.dedent(f"""
        import json, threading, time
        from pathlib import Path
        import psutil
        from app.excel.bounded import Budget, open_upload
        from app.excel.reading import Limits, SpreadsheetRefused
        me, reader_peak, done = psutil.Process(), [0], threading.Event()
        def sample():
            while not done.is_set():
                for child in me.children():
                    try:
                        reader_peak[0] = max(reader_peak[0], child.memory_info().rss)
                    except psutil.Error:
                        pass
                time.sleep(0.005)
        threading.Thread(target=sample, daemon=True).start()
        started = time.monotonic()
        message = None
        try:
            with open_upload(Path({str(path)!r}), Limits(**{(limits or Limits()).__dict__!r}),
                             Budget(**{(budget or Budget()).__dict__!r})) as sheet:
                for _row in sheet.rows():
                    pass
        except SpreadsheetRefused as exc:
            message = exc.message
        seconds = time.monotonic() - started
        done.set()
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(json.dumps({{"message": message, "seconds": seconds,
                           "parent_peak_mb": int(status["VmHWM"].split()[0]) / 1024,
                           "reader_peak_mb": reader_peak[0] / 2**20}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_refused_quickly(result: dict, *words: str) -> None:
    assert result["message"] is not None, "the file was read to the end"
    for word in words:
        assert word in result["message"], result
    # Refused long before the end (the memory peaks below are the real check): a bound loose enough for a shared,
    # busy machine, far below what reading these files whole takes.
    assert result["seconds"] < 30, result
    assert result["parent_peak_mb"] < PARENT_PEAK_MB, result
    assert result["reader_peak_mb"] < READER_PEAK_MB, result


def test_the_issues_shared_strings_bomb_is_refused_in_a_second_without_being_parsed(tmp_path):
    bomb = bombs.shared_strings_bomb(tmp_path / "bomb.xlsx", megabytes=100)
    assert bomb.stat().st_size < 3 * 1024 * 1024
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), REFUSED, "共享字符串", "超过上限 64 MB")


def test_millions_of_tiny_shared_strings_are_counted_as_they_stream_and_refused(tmp_path):
    bomb = bombs.many_shared_strings(tmp_path / "strings.xlsx", 1_200_000)
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), REFUSED, "共享字符串超过 1,000,000 个")


def test_a_sheet_declaring_a_huge_dimension_is_refused_before_any_cell_is_parsed(tmp_path):
    for dimension, message in (("A1:I1048576", "表格行数超过上限"), ("A1:XFD10", "表格列数超过上限")):
        bomb = bombs.sheet_rows(tmp_path / "dimension.xlsx", 10, dimension=dimension)
        assert_refused_quickly(refusal_in_a_fresh_process(bomb), message)


def test_a_sheet_of_empty_rows_that_lies_about_its_dimension_stops_at_the_row_limit(tmp_path):
    bomb = bombs.sheet_rows(tmp_path / "rows.xlsx", 320_000, dimension="A1:I2")
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), "表格行数超过上限（300,000 行）")


def test_a_sheet_part_over_its_limit_is_refused_unread(tmp_path):
    bomb = bombs.sheet_rows(tmp_path / "big.xlsx", 60_000, dimension="A1:I60000", cells_per_row=9)
    result = refusal_in_a_fresh_process(bomb, limits=Limits(max_sheet_bytes=1024 * 1024))
    assert_refused_quickly(result, REFUSED, "工作表解压后", "超过上限 1 MB")


@pytest.mark.parametrize(("part", "message"), [
    ("xl/styles.xml", "文件内容已损坏"),  # parsed whole: the XML parser's own depth limit
    ("xl/sharedStrings.xml", "XML 嵌套超过 100 层"),  # streamed by the check before openpyxl builds the list
])
def test_deeply_nested_xml_is_refused(tmp_path, part, message):
    bomb = bombs.deeply_nested(tmp_path / "nested.xlsx", part)
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), message)


def test_deep_nesting_inside_a_sheet_is_stopped_by_the_memory_budget(tmp_path):
    # The sheet is streamed, not checked element by element: a million open elements (a few MB zipped) would take
    # hundreds of MB, and the reader's budget ends it.
    bomb = bombs.deeply_nested_sheet(tmp_path / "nested.xlsx", depth=1_000_000)
    assert bomb.stat().st_size < 8 * 1024 * 1024
    result = refusal_in_a_fresh_process(bomb, budget=Budget(memory_bytes=100 * 1024 * 1024))
    assert_refused_quickly(result, REFUSED, "读取所需内存超过 100 MB")


def test_a_zip_of_thousands_of_entries_is_refused(tmp_path):
    bomb = bombs.many_entries(tmp_path / "entries.xlsx")
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), "压缩包内文件过多")


def test_a_part_holding_more_than_it_declares_is_refused(tmp_path):
    bomb = bombs.declared_small(tmp_path / "liar.xlsx", real_megabytes=20)
    assert_refused_quickly(refusal_in_a_fresh_process(bomb), "文件内容已损坏")


def test_a_file_past_every_check_still_cannot_take_more_memory_than_the_budget(tmp_path):
    # 950,000 distinct strings pass the count and size checks; openpyxl would hold them all, far past 40 MB.
    heavy = bombs.many_shared_strings(tmp_path / "heavy.xlsx", 950_000, text="返贫风险户主姓名")
    result = refusal_in_a_fresh_process(heavy, budget=Budget(memory_bytes=40 * 1024 * 1024))
    assert_refused_quickly(result, REFUSED, "读取所需内存超过 40 MB")
    # The same file within the default budget is read to its end: the budget, not a check, refused it.
    assert refusal_in_a_fresh_process(heavy)["message"] is None


def test_a_read_past_its_deadline_is_ended_and_refused(tmp_path):
    slow = bombs.sheet_rows(tmp_path / "slow.xlsx", 250_000, dimension="A1:I250000", cells_per_row=9)
    started = time.monotonic()
    with pytest.raises(SpreadsheetRefused) as refused:
        with open_upload(slow, Limits(), Budget(seconds=1.5)) as sheet:
            for _row in sheet.rows():
                pass
    assert refused.value.message == f"{REFUSED}读取用时超过 1.5 秒"
    assert time.monotonic() - started < 5


def households(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Household))


def test_the_household_import_refuses_within_its_budget_and_stores_nothing(app, login_as, tmp_path, monkeypatch):
    county = login_as("county_office")
    before = households(app)
    heavy = bombs.many_shared_strings(tmp_path / "heavy.xlsx", 950_000, text="返贫风险户主姓名").read_bytes()
    monkeypatch.setitem(app.config, "EXCEL_READ_MEMORY_BYTES", 40 * 1024 * 1024)
    page = import_households(county, heavy).get_data(as_text=True)
    assert "未导入" in page and f"{REFUSED}读取所需内存超过 40 MB" in page
    bomb = bombs.shared_strings_bomb(tmp_path / "bomb.xlsx", megabytes=100).read_bytes()
    page = import_households(county, bomb).get_data(as_text=True)
    assert "未导入" in page and "共享字符串部分解压后" in page
    assert households(app) == before
    with app.app_context():
        assert {job.status for job in db.session.scalars(select(ImportJob))} == {"refused"}


def refused_roster(team, url: str, page: str, content: bytes) -> tuple[int, bool]:
    response = upload(team, url, content, "附件1.xlsx", page)
    html = response.get_data(as_text=True)
    response.close()
    return response.status_code, REFUSED in html


def test_the_roster_upload_is_read_within_the_budget_too(app, runner, login_as, tmp_path, monkeypatch):
    assert runner.invoke(args=["screenings", "start", "--month", "2026-11"]).exit_code == 0
    team = login_as("chengguan01_team")
    task = team.task("Task_ScreenHouseholds")
    url, page = f"/screenings/{task['screening_id']}/roster", f"/tasks/{task['id']}"
    bomb = bombs.shared_strings_bomb(tmp_path / "bomb.xlsx", megabytes=100).read_bytes()
    assert refused_roster(team, url, page, bomb) == (422, True)
    monkeypatch.setitem(app.config, "EXCEL_READ_SECONDS", 0.05)
    slow = bombs.sheet_rows(tmp_path / "slow.xlsx", 100_000, dimension="A1:I100000", cells_per_row=9).read_bytes()
    response = upload(team, url, slow, "附件1.xlsx", page)
    html = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 422 and f"{REFUSED}读取用时超过 0.05 秒" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 0


def test_the_process_that_receives_an_upload_never_parses_it(app, login_as, monkeypatch):
    """openpyxl's reader made unusable in this process (the web worker's, here): the import still reads the file,
    as the child process does that, and the error report is written from the child's rows too."""
    import openpyxl.reader.excel

    def parsed_here(*_args, **_kwargs):
        raise AssertionError("an upload was parsed in the web process")

    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", parsed_here)
    monkeypatch.setattr("openpyxl.load_workbook", parsed_here)
    monkeypatch.setattr("app.excel.reading.ExcelReader", parsed_here)  # the names the reader imported
    monkeypatch.setattr("app.excel.reading.WorkSheetParser", parsed_here)
    monkeypatch.setattr("app.households.workbooks.load_workbook", parsed_here, raising=False)
    from tests.excel.conftest import fixture_bytes

    county = login_as("county_office")
    page = import_households(county, fixture_bytes("national_export.xlsx")).get_data(as_text=True)
    assert "已导入" in page, page[:3000]
    page = import_households(county, fixture_bytes("template_errors.xlsx"))
    assert "共 12 处" in page.get_data(as_text=True)
    report = county.get(page.job_url + "/errors.xlsx")
    assert report.status_code == 200
    report.close()
