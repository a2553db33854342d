"""Every POST of the JSON API with random JSON objects, JSON that is not an object, broken JSON, bodies of the
wrong content type and path ids out of every range: never a server error, refusals are JSON errors, and a
refused request stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st

from app.extensions import db
from tests.conftest import DEMO_PASSWORD
from tests.fuzz.conftest import (
    FORM_STEPS,
    TaskTarget,
    assert_no_server_error,
    assert_unchanged,
    db_snapshot,
    describe,
    fuzz_settings,
)
from tests.fuzz.strategies import any_text, form_pairs, nasty, request_body, upload_bytes, xmlish_text


# Path ids: the fixture's own, small ones, and ones past every integer column (int4 on PostgreSQL, int8 in
# SQLite) — a URL may carry any number of digits.
def path_id(own: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(own), st.integers(min_value=0, max_value=50),
                     st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]))


def json_int(own: int | None = None) -> st.SearchStrategy[Any]:
    return st.one_of(*([st.just(own)] if own is not None else []), st.integers(min_value=-3, max_value=60),
                     st.sampled_from([2**31, 2**63, 10**30, -(2**63) - 1]), st.text(max_size=5),
                     st.floats(allow_nan=False, allow_infinity=False))


class ApiClient:
    def __init__(self, app: Flask, username: str) -> None:
        self.client = app.test_client()
        answer = self.client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 201, answer.get_json()
        self.headers = {"Authorization": "Bearer " + answer.get_json()["token"]}

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.headers, **kwargs)


@pytest.fixture()
def api_as(app: Flask) -> Callable[[str], ApiClient]:
    clients: dict[str, ApiClient] = {}

    def get(username: str) -> ApiClient:
        if username not in clients:
            clients[username] = ApiClient(app, username)
        return clients[username]

    return get


def check(app: Flask, send: Callable[[], Any], what: str, *, security_log: bool = False) -> Any:
    """Send one request; no 5xx; a refusal answers JSON {error, status} and leaves the data as it was."""
    before = db_snapshot(app, security_log=security_log)
    response = send()
    assert_no_server_error(response, what)
    event(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        is_error = isinstance(body, dict) and isinstance(body.get("error"), str) and body.get("status") == \
            response.status_code
        # A diagram refused by validation answers with its problems per element (the Validation schema).
        is_validation = isinstance(body, dict) and body.get("valid") is False and isinstance(body.get("problems"),
                                                                                              list)
        assert is_error or is_validation, f"refusal without a JSON error body ({response.status_code}): {what}"
        assert_unchanged(before, db_snapshot(app, security_log=security_log), what)
    return response


USERNAMES = ["admin", "county_office", "chengguan01_team", "nobody", "Admin ", "admin\x00", ""]


@fuzz_settings(40)
@given(body=request_body({"username": st.sampled_from(USERNAMES),
                          "password": st.one_of(st.just(DEMO_PASSWORD), any_text, nasty)}))
def test_token(app: Flask, body: dict[str, Any]) -> None:
    # A failed log-in writes its attempt and its security event on purpose (the lock-out counts them):
    # those rows, and only those, are left out of the comparison.
    check(app, lambda: app.test_client().post("/api/v1/auth/token", **body), describe(body), security_log=True)


@fuzz_settings(15)
@given(body=request_body(), auth=st.sampled_from(["own", "none", "garbage", "basic"]))
def test_revoke(app: Flask, body: dict[str, Any], auth: str) -> None:
    client = ApiClient(app, "chengguan01_team")  # a token of its own each time: revoking it is the point
    headers = {"own": client.headers, "none": {}, "garbage": {"Authorization": "Bearer \x00garbage"},
               "basic": {"Authorization": "Basic YWRtaW46eA=="}}[auth]
    response = check(app, lambda: client.client.post("/api/v1/auth/revoke", headers=headers, **body),
                     describe(auth, body))
    assert (response.status_code == 200) == (auth == "own"), describe(auth, body)


@fuzz_settings(30)
@given(data=st.data())
def test_screening_start_and_registration(app: Flask, api_as: Callable[[str], ApiClient],
                                          target: Callable[..., TaskTarget], data: st.DataObject) -> None:
    from app.models import Household, ReadyTask

    task_id = target("screening").ensure()
    with app.app_context():
        screening_id = db.session.get(ReadyTask, task_id).subject_id
        household_id = db.session.scalar(db.select(Household.id).where(Household.village_code == "610922100001"))
        db.session.remove()
    if data.draw(st.booleans(), label="start"):
        who = data.draw(st.sampled_from(["county_office", "chengguan01_team"]), label="user")
        body = data.draw(request_body({"month": st.one_of(st.sampled_from(["2031-01", "2031-13", "1999-00"]),
                                                          nasty)}), label="body")
        client = api_as(who)  # logged in before the snapshot
        check(app, lambda: client.post("/api/v1/screenings", **body), describe(who, body))
    else:
        who = data.draw(st.sampled_from(["chengguan01_team", "chengguan02_team", "county_office"]), label="user")
        sid = data.draw(path_id(screening_id), label="screening")
        body = data.draw(request_body({"household_id": json_int(household_id),
                                       "risk_type": st.sampled_from(["accident", "other", "bogus"]),
                                       "reason": st.one_of(any_text, nasty)}), label="body")
        client = api_as(who)
        check(app, lambda: client.post(f"/api/v1/screenings/{sid}/registrations", **body),
              describe(who, sid, body))


@pytest.mark.parametrize("form_key", list(FORM_STEPS))
@fuzz_settings(8)
@given(data=st.data())
def test_task_complete(app: Flask, api_as: Callable[[str], ApiClient], target: Callable[..., TaskTarget],
                       form_key: str, data: st.DataObject) -> None:
    from app.models import ReadyTask
    from app.workflow import runtime

    task = target(form_key)
    task_id = task.ensure()
    with app.app_context():
        form = runtime.build_form(db.session.get(ReadyTask, task_id))
        fields = type(form).describe(form.context)
        db.session.remove()
    # The form's own fields as JSON: scalars, lists for list fields, plus the usual hostile bodies.
    pairs = data.draw(form_pairs(fields), label="pairs")
    known: dict[str, st.SearchStrategy[Any]] = {name: st.just(value) for name, value in pairs}
    known["revision"] = json_int(task.revision())
    body = data.draw(request_body(known), label="body")
    who = data.draw(st.sampled_from([task.username] * 4 + ["raofeng01_team"]), label="user")
    tid = data.draw(path_id(task_id), label="task")
    client = api_as(who)
    response = check(app, lambda: client.post(f"/api/v1/tasks/{tid}/complete", **body), describe(who, tid, body))
    if response.status_code < 400:
        assert response.status_code == 200 and who == task.username and tid == task_id, describe(who, tid, body)


@fuzz_settings(40)
@given(data=st.data())
def test_claim_release_reassign_comment_attach(app: Flask, api_as: Callable[[str], ApiClient],
                                               target: Callable[..., TaskTarget], data: st.DataObject) -> None:
    task_id = target("town_certification").ensure()
    with app.app_context():
        from app.models import ReadyTask, User

        case_id = db.session.get(ReadyTask, task_id).subject_id
        certifier_id = db.session.scalar(db.select(User.id).where(User.username == "chengguan_certifier"))
        db.session.remove()
    who = data.draw(st.sampled_from(["chengguan_certifier", "chengguan01_team", "raofeng_certifier", "supervisor"]),
                    label="user")
    action = data.draw(st.sampled_from(["claim", "release", "reassign", "comment", "attachment"]), label="action")
    if action in ("claim", "release", "reassign"):
        tid = data.draw(path_id(task_id), label="task")
        url = f"/api/v1/tasks/{tid}/{action}"
        body = data.draw(request_body({"user_id": json_int(certifier_id)}), label="body")
    elif action == "comment":
        url = f"/api/v1/cases/{data.draw(path_id(case_id), label='case')}/comments"
        body = data.draw(request_body({"text": st.one_of(any_text, nasty), "task_id": json_int(task_id)}),
                         label="body")
    else:
        import io

        url = f"/api/v1/cases/{data.draw(path_id(case_id), label='case')}/attachments"
        content = data.draw(upload_bytes, label="content")
        fields: dict[str, Any] = {"file": (io.BytesIO(content), data.draw(st.sampled_from(["a.png", "a.pdf", ""])))}
        if data.draw(st.booleans()):
            fields["task_id"] = data.draw(st.one_of(st.just(str(task_id)), nasty), label="task_id")
        body = {"data": fields, "content_type": "multipart/form-data"} if data.draw(st.integers(0, 3)) \
            else data.draw(request_body(), label="body")
    client = api_as(who)
    check(app, lambda: client.post(url, **body), describe(who, url, body))


@fuzz_settings(40)
@given(data=st.data())
def test_process_administration(app: Flask, api_as: Callable[[str], ApiClient], target: Callable[..., TaskTarget],
                                data: st.DataObject) -> None:
    from app.models import ProcessVersion

    with app.app_context():
        version_id = db.session.scalar(db.select(ProcessVersion.id).order_by(ProcessVersion.id))
        db.session.remove()
    case_task = target("town_certification").ensure()
    with app.app_context():
        from app.models import ReadyTask

        case_id = db.session.get(ReadyTask, case_task).subject_id
        db.session.remove()
    who = data.draw(st.sampled_from(["admin", "admin", "admin", "county_office"]), label="user")
    client = api_as(who)
    action = data.draw(st.sampled_from(["validate", "deploy", "rollback", "migrate"]), label="action")
    xml_body = {"data": data.draw(st.one_of(xmlish_text.map(str.encode), st.binary(max_size=300)), label="xml"),
                "content_type": data.draw(st.sampled_from(["application/xml", "text/xml", "application/json",
                                                           "text/plain; charset=gbk"]), label="type")}
    if action == "validate":
        key = data.draw(st.one_of(st.none(), st.sampled_from(["household_case", "publicity"]), nasty), label="key")
        url = "/api/v1/processes/validate"
        send = lambda: client.post(url, query_string={"process_key": key} if key is not None else {},  # noqa: E731
                                   **xml_body)
    elif action == "deploy":
        key = data.draw(st.one_of(st.sampled_from(["household_case", "publicity", "x"]), st.text(
            alphabet=st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1, max_size=20)), label="key")
        url = f"/api/v1/processes/{key}/versions"
        send = lambda: client.post(url, **xml_body)  # noqa: E731
    elif action == "rollback":
        url = f"/api/v1/processes/versions/{data.draw(path_id(version_id), label='version')}/rollback"
        body = data.draw(request_body(), label="body")
        send = lambda: client.post(url, **body)  # noqa: E731
    else:
        url = f"/api/v1/cases/{data.draw(path_id(case_id), label='case')}/migrate"
        body = data.draw(request_body({"version_id": json_int(version_id)}), label="body")
        send = lambda: client.post(url, **body)  # noqa: E731
    check(app, send, describe(who, url, action))
