"""Every other web POST with random and hostile input: log-in, stand-ins, comments and attachments, screening
registration and roster upload, the household import upload, task claims, drafts and hand-overs, the change of
cadre, and the administrators' process upload, drafts, validation, deployment, rollback and migration.

The property: never a server error; a refusal (4xx) says why and leaves every table as it was; a request that
changed stored data answered with success (2xx or a redirect)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st

from app.extensions import db
from tests.conftest import DEMO_PASSWORD
from tests.fuzz.conftest import (
    TaskTarget,
    WebSession,
    assert_no_server_error,
    assert_unchanged,
    changed_tables,
    db_snapshot,
    describe,
    fuzz_settings,
)
from tests.fuzz.strategies import (
    any_text,
    date_text,
    file_name,
    form_pairs,
    nasty,
    scalar_text,
    upload_bytes,
    xmlish_text,
)

csrf_choice = st.sampled_from(["valid"] * 6 + [None, "", "forged-token"])


def id_text(*own: int) -> st.SearchStrategy[str]:
    """An id as a form sends it: the fixture's own, small, past every integer column, or not a number."""
    return st.one_of(st.sampled_from([str(i) for i in own] or ["1"]), st.integers(-3, 60).map(str),
                     st.sampled_from([str(2**31), str(2**63), str(10**30), "1e3", "0x1"]), nasty)


def check(app: Flask, send: Callable[[], Any], what: str, *, security_log: bool = False) -> Any:
    before = db_snapshot(app, security_log=security_log)
    response = send()
    assert_no_server_error(response, what)
    event(f"HTTP {response.status_code}")
    after = db_snapshot(app, security_log=security_log)
    if response.status_code >= 400:
        assert_unchanged(before, after, what)
        text = response.get_data(as_text=True)
        assert any(mark in text for mark in ('class="error"', "<h1>", 'class="flash', '"error"')), \
            f"refusal {response.status_code} without a message: {what}"
    elif changed_tables(before, after):
        assert response.status_code in (200, 201, 204, 302, 303), what
    return response


def pairs_of(draw: Any, fields: dict[str, st.SearchStrategy[str]]) -> list[tuple[str, str]]:
    """Each field missing, once, or twice, plus a random extra pair."""
    pairs: list[tuple[str, str]] = []
    for name, values in fields.items():
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
            pairs.append((name, draw(st.one_of(values, scalar_text))))
    if draw(st.booleans()):
        pairs.append((draw(any_text), draw(scalar_text)))
    return pairs


@fuzz_settings(40)
@given(data=st.data())
def test_login(app: Flask, data: st.DataObject) -> None:
    client = app.test_client()
    from tests.fuzz.conftest import _csrf

    token = _csrf(client.get("/login").get_data(as_text=True))
    pairs = pairs_of(data.draw, {"username": st.sampled_from(["admin", "county_office", "ADMIN ", "nobody", ""]),
                                 "password": st.one_of(st.just(DEMO_PASSWORD), any_text)})
    csrf = data.draw(csrf_choice, label="csrf")
    if csrf is not None:
        pairs.append(("csrf_token", token if csrf == "valid" else csrf))
    nxt = data.draw(st.one_of(st.none(), st.sampled_from(["/", "//evil.example", "https://evil.example", "/cases/"]),
                              nasty), label="next")
    from werkzeug.datastructures import MultiDict

    response = check(app, lambda: client.post("/login", data=MultiDict(pairs),
                                              query_string={"next": nxt} if nxt is not None else {}),
                     describe(pairs, nxt), security_log=True)
    if response.status_code == 302:  # logged in: never sent to another site
        assert response.location.startswith("/") and not response.location.startswith("//"), response.location


