"""Comments on a case and on its current tasks: in the case history with the other events, on the page and
in the API; empty or over-long ones refused; only people who may see the case comment or read them."""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, Event, ReadyTask
from tests.helpers import open_case


def history_titles(page: str) -> list[str]:
    """The 办理记录 list of the case page, as its lines read (titles in order)."""
    part = page.split("办理记录", 1)[1]
    return [html.unescape(chunk.split("</strong>", 1)[0]) for chunk in part.split("<strong>")[1:]]


def test_a_comment_is_kept_and_shown_in_the_case_history_in_time_order(app: Flask, login_as, api):
    case_id = open_case(app)
    team = login_as("chengguan01_team")
    response = team.post(f"/cases/{case_id}/comments", {"text": "户主已出院，<b>住院票据</b>下周补交"},
                         page=f"/cases/{case_id}")
    assert response.status_code == 303
    page = team.get(response.headers["Location"]).get_data(as_text=True)
    assert "备注已添加" in page
    # Escaped, after the case's opening events, in the one history list.
    assert "户主已出院，&lt;b&gt;住院票据&lt;/b&gt;下周补交" in page
    titles = history_titles(page)
    assert titles[-1] == "办理备注" and len(titles) >= 2
    # The certifier (same town) sees it too and answers on the waiting task.
    certifier = login_as("chengguan_certifier")
    with app.app_context():
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case_id)))
        task_id, task_uuid, task_title = task.id, task.task_uuid, task.title
    assert f'<option value="{task_id}">' in certifier.get(f"/cases/{case_id}").get_data(as_text=True)
    assert certifier.post(f"/cases/{case_id}/comments", {"text": "收到，票据到后即认定", "task_id": task_id},
                          page=f"/cases/{case_id}").status_code == 303
    titles = history_titles(certifier.get(f"/cases/{case_id}").get_data(as_text=True))
    assert titles[-2:] == ["办理备注", f"办理备注（{task_title}）"]

    with app.app_context():
        comments = db.session.scalars(select(Comment).where(Comment.case_id == case_id).order_by(Comment.id)).all()
        assert [(c.author.username, c.task_uuid) for c in comments] == [("chengguan01_team", None),
                                                                       ("chengguan_certifier", task_uuid)]
        events = db.session.scalars(select(Event).where(Event.about("case", case_id), Event.kind == "comment_added")
                                    .order_by(Event.id)).all()
        assert [e.data["comment_id"] for e in events] == [c.id for c in comments]
        assert [e.at for e in events] == [c.created_at for c in comments]

    listing = api("county_office").get(f"/api/v1/cases/{case_id}/comments")
    assert listing.status_code == 200
    assert [(c["text"], c["author"], c["task_name"]) for c in listing.get_json()["comments"]] == [
        ("户主已出院，<b>住院票据</b>下周补交", "chengguan01_team", None),
        ("收到，票据到后即认定", "chengguan_certifier", task_title)]
    history = api("county_office").get(f"/api/v1/cases/{case_id}").get_json()["history"]
    assert [e["opinion"] for e in history if e["kind"] == "comment_added"] == [
        "户主已出院，<b>住院票据</b>下周补交", "收到，票据到后即认定"]


def test_comments_over_the_api(app: Flask, api):
    case_id = open_case(app)
    team = api("chengguan01_team")
    created = team.post(f"/api/v1/cases/{case_id}/comments", json={"text": "  已电话联系户主  "})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["text"] == "已电话联系户主" and body["author"] == "chengguan01_team" and body["task_uuid"] is None
    task_id = team.get(f"/api/v1/cases/{case_id}").get_json()["current_tasks"][0]["id"]
    on_task = team.post(f"/api/v1/cases/{case_id}/comments", json={"text": "请镇上尽快认定", "task_id": task_id})
    assert on_task.status_code == 201 and on_task.get_json()["bpmn_id"] == "Task_TownCertify"
    assert [c["text"] for c in team.get(f"/api/v1/cases/{case_id}/comments").get_json()["comments"]] == [
        "已电话联系户主", "请镇上尽快认定"]
    # A task of another case, or not a number, is refused.
    other_case = open_case(app, village="610922100002")
    with app.app_context():
        other_task = db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", other_case)))
    wrong = team.post(f"/api/v1/cases/{case_id}/comments", json={"text": "x", "task_id": other_task})
    assert wrong.status_code == 422 and "当前的办理环节" in wrong.get_json()["error"]
    assert team.post(f"/api/v1/cases/{case_id}/comments", json={"text": "x", "task_id": "1"}).status_code == 422
    assert team.post(f"/api/v1/cases/{case_id}/comments", json={"task_id": task_id}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 2


def test_empty_and_too_long_comments_are_refused_and_nothing_is_kept(app: Flask, login_as, api):
    case_id = open_case(app)
    team = login_as("chengguan01_team")
    empty = team.post(f"/cases/{case_id}/comments", {"text": "  \n "}, page=f"/cases/{case_id}")
    assert empty.status_code == 422 and "备注内容不能为空" in empty.get_data(as_text=True)
    long_text = "测" * 2001
    too_long = team.post(f"/cases/{case_id}/comments", {"text": long_text}, page=f"/cases/{case_id}")
    page = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "备注不能超过 2000 字（现为 2001 字）" in page
    assert long_text in page  # what was typed is given back to be shortened, not lost
    client = api("chengguan01_team")
    assert client.post(f"/api/v1/cases/{case_id}/comments", json={"text": ""}).get_json()["error"] == "备注内容不能为空"
    refused = client.post(f"/api/v1/cases/{case_id}/comments", json={"text": long_text})
    assert refused.status_code == 422 and "2000" in refused.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
        assert db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "comment_added")) == 0
    # Exactly 2,000 characters is fine.
    assert client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "测" * 2000}).status_code == 201


def test_people_outside_the_case_area_can_neither_comment_nor_read(app: Flask, login_as, api):
    case_id = open_case(app)  # a household of 城关镇 village 610922100001
    for username in ("chengguan02_team", "raofeng_certifier", "chengguan01_cadre1"):
        outsider = login_as(username)
        assert outsider.post(f"/cases/{case_id}/comments", {"text": "越权评论"}).status_code == 403
        client = api(username)
        assert client.get(f"/api/v1/cases/{case_id}/comments").status_code == 403
        assert client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "越权评论"}).status_code == 403
    assert api("supervisor").get(f"/api/v1/cases/{case_id}/comments").status_code == 200
    assert api("chengguan01_team").get("/api/v1/cases/99999/comments").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_supervisors_read_a_case_and_write_nothing_on_it(app: Flask, login_as, api):
    """督查: the county's supervisor reads the case, its remarks and files, and has no form to add any; a remark or
    a file sent anyway is refused and nothing is kept."""
    case_id = open_case(app)
    login_as("chengguan01_team").post(f"/cases/{case_id}/comments", {"text": "户主已出院"}, page=f"/cases/{case_id}")
    supervisor = login_as("supervisor")
    page = supervisor.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "户主已出院" in page and "督查人员只查看" in page
    assert "添加备注</button>" not in page and "上传附件</button>" not in page
    refused = supervisor.post(f"/cases/{case_id}/comments", {"text": "督查意见"}, page=f"/cases/{case_id}")
    assert refused.status_code == 403
    client = api("supervisor")
    assert client.get(f"/api/v1/cases/{case_id}/comments").status_code == 200
    answer = client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "督查意见"})
    assert answer.status_code == 403 and "督查人员只能查看案件" in answer.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
