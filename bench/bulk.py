"""Bulk rows for the read paths, written with stdlib sqlite3 (INSERT … SELECT and executemany): closed history
copied from a real closed case, past months' screenings copied from this month's, and synthetic open tasks
modelled on the real ones. Workflow state is copied for history; synthetic open tasks carry a placeholder
state, because only read paths (SQL over query rows, never the state) are measured on them."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from app.clock import utcnow

PLACEHOLDER_STATE = '{"bench":"synthetic open task: only read paths are measured on it"}'


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores DATETIME on SQLite


def _connect(database: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-500000")
    connection.execute("PRAGMA temp_store=MEMORY")
    return connection


def _next_id(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])  # noqa: S608


SHIFTED = "CASE WHEN {c} IS NULL THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%f', {c}, s.shift || ' seconds') || '000' END"


def _keep_household_kind(connection: sqlite3.Connection, first_case: int) -> None:
    """The household's kind on each case inserted from `first_case` on, as the app keeps it when opening a case."""
    connection.execute("UPDATE household_case SET household_kind = (SELECT h.kind FROM household h "
                       "WHERE h.id = household_case.household_id) WHERE id >= ?", (first_case,))


def add_history(database: Path, total: int, min_days: float, max_days: float, seed: int = 7) -> dict[str, int]:
    """`total` closed cases with full history (instance with its state, element visits, events, measures),
    copies of the first closed case shifted to open between `min_days` and `max_days` days ago."""
    rng = random.Random(seed * 1000 + int(max_days))
    connection = _connect(database)
    template = connection.execute("SELECT id, instance_id, cadre_id, opened_at FROM household_case "
                                  "WHERE status = 'closed' ORDER BY id LIMIT 1").fetchone()
    assert template is not None, "no closed template case: build the base first"
    template_id, template_instance, cadre_id, opened_text = template
    base = datetime.fromisoformat(opened_text)
    households = connection.execute("SELECT id, village_code, town_code FROM household").fetchall()
    connection.execute("CREATE TEMP TABLE IF NOT EXISTS shift (case_id INTEGER, instance_id INTEGER, shift REAL)")
    now = utcnow()
    visit_cols = ("diagram_version_id, process_key, bpmn_id, element_type, from_bpmn_id, name")
    event_cols = "kind, actor_id, bpmn_id, task_name, decision, opinion, data, remote_addr, on_behalf_of_id"
    measure_cols = "position, content, measure_type, responsible_unit, deadline, status, completed_on, result"
    for start in range(0, total, 5000):
        count = min(5000, total - start)
        first_instance, first_case = _next_id(connection, "workflow_instance"), _next_id(connection, "household_case")
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO workflow_instance (id, process_version_id, kind, state, completed, end_event, revision, "
            "created_at, updated_at) SELECT ? + n.i - 1, w.process_version_id, 'case', w.state, 1, 'End_Closed', 20, "
            "w.created_at, w.updated_at FROM n, workflow_instance w WHERE w.id = ?",
            (count, first_instance, template_instance))
        cases, shifts = [], []
        for offset in range(count):
            household_id, village, town = rng.choice(households)
            opened = now - timedelta(days=rng.uniform(min_days, max_days))
            closed = opened + timedelta(days=180)
            cases.append((first_case + offset, household_id, village, town, first_instance + offset,
                          rng.choice(["major_illness", "accident", "unstable_employment"]), "患重大疾病", "closed",
                          "已销号", rng.choice(["at_risk", "at_risk", "returned"]), cadre_id, _ts(opened),
                          _ts(closed), _ts(closed)))
            shifts.append((first_case + offset, first_instance + offset, (opened - base).total_seconds()))
        connection.executemany(
            "INSERT INTO household_case (id, household_id, village_code, town_code, instance_id, risk_type, reason, "
            "status, current_step, risk_level, cadre_id, opened_at, updated_at, closed_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cases)
        connection.execute("DELETE FROM shift")
        connection.executemany("INSERT INTO shift VALUES (?,?,?)", shifts)
        connection.execute(
            f"INSERT INTO element_visit (instance_id, subject_kind, subject_id, {visit_cols}, ready_at, completed_at, "
            "actor_id) "
            f"SELECT s.instance_id, 'case', s.case_id, {', '.join('v.' + c.strip() for c in visit_cols.split(','))}, "
            f"{SHIFTED.format(c='v.ready_at')}, {SHIFTED.format(c='v.completed_at')}, v.actor_id "
            "FROM shift s, element_visit v WHERE v.subject_kind = 'case' AND v.subject_id = ? "
            "ORDER BY s.case_id, v.id", (template_id,))
        connection.execute(
            f"INSERT INTO event (instance_id, subject_kind, subject_id, at, {event_cols}) "
            f"SELECT s.instance_id, 'case', s.case_id, {SHIFTED.format(c='e.at')}, "
            f"{', '.join('e.' + c.strip() for c in event_cols.split(','))} "
            "FROM shift s, event e WHERE e.subject_kind = 'case' AND e.subject_id = ? "
            "ORDER BY s.case_id, e.id", (template_id,))
        connection.execute(
            f"INSERT INTO measure (case_id, {measure_cols}) "
            f"SELECT s.case_id, {', '.join('m.' + c.strip() for c in measure_cols.split(','))} "
            "FROM shift s, measure m WHERE m.case_id = ? ORDER BY s.case_id, m.id", (template_id,))
        # Each copy's visits carry its area, and its first county approval is kept on the case, as the app does.
        connection.execute(
            "UPDATE element_visit SET village_code = (SELECT c.village_code FROM household_case c WHERE c.id = "
            "element_visit.subject_id), town_code = (SELECT c.town_code FROM household_case c WHERE c.id = "
            "element_visit.subject_id) WHERE subject_kind = 'case' AND subject_id >= ?", (first_case,))
        connection.execute(
            "UPDATE household_case SET approved_at = (SELECT min(e.at) FROM event e WHERE e.subject_kind = 'case' "
            "AND e.subject_id = household_case.id AND e.bpmn_id = 'Task_CountyApprove' "
            "AND e.kind = 'task_completed' AND e.decision = 'approve') WHERE id >= ?", (first_case,))
        _keep_household_kind(connection, first_case)
        connection.commit()
    counts = {name: int(connection.execute(sql).fetchone()[0]) for name, sql in (
        ("closed_cases", "SELECT count(*) FROM household_case WHERE status = 'closed'"),
        ("element_visits", "SELECT count(*) FROM element_visit"),
        ("events", "SELECT count(*) FROM event"))}
    connection.close()
    return counts


def add_screening_history(database: Path, months: int, registrations_per_village: int = 3,
                          seed: int = 7) -> dict[str, int]:
    """The `months` months before this one: every village's screening, completed, with its registrations
    (copies of this month's completed screening instances; the households are drawn at random)."""
    rng = random.Random(seed)
    connection = _connect(database)
    current = connection.execute("SELECT s.month, s.village_code, s.town_code, s.households_total, w.state, "
                                 "w.process_version_id, s.started_by_id FROM screening s "
                                 "JOIN workflow_instance w ON w.id = s.instance_id "
                                 "WHERE s.status = 'completed' ORDER BY s.month DESC, s.village_code").fetchall()
    assert current, "no completed screening to copy"
    this_month = current[0][0]
    latest = [row for row in current if row[0] == this_month]
    by_village: dict[str, list[int]] = defaultdict(list)
    for household_id, village in connection.execute("SELECT id, village_code FROM household"):
        by_village[village].append(household_id)
    year, month = map(int, this_month.split("-"))
    screenings = checks_written = 0
    for back in range(1, months + 1):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        label = f"{y:04d}-{m + 1:02d}"
        started = datetime(y, m + 1, 3, 1, 0)
        if connection.execute("SELECT 1 FROM screening WHERE month = ?", (label,)).fetchone():
            continue
        first_instance = _next_id(connection, "workflow_instance")
        first_screening = _next_id(connection, "screening")
        connection.executemany(
            "INSERT INTO workflow_instance (id, process_version_id, kind, state, completed, revision, created_at, "
            "updated_at) VALUES (?,?,?,?,1,4,?,?)",
            [(first_instance + i, row[5], "screening", row[4], _ts(started), _ts(started + timedelta(days=9)))
             for i, row in enumerate(latest)])
        # 逐户逐人: every household's check of the month (a few not reached, with the reason), as the phone page
        # writes them; the supervision pages count coverage from these rows.
        visited = _ts(started + timedelta(days=3))[:10]
        checks = []
        reached_count: dict[int, int] = defaultdict(int)
        for i, row in enumerate(latest):
            for household_id in by_village.get(row[1], []):
                reached = rng.random() > 0.02
                reached_count[i] += reached
                checks.append((first_screening + i, household_id, row[1], row[2], label,
                               "checked" if reached else "not_checked", visited if reached else None,
                               "驻村工作队" if reached else "", "[]", "", "[]",
                               None if reached else "away_unreachable", "", "", row[6],
                               _ts(started + timedelta(days=3))))
        connection.executemany(
            "INSERT INTO screening (id, month, village_code, town_code, instance_id, status, households_total, "
            "households_checked, households_not_checked, started_at, started_by_id, completed_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(first_screening + i, label, row[1], row[2], first_instance + i, "completed", row[3], reached_count[i],
              len(by_village.get(row[1], [])) - reached_count[i], _ts(started), row[6],
              _ts(started + timedelta(days=9))) for i, row in enumerate(latest)])
        registrations = []
        for i, row in enumerate(latest):
            pool = by_village.get(row[1], [])
            for household_id in rng.sample(pool, min(registrations_per_village, len(pool))):
                registrations.append((first_screening + i, household_id, rng.choice(
                    ["major_illness", "accident", "unstable_employment"]), "家庭主要劳动力患病，收入骤减",
                    _ts(started + timedelta(days=2)), 0))
        connection.executemany(
            "INSERT INTO risk_registration (screening_id, household_id, risk_type, reason, registered_at, "
            "key_assistance) VALUES (?,?,?,?,?,?)", registrations)
        connection.executemany(
            "INSERT INTO screening_check (screening_id, household_id, village_code, town_code, month, outcome, "
            "visited_on, visitors, risks, risk_detail, guarantee_gaps, not_checked_reason, not_checked_note, note, "
            "recorded_by_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", checks)
        checks_written += len(checks)
        screenings += len(latest)
        connection.commit()
    connection.close()
    return {"past_screenings": screenings, "past_household_checks": checks_written}


