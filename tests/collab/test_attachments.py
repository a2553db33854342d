"""Attachments of a case: photos and scans round-trip byte for byte with their checksum, identical content is
stored once, files too big or of another type are refused and leave nothing behind, and only people who may
see the case upload, list or download them (the cadre assigned to the case among them)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Event, ReadyTask
from tests.collab.conftest import HEIC, JPEG, PDF, PNG, WEBP, api_upload, fetch, stored_files, upload
from tests.helpers import approve_case, open_case, plan_measures


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_upload_and_download_round_trip_on_the_case_page(app: Flask, login_as, attachments_dir: Path):
    case_id = open_case(app)
    team = login_as("chengguan01_team")
    page = team.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'type="file" name="file" accept="image/*,application/pdf" capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page and "不超过 10 MB" in page

    response = upload(team, case_id, JPEG, "公示照片 第1张.jpg")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = team.get(response.headers["Location"]).get_data(as_text=True)
    assert "已上传附件：公示照片 第1张.jpg" in page
    sha256 = hashlib.sha256(JPEG).hexdigest()
    with app.app_context():
        [attachment] = db.session.scalars(select(Attachment)).all()
        assert (attachment.case_id, attachment.sha256, attachment.size, attachment.content_type) == (
            case_id, sha256, len(JPEG), "image/jpeg")
        assert attachment.uploaded_by.username == "chengguan01_team" and attachment.task_uuid is None
        attachment_id = attachment.id
        [event] = db.session.scalars(select(Event).where(Event.kind == "attachment_added")).all()
        assert (event.subject_kind, event.subject_id) == ("case", case_id)
        assert event.data["attachment_id"] == attachment_id
    # Outside the database, under its checksum, and nowhere else.
    assert stored_files(attachments_dir) == [attachments_dir / sha256[:2] / sha256]
    assert (attachments_dir / sha256[:2] / sha256).read_bytes() == JPEG
    # Listed on the case page and in its history, downloadable by a town official of the case's town.
    assert f"/attachments/{attachment_id}" in page and "上传附件" in page.split("办理记录", 1)[1]
    download = fetch(login_as("chengguan_certifier").get, f"/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.data == JPEG
    assert download.mimetype == "image/jpeg"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" + quote("公示照片 第1张.jpg") in disposition
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_identical_content_is_stored_once(app: Flask, login_as, api, attachments_dir: Path):
    case_id = open_case(app)
    team = login_as("chengguan01_team")
    assert upload(team, case_id, PDF, "会议记录.pdf").status_code == 303
    again = upload(team, case_id, PDF, "会议记录(1).pdf")  # the phone sent it twice over a weak signal
    assert again.status_code == 303
    assert "该文件此前已上传" in team.get(again.headers["Location"]).get_data(as_text=True)
    # The same scan for another case: its own row, the same file.
    other_case = open_case(app, village="610922100002")
    second = api_upload(api("chengguan02_team"), other_case, PDF, "会议记录.pdf")
    assert second.status_code == 201 and second.get_json()["created"] is True
    repeat = api_upload(api("chengguan02_team"), other_case, PDF, "会议记录.pdf")
    assert repeat.status_code == 200 and repeat.get_json()["id"] == second.get_json()["id"]
    with app.app_context():
        assert count(Attachment) == 2 and count(Event, Event.kind == "attachment_added") == 2
    sha256 = hashlib.sha256(PDF).hexdigest()
    assert stored_files(attachments_dir) == [attachments_dir / sha256[:2] / sha256]


@pytest.mark.parametrize(("content", "name", "content_type"), [
    (JPEG, "IMG_0001.JPG", "image/jpeg"), (PNG, "扫描件.png", "image/png"), (WEBP, "photo.webp", "image/webp"),
    (HEIC, "IMG_0002.HEIC", "image/heic"), (PDF, "授权书.pdf", "application/pdf"),
    (PNG, "照片", "image/png"),  # no suffix: the type comes from the bytes
])
def test_api_round_trip_for_each_accepted_type(app: Flask, api, content: bytes, name: str, content_type: str):
    case_id = open_case(app)
    client = api("chengguan01_team")
    created = api_upload(client, case_id, content, name)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["content_type"] == content_type and body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["file_name"] == name
    [listed] = client.get(f"/api/v1/cases/{case_id}/attachments").get_json()["attachments"]
    assert listed["id"] == body["id"] and listed["download_url"] == f"/api/v1/attachments/{body['id']}"
    download = fetch(client.get, listed["download_url"])
    assert download.status_code == 200 and download.data == content and download.mimetype == content_type
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_a_file_whose_name_hides_its_type_downloads_under_a_harmless_name(app: Flask, api):
    case_id = open_case(app)
    client = api("chengguan01_team")
    body = api_upload(client, case_id, PNG, "notice.html").get_json()
    assert body["file_name"] == "notice.html" and body["content_type"] == "image/png"
    download = fetch(client.get, body["download_url"])
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"] == "attachment; filename=notice.html.png"


@pytest.mark.parametrize("size", [1001, 300 * 1024])  # just past the limit (read and refused), far past it (cut off)
def test_too_big_is_refused_naming_the_limit_and_nothing_is_stored(app: Flask, login_as, api, monkeypatch,
                                                                     attachments_dir: Path, size: int):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    case_id = open_case(app)
    content = (JPEG * (size // len(JPEG) + 1))[:size]
    team = login_as("chengguan01_team")
    refused = upload(team, case_id, content, "大照片.jpg")
    assert refused.status_code == 413
    page = refused.get_data(as_text=True)
    assert "附件不能超过 1000 字节" in page and 'id="attachments"' in page  # the case page, message at the form
    api_refused = api_upload(api("chengguan01_team"), case_id, content, "大照片.jpg")
    assert api_refused.status_code == 413 and "附件不能超过 1000 字节" in api_refused.get_json()["error"]
    with app.app_context():
        assert count(Attachment) == 0 and count(Event, Event.kind == "attachment_added") == 0
    assert stored_files(attachments_dir) == []
    # Exactly at the limit is accepted.
    assert api_upload(api("chengguan01_team"), case_id, content[:1000], "刚好.jpg").status_code == 201


def test_the_default_limit_is_ten_megabytes(app: Flask, api, monkeypatch):
    monkeypatch.delitem(app.config, "ATTACHMENT_MAX_BYTES")
    case_id = open_case(app)
    listing = api("chengguan01_team").get(f"/api/v1/cases/{case_id}/attachments").get_json()
    assert listing == {"attachments": [], "max_bytes": 10 * 1024 * 1024}


@pytest.mark.parametrize(("content", "name"), [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "公示照片.jpg"),  # a program
    ("村委会会议记录：同意纳入监测".encode() * 20, "会议记录.jpg"),  # text
    (b"<!doctype html><html><script>alert(document.cookie)</script></html>", "notice.html"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "photo.png"),
    (b"PK\x03\x04" + b"\x00" * 100, "授权书.pdf"),  # a zip (docx, apk) calling itself a PDF
])
def test_other_types_are_refused_whatever_the_name_and_nothing_is_stored(app: Flask, login_as, api,
                                                                           attachments_dir: Path, content: bytes,
                                                                           name: str):
    case_id = open_case(app)
    team = login_as("chengguan01_team")
    refused = upload(team, case_id, content, name)
    assert refused.status_code == 415
    assert "只能上传JPEG、PNG、WebP、HEIC 图片或 PDF 文件" in refused.get_data(as_text=True)
    client = api("chengguan01_team")
    api_refused = client.client.post(f"/api/v1/cases/{case_id}/attachments", headers=client.headers,
                                      data={"file": (io.BytesIO(content), name, "image/jpeg")},
                                      content_type="multipart/form-data")
    assert api_refused.status_code == 415
    with app.app_context():
        assert count(Attachment) == 0 and count(Event, Event.kind == "attachment_added") == 0
    assert stored_files(attachments_dir) == []


def test_an_empty_or_missing_file_is_refused(app: Flask, login_as, api):
    case_id = open_case(app)
    empty = upload(login_as("chengguan01_team"), case_id, b"", "空.jpg")
    assert empty.status_code == 422 and "请选择要上传的文件" in empty.get_data(as_text=True)
    client = api("chengguan01_team")
    assert client.post(f"/api/v1/cases/{case_id}/attachments", data={}).status_code == 422
    with app.app_context():
        assert count(Attachment) == 0


def test_people_outside_the_case_area_get_403_everywhere(app: Flask, login_as, api, attachments_dir: Path):
    case_id = open_case(app)  # village 610922100001 of 城关镇
    created = api_upload(api("chengguan01_team"), case_id, JPEG, "公示.jpg").get_json()
    attachment_id = created["id"]
    before = stored_files(attachments_dir)
    # Another village of the same town, another town, a cadre of the same village not assigned to the case.
    for username in ("chengguan02_team", "raofeng_certifier", "raofeng01_team", "chengguan01_cadre2"):
        browser = login_as(username)
        assert browser.get(f"/cases/{case_id}/attachments").status_code == 403
        assert fetch(browser.get, f"/attachments/{attachment_id}").status_code == 403
        token = browser._csrf(browser.get("/").get_data(as_text=True))
        assert browser.client.post(f"/cases/{case_id}/attachments", content_type="multipart/form-data", data={
            "csrf_token": token, "file": (io.BytesIO(PNG), "越权.png")}).status_code == 403
        client = api(username)
        assert client.get(f"/api/v1/cases/{case_id}/attachments").status_code == 403
        assert fetch(client.get, f"/api/v1/attachments/{attachment_id}").status_code == 403
        assert api_upload(client, case_id, PNG, "越权.png").status_code == 403
    with app.app_context():
        assert count(Attachment) == 1
    assert stored_files(attachments_dir) == before
    # Inside the area: the page list, and the county and supervision read.
    assert "公示.jpg" in login_as("chengguan01_team").get(f"/cases/{case_id}/attachments").get_data(as_text=True)
    assert fetch(api("supervisor").get, f"/api/v1/attachments/{attachment_id}").data == JPEG
    assert api("county_office").get("/api/v1/attachments/99999").status_code == 404
    assert login_as("county_office").get("/attachments/99999").status_code == 404


def test_the_cadre_assigned_to_the_case_uploads_from_the_field(app: Flask, login_as, api):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "协助办理慢病卡", "measure_type": "health",
                                 "responsible_unit": "县医保局", "deadline": "2027-01-31"}])
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", case_id),
                                                         ReadyTask.bpmn_id == "Task_CarryOutMeasures"))
        task_id, task_uuid = task.id, task.task_uuid
    cadre = login_as("chengguan01_cadre1")
    page = cadre.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'capture="environment"' in page and f'<option value="{task_id}">' in page
    response = upload(cadre, case_id, JPEG, "慢病卡办理回执.jpg", task_id=str(task_id))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    body = api_upload(api("chengguan01_cadre1"), case_id, PDF, "医保局回函.pdf", task_id=str(task_id))
    assert body.status_code == 201 and body.get_json()["task_uuid"] == task_uuid
    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(a.file_name, a.task_uuid, a.bpmn_id, a.uploaded_by.username) for a in rows] == [
            ("慢病卡办理回执.jpg", task_uuid, "Task_CarryOutMeasures", "chengguan01_cadre1"),
            ("医保局回函.pdf", task_uuid, "Task_CarryOutMeasures", "chengguan01_cadre1")]
    history = api("chengguan01_cadre1").get(f"/api/v1/cases/{case_id}").get_json()["history"]
    assert [e["actor"] for e in history if e["kind"] == "attachment_added"] == ["chengguan01_cadre1"] * 2
    # The other cadre of the village is not on this case.
    assert api_upload(api("chengguan01_cadre2"), case_id, PNG, "x.png").status_code == 403


def test_the_household_file_lists_the_attachments_of_its_cases(app, login_as, attachments_dir):
    from tests.collab.conftest import JPEG, upload
    from tests.helpers import open_case

    case_id = open_case(app)
    team = login_as("chengguan01_team")
    assert upload(team, case_id, JPEG, "公示照片.jpg").status_code in (302, 303)
    with app.app_context():
        from app.extensions import db
        from app.models import Case

        household_id = db.session.get(Case, case_id).household_id
    page = team.get(f"/households/{household_id}").get_data(as_text=True)
    assert "公示照片.jpg" in page and "/attachments/" in page