@fuzz_settings(30)
@given(data=st.data())
def test_stand_ins(app: Flask, web: Callable[[str], WebSession], data: st.DataObject) -> None:
    from app.models import StandIn
    from tests.helpers import user

    session = web("chengguan01_cadre1")
    with app.app_context():
        deputy = user("chengguan01_cadre2").id
        arrangements = list(db.session.scalars(db.select(StandIn.id)))
        db.session.remove()
    csrf = data.draw(csrf_choice, label="csrf")
    if data.draw(st.booleans(), label="add"):
        pairs = pairs_of(data.draw, {"stand_in_id": id_text(deputy), "starts_on": date_text, "ends_on": date_text,
                                     "note": any_text})
        check(app, lambda: session.post("/account/stand-ins", pairs, csrf=csrf), describe(pairs, csrf))
    else:
        target = data.draw(st.one_of(st.sampled_from(arrangements or [1]), st.integers(0, 40),
                                     st.just(2**63)), label="arrangement")
        check(app, lambda: session.post(f"/account/stand-ins/{target}/end", [], csrf=csrf), describe(target, csrf))


@fuzz_settings(30)
@given(data=st.data())
def test_case_comments_and_attachments(app: Flask, web: Callable[[str], WebSession],
                                       target: Callable[..., TaskTarget], data: st.DataObject) -> None:
    from app.models import ReadyTask

    task_id = target("town_certification").ensure()
    with app.app_context():
        case_id = db.session.get(ReadyTask, task_id).subject_id
        db.session.remove()
    session = web(data.draw(st.sampled_from(["chengguan_certifier", "chengguan01_team", "raofeng01_team"]),
                            label="user"))
    csrf = data.draw(csrf_choice, label="csrf")
    case = data.draw(st.one_of(st.just(case_id), st.integers(0, 30), st.just(2**63)), label="case")
    if data.draw(st.booleans(), label="comment"):
        pairs = pairs_of(data.draw, {"text": st.one_of(any_text, nasty), "task_id": id_text(task_id)})
        check(app, lambda: session.post(f"/cases/{case}/comments", pairs, csrf=csrf), describe(case, pairs, csrf))
    else:
        content, name = data.draw(upload_bytes, label="content"), data.draw(file_name, label="name")
        pairs = pairs_of(data.draw, {"task_id": id_text(task_id)})
        check(app, lambda: session.post(f"/cases/{case}/attachments", pairs, csrf=csrf,
                                        files={"file": (io.BytesIO(content), name)}),
              describe(case, name, content[:60], pairs, csrf))


@fuzz_settings(40)
@given(data=st.data())
def test_screening_posts(app: Flask, web: Callable[[str], WebSession], target: Callable[..., TaskTarget],
                         data: st.DataObject) -> None:
    from app.models import Household, ReadyTask, RiskRegistration

    task_id = target("screening").ensure()
    with app.app_context():
        screening_id = db.session.get(ReadyTask, task_id).subject_id
        households = list(db.session.scalars(db.select(Household.id).where(Household.village_code == "610922100001")))
        registrations = list(db.session.scalars(db.select(RiskRegistration.id)))
        db.session.remove()
    who = data.draw(st.sampled_from(["chengguan01_team"] * 3 + ["raofeng01_team", "county_office"]), label="user")
    session = web(who)
    csrf = data.draw(csrf_choice, label="csrf")
    sid = data.draw(st.one_of(st.just(screening_id), st.integers(0, 30), st.just(2**63)), label="screening")
    action = data.draw(st.sampled_from(["register", "unregister", "roster", "start"]), label="action")
    if action == "register":
        pairs = pairs_of(data.draw, {"household_id": id_text(*households),
                                     "risk_type": st.sampled_from(["accident", "other", "bogus"]),
                                     "reason": st.one_of(any_text, nasty)})
        send = lambda: session.post(f"/screenings/{sid}/registrations", pairs, csrf=csrf)  # noqa: E731
        what = describe(who, sid, pairs, csrf)
    elif action == "unregister":
        rid = data.draw(st.one_of(st.sampled_from(registrations or [1]), st.integers(0, 30)), label="registration")
        send = lambda: session.post(f"/screenings/{sid}/registrations/{rid}/delete", [], csrf=csrf)  # noqa: E731
        what = describe(who, sid, rid, csrf)
    elif action == "roster":
        content, name = data.draw(upload_bytes, label="content"), data.draw(file_name, label="name")
        send = lambda: session.post(f"/screenings/{sid}/roster", [], csrf=csrf,  # noqa: E731
                                    files={"file": (io.BytesIO(content), name)})
        what = describe(who, sid, name, content[:60], csrf)
    else:
        pairs = pairs_of(data.draw, {"month": st.sampled_from(["2031-01", "2031-13", "1999-00", "2031-1"])})
        send = lambda: session.post("/screenings/start", pairs, csrf=csrf)  # noqa: E731
        what = describe(who, pairs, csrf)
    check(app, send, what)


