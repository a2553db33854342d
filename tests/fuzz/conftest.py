"""Shared pieces of the fuzz suite (issue 7: bad input gets a clear answer and changes nothing).

* `db_snapshot`: row count and checksum of every table, to prove that a refused request stored nothing.
* `WebSession`: one logged-in browser session with its CSRF token, posting raw form pairs.
* `TaskTarget`: a ready task of a given form, driven there once through the same operations as the web, and
  driven there again only when a generated submit happened to be valid and consumed it.
* `FUZZ`: hypothesis settings — derandomized (the same examples on every run and on every database), no
  deadline, the examples share the test's function-scoped fixtures on purpose (the state is checked around each
  request instead of being rebuilt).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from tests.conftest import DEMO_PASSWORD, today

# Scale every test's max_examples (FUZZ_SCALE=10 for a long exploratory run); the default keeps the whole
# directory near two minutes per database.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz_settings(max_examples: int) -> settings:
    return settings(max_examples=max(1, int(max_examples * SCALE)), deadline=None, derandomize=True,
                    database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


# ---- "changes no stored data" ---------------------------------------------------------------------------------

# What a refused request may legitimately write. A failed log-in is a refusal that MUST leave a trace: the
# attempt counts towards the lock-out (login_attempt) and the security log keeps the event (login_failed, and
# login_locked when the attempt hits or starts a lock). Those rows are excluded only when a test says that the
# request is a log-in (security_log=True); every other refused request must leave every table, these included,
# exactly as it was. alembic_version is the migration marker, never touched by requests.
SECURITY_EVENT_KINDS = ("login_failed", "login_locked")


def db_snapshot(app: Flask, *, security_log: bool = False) -> dict[str, tuple[int, str]]:
    """{table: (row count, sha256 of every row in primary-key order)} for every table of the schema."""
    result: dict[str, tuple[int, str]] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "alembic_version" or (security_log and table.name == "login_attempt"):
                continue
            stmt = select(table)
            if security_log and table.name == "event":
                stmt = stmt.where(table.c.kind.not_in(SECURITY_EVENT_KINDS))
            rows = db.session.execute(stmt.order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
                digest.update(b"\n")
            result[table.name] = (len(rows), digest.hexdigest())
        db.session.remove()
    return result


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def assert_unchanged(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]], what: str) -> None:
    changed = changed_tables(before, after)
    assert not changed, f"refused request changed stored data in {changed}: {what}"


def assert_no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, (f"server error {response.status_code} for {what}: "
                                        f"{response.get_data(as_text=True)[:500]}")


def describe(*parts: Any, limit: int = 600) -> str:
    text = " ".join(repr(p) for p in parts)
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit} chars)"


# ---- a browser session posting raw form pairs --------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebSession:
    """A logged-in user whose CSRF token is read once (it holds for the session) and who posts exactly the pairs
    given, repeated keys, missing fields and all."""

    def __init__(self, app: Flask, username: str) -> None:
        self.app, self.username = app, username
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        answer = self.client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                                  "csrf_token": _csrf(page)})
        assert answer.status_code == 302, f"login failed for {username}"
        self.csrf = _csrf(self.client.get("/account/stand-ins").get_data(as_text=True))

    def post(self, url: str, pairs: list[tuple[str, Any]] | None = None, *, csrf: str | None = "valid",
             files: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """csrf: "valid" (the session's token), None (left out) or any other string sent as the token."""
        items = list(pairs or [])
        if csrf is not None:
            items.append(("csrf_token", self.csrf if csrf == "valid" else csrf))
        if files:
            data: Any = MultiDict(items)
            for name, value in files.items():
                data.add(name, value)
            return self.client.post(url, data=data, content_type="multipart/form-data", **kwargs)
        return self.client.post(url, data=MultiDict(items), **kwargs)


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture()
def web(app: Flask) -> Iterator[Callable[[str], WebSession]]:
    sessions: dict[str, WebSession] = {}

    def get(username: str) -> WebSession:
        if username not in sessions:
            sessions[username] = WebSession(app, username)
        return sessions[username]

    yield get


@pytest.fixture(autouse=True)
def _files_in_tmp(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attachments and import uploads of the fuzz runs go to a temporary folder, never the instance folder."""
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    monkeypatch.setitem(app.config, "IMPORTS_FOLDER", str(tmp_path / "imports"))


# ---- a ready task of every form ----------------------------------------------------------------------------------

VILLAGE, TEAM, CADRE = "610922100001", "chengguan01_team", "chengguan01_cadre1"

# form key -> (BPMN id, the user whose inbox holds it)
FORM_STEPS: dict[str, tuple[str, str]] = {
    "screening": ("Task_ScreenHouseholds", TEAM),
    "assessment": ("Task_AssessmentMeeting", TEAM),
    "town_certification": ("Task_TownCertify", "chengguan_certifier"),
    "supplement_information": ("Task_SupplementInformation", TEAM),
    "town_leadership_review": ("Task_TownLeadershipReview", "chengguan_leader"),
    "county_approval": ("Task_CountyApprove", "county_office"),
    "notice_posting": ("Task_PostNotice", TEAM),
    "objection_record": ("Task_RecordObjections", TEAM),
    "objection_review": ("Task_ReviewObjection", "chengguan_certifier"),
    "measures_plan": ("Task_DraftMeasures", TEAM),
    "county_filing": ("Task_CountyFiling", "county_office"),
    "measures_execution": ("Task_CarryOutMeasures", CADRE),
    "closure_application": ("Task_ApplyClosure", TEAM),
    "town_acceptance": ("Task_TownAcceptance", "chengguan_certifier"),
    "county_recheck": ("Task_CountyRecheck", "county_office"),
}

MEASURE = {"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
           "deadline": "2099-12-31"}


class TaskTarget:
    """A ready task of `form_key` in the small demo county. Each `ensure()` returns its id, first driving a new
    case (or screening) to that step when the previous one was completed by an accepted submit."""

    def __init__(self, app: Flask, form_key: str) -> None:
        self.app, self.form_key = app, form_key
        self.bpmn_id, self.username = FORM_STEPS[form_key]
        self.task_id: int | None = None
        self.made = 0

    def alive(self) -> bool:
        from app.models import ReadyTask

        if self.task_id is None:
            return False
        with self.app.app_context():
            alive = db.session.get(ReadyTask, self.task_id) is not None
            db.session.remove()
        return alive

    def ensure(self) -> int:
        if not self.alive():
            with self.app.app_context():
                self.task_id = _reach(self.form_key)
                db.session.remove()
            self.made += 1
        assert self.task_id is not None
        return self.task_id

    def revision(self) -> int:
        from app.models import ReadyTask, WorkflowInstance

        with self.app.app_context():
            task = db.session.get(ReadyTask, self.task_id)
            assert task is not None
            instance = db.session.get(WorkflowInstance, task.instance_id)
            revision = instance.revision if instance else 0
            db.session.remove()
        return revision


@pytest.fixture()
def target(app: Flask) -> Callable[..., TaskTarget]:
    """target(form_key, purpose="") -> the test's TaskTarget for that form (one per purpose, kept for the whole
    hypothesis run of the test: the examples share it)."""
    made: dict[tuple[str, str], TaskTarget] = {}

    def get(form_key: str, purpose: str = "") -> TaskTarget:
        if (form_key, purpose) not in made:
            made[form_key, purpose] = TaskTarget(app, form_key)
        return made[form_key, purpose]

    return get


def _fresh_month() -> str:
    """A month no screening has started yet (from 2000-01 on; never this month, which open_case uses)."""
    from app.models import Screening

    used = set(db.session.scalars(select(Screening.month)))
    n = 0
    while f"{2000 + n // 12}-{n % 12 + 1:02d}" in used:
        n += 1
    return f"{2000 + n // 12}-{n % 12 + 1:02d}"


def _screening_task(bpmn_id: str) -> int:
    from app.models import ReadyTask, Screening
    from app.screenings.operations import start_monthly_screening
    from tests.helpers import check_households, complete, user

    month = _fresh_month()
    start_monthly_screening(month, user("county_office"))
    db.session.commit()
    screening = db.session.scalar(select(Screening).where(Screening.month == month,
                                                          Screening.village_code == VILLAGE))
    assert screening is not None
    if bpmn_id == "Task_AssessmentMeeting":
        check_households(screening.id, TEAM)
        complete(TEAM, "Task_ScreenHouseholds", {}, screening_id=screening.id)
    task_id = db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("screening", screening.id),
                                                           ReadyTask.bpmn_id == bpmn_id))
    assert task_id is not None
    return task_id


def _new_case() -> int:
    """A new case in the team's village, on a household without an open case (a screening month of its own)."""
    from app.models import Case, Household, ReadyTask, Screening
    from app.screenings.operations import register_household, start_monthly_screening
    from tests.helpers import check_households, complete, user

    month = _fresh_month()
    start_monthly_screening(month, user("county_office"))
    db.session.commit()
    screening = db.session.scalar(select(Screening).where(Screening.month == month, Screening.village_code == VILLAGE))
    assert screening is not None
    busy = set(db.session.scalars(select(Case.household_id).where(Case.status != "closed")))
    household = next((h for h in db.session.scalars(select(Household).where(Household.village_code == VILLAGE)
                                                    .order_by(Household.id)) if h.id not in busy), None)
    if household is None:  # the small county has 6 households a village: add one more to the registry
        household = _extra_household()
        screening.households_total += 1
        db.session.commit()
    registration = register_household(screening, household.id, "accident", "车祸致主要劳动力伤残", user(TEAM))
    db.session.commit()
    check_households(screening.id, TEAM)
    complete(TEAM, "Task_ScreenHouseholds", {}, screening_id=screening.id)
    complete(TEAM, "Task_AssessmentMeeting", {"meeting_date": today().isoformat(), "attendees": "全体",
                                              "minutes": "研判", "key_assistance": registration.id},
             screening_id=screening.id)
    case_id = db.session.scalar(select(Case.id).where(Case.household_id == household.id, Case.status != "closed"))
    assert case_id is not None
    assert db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id))) is not None
    return case_id