def open_task_count(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM ready_task").fetchone()[0])


def add_open_tasks(database: Path, target: int, seed: int = 7) -> int:
    """Open cases with one ready task each, until `target` tasks are open. Each copies a real case task (step,
    role, form, due-date spacing, the case's status) into a random village, with a household of that village and,
    for a cadre's task, a cadre of that village; arrival times spread over the last 60 days."""
    connection = _connect(database)
    have = int(connection.execute("SELECT count(*) FROM ready_task").fetchone()[0])
    if have >= target:
        connection.close()
        return have
    rng = random.Random(seed * 7919 + target)
    templates = connection.execute(
        "SELECT r.bpmn_id, r.name, r.context_name, r.form_key, r.role, r.assignee_id IS NOT NULL, "
        "r.diagram_version_id, r.from_bpmn_id, c.status, c.current_step, w.process_version_id "
        "FROM ready_task r JOIN household_case c ON r.subject_kind = 'case' AND c.id = r.subject_id "
        "JOIN workflow_instance w ON w.id = r.instance_id").fetchall()
    assert templates, "no open case task to model the synthetic ones on"
    households: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for household_id, village, town, head in connection.execute(
            "SELECT id, village_code, town_code, head_name FROM household"):
        households[village].append((household_id, town, head))
    cadres: dict[str, list[int]] = defaultdict(list)
    for user_id, area in connection.execute("SELECT id, area_code FROM user_account WHERE role = 'cadre'"):
        cadres[area].append(user_id)
    villages = sorted(households)
    now = utcnow()
    remaining = target - have
    while remaining > 0:
        count = min(20000, remaining)
        first_instance, first_case = _next_id(connection, "workflow_instance"), _next_id(connection, "household_case")
        instances, cases, tasks = [], [], []
        for offset in range(count):
            (bpmn_id, name, context, form_key, role, assigned, diagram_version, from_bpmn, status, step,
             version_id) = rng.choice(templates)
            village = rng.choice(villages)
            household_id, town, head = rng.choice(households[village])
            ready = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
            opened = ready - timedelta(days=rng.uniform(0, 30))
            due = (ready + timedelta(days=rng.choice([5, 10, 15, 30]))).date().isoformat()
            assignee = rng.choice(cadres[village]) if assigned and cadres.get(village) else None
            instance_id, case_id = first_instance + offset, first_case + offset
            instances.append((instance_id, version_id, "case", PLACEHOLDER_STATE, 0, 3, _ts(opened), _ts(ready)))
            cases.append((case_id, household_id, village, town, instance_id, "major_illness", "患重大疾病", status,
                          step, assignee if role == "cadre" else None, _ts(opened), _ts(ready)))
            tasks.append((instance_id, str(uuid.UUID(int=rng.getrandbits(128), version=4)), bpmn_id, name, context,
                          form_key, role, village, town, assignee, "case", case_id, f"{head}户", _ts(ready),
                          diagram_version, due, from_bpmn))
        connection.executemany(
            "INSERT INTO workflow_instance (id, process_version_id, kind, state, completed, revision, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?,?,?)", instances)
        connection.executemany(
            "INSERT INTO household_case (id, household_id, village_code, town_code, instance_id, risk_type, reason, "
            "status, current_step, cadre_id, opened_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", cases)
        connection.executemany(
            "INSERT INTO ready_task (instance_id, task_uuid, bpmn_id, name, context_name, form_key, role, "
            "village_code, town_code, assignee_id, subject_kind, subject_id, subject, ready_since, "
            "diagram_version_id, due_on, from_bpmn_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", tasks)
        _keep_household_kind(connection, first_case)
        connection.commit()
        remaining -= count
    total = int(connection.execute("SELECT count(*) FROM ready_task").fetchone()[0])
    connection.close()
    return total
