"""The product's own rules over the diagrams: lanes are roles, forms exist, conditions read form fields."""

from __future__ import annotations

from app.processes import check_diagrams
from tests.conftest import PROCESSES

FILES = {p.stem: p.read_text(encoding="utf-8") for p in PROCESSES.glob("*.bpmn")}


def test_every_shipped_diagram_passes_the_check():
    assert set(FILES) == {"household_case", "publicity", "monthly_screening", "lead_verification",
                          "national_screening", "national_case"}
    assert check_diagrams(FILES) == []


def test_an_unknown_lane_is_reported():
    files = dict(FILES, household_case=FILES["household_case"].replace('name="镇认定工作组"', 'name="某某小组"'))
    problems = check_diagrams(files)
    assert any("Task_TownCertify" in p and "某某小组" in p for p in problems), problems


def test_a_missing_form_is_reported():
    files = dict(FILES, household_case=FILES["household_case"].replace(
        'value="county_filing"', 'value="no_such_form"'))
    assert any("no_such_form" in p for p in check_diagrams(files))


def test_a_condition_reading_an_unknown_field_is_reported():
    files = dict(FILES, household_case=FILES["household_case"].replace(
        'decision == "reject"', 'verdict == "reject"'))
    assert any("verdict" in p for p in check_diagrams(files))


def test_what_the_code_gives_a_procedure_at_its_start_is_known_to_that_procedure_only():
    # national_case's gateways read fast_path and resume_monitoring, which its case is started with …
    assert check_diagrams(FILES) == []
    # … a county diagram reading them reads nothing a form or the code gives it.
    files = dict(FILES, household_case=FILES["household_case"].replace(
        'decision == "reject"', 'fast_path == True', 1))
    assert any("fast_path" in p for p in check_diagrams(files))


def test_an_unparseable_diagram_is_reported():
    assert any("无法解析" in p for p in check_diagrams(dict(FILES, publicity="<not-bpmn")))


def test_cli_check_passes_on_the_shipped_diagrams(runner):
    result = runner.invoke(args=["processes", "check"])
    assert result.exit_code == 0 and "6 diagram(s) OK" in result.output


def test_a_time_limit_that_is_not_a_number_of_working_days_is_reported():
    files = dict(FILES, publicity=FILES["publicity"].replace(
        'name="time_limit_days" value="2"', 'name="time_limit_days" value="两天"', 1))
    problems = check_diagrams(files)
    assert any("Task_PostNotice" in p and "两天" in p for p in problems), problems
    files = dict(FILES, publicity=FILES["publicity"].replace(
        'name="time_limit_days" value="2"', 'name="time_limit_days" value="0"', 1))
    assert any("1 到 365" in p for p in check_diagrams(files))