def _extra_household() -> Any:
    from sqlalchemy import func

    from app.households.idnumber import check_character
    from app.models import Household

    n = (db.session.scalar(select(func.count()).select_from(Household)) or 0) + 1
    first17 = f"610922198001{n:04d}1"[:17]
    household = Household(household_no=f"FUZZ{n:06d}", village_code=VILLAGE, town_code=VILLAGE[:9],
                          head_name=f"测试户{n}", head_id_number=first17 + check_character(first17), size=3,
                          kind="non_poor", lifted_year=None)
    db.session.add(household)
    db.session.flush()
    return household


def _reach(form_key: str) -> int:
    from app.models import ReadyTask
    from app.workflow.runtime import run_due_timers
    from tests.helpers import approve_case, complete, plan_measures, user

    bpmn_id, _owner = FORM_STEPS[form_key]
    if form_key in ("screening", "assessment"):
        return _screening_task(bpmn_id)
    case_id = _new_case()
    certify = {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}
    if form_key == "supplement_information":
        complete("chengguan_certifier", "Task_TownCertify", dict(certify, decision="return"), case_id)
    elif form_key == "town_leadership_review":
        complete("chengguan_certifier", "Task_TownCertify", certify, case_id)
    elif form_key == "county_approval":
        complete("chengguan_certifier", "Task_TownCertify", certify, case_id)
        complete("chengguan_leader", "Task_TownLeadershipReview", {"decision": "pass", "opinion": "通过",
                                                                    "meeting_date": today().isoformat()}, case_id)
    elif form_key != "town_certification":
        approve_case(case_id)
    if form_key in ("objection_record", "objection_review", "measures_plan", "county_filing"):
        complete(TEAM, "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5, "location": "村委会"},
                 case_id)
        run_due_timers()
        db.session.commit()
    if form_key == "objection_review":
        complete(TEAM, "Task_RecordObjections", {"decision": "objection", "objection_content": "有异议"}, case_id)
    elif form_key in ("measures_plan", "county_filing"):
        complete(TEAM, "Task_RecordObjections", {"decision": "no_objection"}, case_id)
    if form_key == "county_filing":
        complete(TEAM, "Task_DraftMeasures", dict({f"measures-0-{k}": v for k, v in MEASURE.items()},
                                                  cadre_id=user(CADRE).id), case_id)
    if form_key in ("measures_execution", "closure_application", "town_acceptance", "county_recheck"):
        plan_measures(case_id, [MEASURE])
        from app.models import Measure

        if form_key != "measures_execution":
            measures = db.session.scalars(select(Measure.id).where(Measure.case_id == case_id)).all()
            complete(CADRE, "Task_CarryOutMeasures", {
                "results-0-measure_id": measures[0], "results-0-result": "已落实",
                "results-0-completed_on": today().isoformat()}, case_id)
        if form_key in ("town_acceptance", "county_recheck"):
            complete(TEAM, "Task_ApplyClosure", {"applied_on": today().isoformat(), "summary": "达标"}, case_id)
        if form_key == "county_recheck":
            complete("chengguan_certifier", "Task_TownAcceptance", {"decision": "accept", "opinion": "合格"},
                     case_id)
    task_id = db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id),
                                                           ReadyTask.bpmn_id == bpmn_id))
    assert task_id is not None, f"could not reach {bpmn_id}"
    return task_id