def _wait_for_import_jobs(app: Flask) -> None:
    from app.models import ImportJob

    deadline = time.monotonic() + 30
    while True:
        with app.app_context():
            jobs = list(db.session.scalars(db.select(ImportJob)))
            running = [j.id for j in jobs if j.running]
            crashed = [(j.id, j.message) for j in jobs if j.message and "系统错误" in j.message]
            db.session.remove()
        assert not crashed, f"an import job crashed: {crashed}"
        if not running:
            return
        assert time.monotonic() < deadline, f"import jobs still running: {running}"
        time.sleep(0.05)


@fuzz_settings(25)
@given(content=upload_bytes, name=file_name, valid_only=st.sampled_from([None, "1", "0", "\x00"]),
       csrf=csrf_choice, who=st.sampled_from(["county_office", "county_office", "chengguan01_team"]))
def test_household_import_upload(app: Flask, web: Callable[[str], WebSession], content: bytes, name: str,
                                 valid_only: str | None, csrf: str | None, who: str) -> None:
    """Random bytes and random zips never import a household; a file that is not a workbook is refused at once;
    one that looks like a workbook becomes a job that ends refused (waited for: the job runs in a thread)."""
    session = web(who)
    households = db_snapshot(app)["household"]
    pairs = [("valid_only", valid_only)] if valid_only is not None else []
    check(app, lambda: session.post("/households/import", pairs, csrf=csrf,
                                    files={"file": (io.BytesIO(content), name)}), describe(who, name, content[:80]))
    _wait_for_import_jobs(app)
    assert db_snapshot(app)["household"] == households, describe(name, content[:200])


@fuzz_settings(40)
@given(data=st.data())
def test_task_side_posts(app: Flask, web: Callable[[str], WebSession], target: Callable[..., TaskTarget],
                         data: st.DataObject) -> None:
    """Claim, release, hand over and keep a draft of a task; change a case's cadre."""
    from app.models import Case, ReadyTask
    from app.workflow import runtime
    from tests.helpers import user

    task = target("town_certification")
    task_id = task.ensure()
    execution_task = target("measures_execution").ensure()
    with app.app_context():
        ready = db.session.get(ReadyTask, task_id)
        fields = type(runtime.build_form(ready)).describe(runtime.build_form(ready).context)
        colleague = user("chengguan_leader").id
        cadre_case = db.session.get(ReadyTask, execution_task).subject_id
        cadre2 = user("chengguan01_cadre2").id
        assert db.session.get(Case, cadre_case) is not None
        db.session.remove()
    who = data.draw(st.sampled_from(["chengguan_certifier", "chengguan_certifier", "chengguan01_team",
                                     "county_office", "raofeng_certifier"]), label="user")
    session = web(who)
    csrf = data.draw(csrf_choice, label="csrf")
    tid = data.draw(st.one_of(st.just(task_id), st.integers(0, 40), st.just(2**63)), label="task")
    action = data.draw(st.sampled_from(["claim", "release", "reassign", "draft", "cadre"]), label="action")
    if action == "draft":
        pairs = data.draw(form_pairs(fields), label="pairs")
        pairs += pairs_of(data.draw, {"action": st.sampled_from(["draft", "autosave"])})
        url = f"/tasks/{tid}/draft"
    elif action == "reassign":
        pairs = pairs_of(data.draw, {"user_id": id_text(colleague)})
        url = f"/tasks/{tid}/reassign"
    elif action == "cadre":
        session = web(data.draw(st.sampled_from(["chengguan01_team", "county_office", "chengguan_certifier"])))
        pairs = pairs_of(data.draw, {"user_id": id_text(cadre2)})
        url = f"/cases/{data.draw(st.one_of(st.just(cadre_case), st.integers(0, 30)), label='case')}/cadre"
    else:
        pairs, url = [], f"/tasks/{tid}/{action}"
    check(app, lambda: session.post(url, pairs, csrf=csrf), describe(who, url, pairs, csrf))


