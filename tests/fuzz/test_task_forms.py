"""Every user task's form, submitted through the web page with random and hostile pairs: never a server error;
a refused submit answers with the form and its messages (or a clear refusal) and stores nothing; an accepted
one completes the task and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import event, given
from hypothesis import strategies as st

from app.extensions import db
from tests.fuzz.conftest import (
    FORM_STEPS,
    TaskTarget,
    assert_no_server_error,
    assert_unchanged,
    changed_tables,
    db_snapshot,
    describe,
    fuzz_settings,
)
from tests.fuzz.strategies import any_text, form_pairs, nasty

OUTSIDERS = ["raofeng01_team", "supervisor"]  # another town's team; the read-only county commander


def form_fields(app: Flask, task_id: int) -> list[dict[str, Any]]:
    from app.models import ReadyTask
    from app.workflow import runtime

    with app.app_context():
        task = db.session.get(ReadyTask, task_id)
        assert task is not None
        form = runtime.build_form(task)
        fields = type(form).describe(form.context)
        db.session.remove()
    return fields


# One in six submits has no, an empty or a forged CSRF token; one in six comes from someone else.
csrf_choice = st.integers(0, 5).flatmap(lambda pick: st.sampled_from([None, "", "forged-token", "x" * 5000])
                                        if pick == 0 else st.just("valid"))


@pytest.mark.parametrize("form_key", list(FORM_STEPS))
@fuzz_settings(40)
@given(data=st.data())
def test_task_form_refusals_change_nothing(app: Flask, web: Any, target: Callable[..., TaskTarget], form_key: str,
                                           data: st.DataObject) -> None:
    task = target(form_key)
    task_id = task.ensure()
    fields = form_fields(app, task_id)
    who = data.draw(st.integers(0, 5).flatmap(lambda pick: st.sampled_from(OUTSIDERS) if pick == 0
                                              else st.just(task.username)), label="user")
    pairs = data.draw(form_pairs(fields), label="pairs")
    revision = task.revision()
    # Mostly the right revision (a wrong one is refused before the form is read: one in six is enough).
    pairs.append(("revision", data.draw(st.integers(0, 5).flatmap(
        lambda pick: st.one_of(st.just(str(revision + 1)), st.just(""), nasty, any_text) if pick == 0
        else st.just(str(revision))), label="revision")))
    csrf = data.draw(csrf_choice, label="csrf")

    session = web(who)  # logged in before the snapshot: a log-in is stored, rightly
    before = db_snapshot(app)
    response = session.post(f"/tasks/{task_id}", pairs, csrf=csrf)
    what = describe(form_key, who, csrf, pairs)
    assert_no_server_error(response, what)
    after = db_snapshot(app)
    event(f"{'owner' if who == task.username else 'outsider'} HTTP {response.status_code}")

    if task.alive():
        assert_unchanged(before, after, what)
        assert response.status_code != 302 or "/login" in response.location, what
        if response.status_code == 422:  # the form again, with the reasons beside the fields
            assert 'class="error"' in response.get_data(as_text=True), what
        elif response.status_code == 303:  # a conflict: back to the inbox with the reason flashed
            assert "/tasks/" not in response.location, what
        else:
            assert response.status_code in (400, 403, 409, 413), what
    else:  # accepted: only the owner, only with the right token, and the task moved on
        assert who == task.username and csrf == "valid", what
        assert response.status_code == 302, what
        assert changed_tables(before, after), what