@fuzz_settings(40)
@given(data=st.data())
def test_process_administration_pages(app: Flask, web: Callable[[str], WebSession],
                                      target: Callable[..., TaskTarget], data: st.DataObject) -> None:
    from app.models import ProcessDraft, ProcessVersion, ReadyTask

    case_task = target("town_certification").ensure()
    with app.app_context():
        versions = list(db.session.scalars(db.select(ProcessVersion.id)))
        drafts = list(db.session.scalars(db.select(ProcessDraft.id)))
        instance = db.session.get(ReadyTask, case_task).instance_id
        db.session.remove()
    who = data.draw(st.sampled_from(["admin"] * 4 + ["county_office"]), label="user")
    session = web(who)
    csrf = data.draw(csrf_choice, label="csrf")
    action = data.draw(st.sampled_from(["upload", "save", "validate", "deploy", "rollback", "migrate"]),
                       label="action")
    if action == "upload":
        content = data.draw(st.one_of(xmlish_text.map(str.encode), upload_bytes), label="content")
        name = data.draw(file_name, label="name")
        send = lambda: session.post("/admin/processes/upload", [], csrf=csrf,  # noqa: E731
                                    files={"file": (io.BytesIO(content), name)})
        what = describe(who, name, content[:200], csrf)
    elif action == "save":  # the modeler's JSON call, CSRF token in the header
        body = data.draw(st.one_of(
            st.fixed_dictionaries({"xml": xmlish_text}, optional={
                "process_key": st.one_of(st.none(), any_text, nasty),
                "draft_id": st.one_of(st.none(), st.sampled_from(drafts or [1]), st.integers(-2, 40),
                                      st.just(2**63), any_text)}),
            st.one_of(st.none(), st.integers(), any_text, st.lists(st.integers(), max_size=3))), label="body")
        headers = {"X-CSRFToken": session.csrf} if csrf == "valid" else ({"X-CSRFToken": csrf} if csrf else {})
        send = lambda: session.client.post("/admin/processes/drafts", json=body, headers=headers)  # noqa: E731
        what = describe(who, body, csrf)
    elif action in ("validate", "deploy"):
        draft = data.draw(st.one_of(st.sampled_from(drafts or [1]), st.integers(0, 30)), label="draft")
        send = lambda: session.post(f"/admin/processes/drafts/{draft}/{action}", [], csrf=csrf)  # noqa: E731
        what = describe(who, action, draft, csrf)
    elif action == "rollback":
        version = data.draw(st.one_of(st.sampled_from(versions), st.integers(0, 30)), label="version")
        send = lambda: session.post(f"/admin/processes/versions/{version}/rollback", [], csrf=csrf)  # noqa: E731
        what = describe(who, version, csrf)
    else:
        version = data.draw(st.sampled_from(versions), label="version")
        pairs = pairs_of(data.draw, {"target": id_text(*versions), "instance": id_text(instance)})
        send = lambda: session.post(f"/admin/processes/versions/{version}/migrate", pairs, csrf=csrf)  # noqa: E731
        what = describe(who, version, pairs, csrf)
    check(app, send, what)
