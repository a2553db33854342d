"""Log-in lock-out (5 failures in 15 minutes lock a username for 15 minutes, on the web form and the API token
endpoint alike), idle web sessions ending after 30 minutes, and API tokens that expire and can be revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.clock import travel_to, utcnow
from app.extensions import db
from app.models import Event, LoginAttempt
from tests.conftest import CSRF_RE, DEMO_PASSWORD

LOCKED = "登录失败次数过多"


def _web_login(client, username: str, password: str):
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _api_login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _fail(client, username: str, times: int, api: bool = False) -> None:
    for _ in range(times):
        response = (_api_login if api else _web_login)(client, username, "wrong-password")
        assert response.status_code == 401


def _events(app: Flask, kind: str) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_five_failures_lock_the_web_form_even_for_the_right_password(app: Flask, client):
    now = utcnow()
    with travel_to(now):
        _fail(client, "county_office", 5)
        response = _web_login(client, "county_office", DEMO_PASSWORD)
        assert response.status_code == 429
        assert "登录失败次数过多，请 15 分钟后再试" in response.get_data(as_text=True)
        assert client.get("/").status_code == 302  # not logged in
    with travel_to(now + timedelta(minutes=14)):
        response = _web_login(client, "county_office", DEMO_PASSWORD)
        assert response.status_code == 429 and "请 1 分钟后再试" in response.get_data(as_text=True)
    with travel_to(now + timedelta(minutes=15, seconds=1)):
        assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 302
        assert client.get("/").status_code == 200


def test_four_failures_do_not_lock(app: Flask, client):
    _fail(client, "county_office", 4)
    assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 302


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(app: Flask, client):
    now = utcnow()
    for minute in (0, 4, 8, 12, 16):
        with travel_to(now + timedelta(minutes=minute)):
            _fail(client, "county_office", 1)
    with travel_to(now + timedelta(minutes=16)):
        assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 302


def test_the_api_token_endpoint_answers_429_with_retry_after(app: Flask, client):
    now = utcnow()
    with travel_to(now):
        _fail(client, "county_office", 5, api=True)
        response = _api_login(client, "county_office", DEMO_PASSWORD)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) == 15 * 60
        assert LOCKED in response.get_json()["error"]
    with travel_to(now + timedelta(minutes=10)):
        response = _api_login(client, "county_office", DEMO_PASSWORD)
        assert response.status_code == 429 and int(response.headers["Retry-After"]) == 5 * 60
    with travel_to(now + timedelta(minutes=16)):
        assert _api_login(client, "county_office", DEMO_PASSWORD).status_code == 201


def test_web_and_api_failures_count_together(app: Flask, client):
    _fail(client, "county_office", 3, api=True)
    _fail(client, "county_office", 2)
    assert _api_login(client, "county_office", DEMO_PASSWORD).status_code == 429
    assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 429


def test_one_username_locked_does_not_lock_another(app: Flask, client):
    _fail(client, "county_office", 5)
    assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 429
    assert _web_login(app.test_client(), "supervisor", DEMO_PASSWORD).status_code == 302
    assert _api_login(client, "supervisor", DEMO_PASSWORD).status_code == 201


def test_unknown_usernames_lock_the_same_way(app: Flask, client):
    _fail(client, "nobody", 5)
    assert _web_login(client, "nobody", "anything").status_code == 429


def test_the_lock_is_kept_in_the_database_across_app_processes(app: Flask, client):
    # Another app object stands for another worker process: it shares only the database.
    from app import create_app

    _fail(client, "county_office", 5)
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": "test"})
    try:
        assert _api_login(other.test_client(), "county_office", DEMO_PASSWORD).status_code == 429
    finally:
        with other.app_context():
            db.engine.dispose()


def test_attempts_and_audit_events_are_recorded(app: Flask, client):
    assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 302
    _fail(app.test_client(), "county_office", 5)
    assert _api_login(app.test_client(), "county_office", DEMO_PASSWORD).status_code == 429
    with app.app_context():
        attempts = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [a.succeeded for a in attempts] == [True] + [False] * 5
        assert all(a.username == "county_office" and a.remote_addr == "127.0.0.1" for a in attempts)
    logins, failures, locks = _events(app, "login"), _events(app, "login_failed"), _events(app, "login_locked")
    assert len(logins) == 1 and logins[0].actor_id is not None and logins[0].subject_id is None
    assert len(failures) == 5 and all(e.remote_addr == "127.0.0.1" for e in failures)
    assert len(locks) == 2  # the fifth failure started it, the API attempt was refused by it
    assert {e.data["via"] for e in locks} == {"web", "api"}


def _logged_in_client(app: Flask):
    client = app.test_client()
    assert _web_login(client, "county_office", DEMO_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("minutes, still_in", [(29, True), (31, False)])
def test_web_sessions_end_after_30_idle_minutes(app: Flask, minutes: int, still_in: bool):
    now = utcnow()
    with travel_to(now):
        client = _logged_in_client(app)
        assert client.get("/").status_code == 200
    with travel_to(now + timedelta(minutes=minutes)):
        response = client.get("/cases/")
        if still_in:
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/login" in response.location
            assert "已自动退出" in client.get("/login").get_data(as_text=True)
            assert client.get("/").status_code == 302  # the session is gone, not just this request


def test_activity_keeps_a_session_alive(app: Flask):
    now = utcnow()
    with travel_to(now):
        client = _logged_in_client(app)
    for minutes in (20, 40, 60):
        with travel_to(now + timedelta(minutes=minutes)):
            assert client.get("/").status_code == 200


def test_session_cookie_flags(app: Flask):
    client = app.test_client()
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "county_office", "password": DEMO_PASSWORD,
                                           "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # default, so that http://127.0.0.1 works


def test_api_tokens_last_eight_hours(app: Flask, client):
    assert app.config["API_TOKEN_HOURS"] == 8
    now = utcnow()
    with travel_to(now):
        body = _api_login(client, "county_office", DEMO_PASSWORD).get_json()
    headers = {"Authorization": "Bearer " + body["token"]}
    with travel_to(now + timedelta(hours=7, minutes=59)):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    with travel_to(now + timedelta(hours=8, minutes=1)):
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_revoked_token_is_refused(app: Flask, api):
    user = api("county_office")
    other = api("county_office")
    assert user.get("/api/v1/me").status_code == 200
    response = user.post("/api/v1/auth/revoke")
    assert response.status_code == 200 and response.get_json() == {"revoked": True}
    assert user.get("/api/v1/me").status_code == 401
    assert user.post("/api/v1/auth/revoke").status_code == 401
    assert other.get("/api/v1/me").status_code == 200  # only the presented token ends
    assert len(_events(app, "api_token_revoked")) == 1


def test_a_deactivated_users_token_is_refused_at_once(app: Flask, api):
    from app.models import User

    user = api("chengguan_certifier")
    assert user.get("/api/v1/me").status_code == 200
    with app.app_context():
        person = db.session.scalar(select(User).where(User.username == "chengguan_certifier"))
        person.active = False
        db.session.commit()
    assert user.get("/api/v1/me").status_code == 401
    assert user.get("/api/v1/tasks").status_code == 401


def test_a_supervisor_lands_on_the_supervision_pages_and_has_no_inbox_link(app, client):
    """督查人员 never hold a task: after log-in they land on 督查考核, and the header offers no empty 待办."""
    for username, landing in (("supervisor", "/supervision/scoreboard"), ("county_office", "/")):
        client.post("/logout", data={"csrf_token": CSRF_RE.search(client.get("/login").get_data(as_text=True))
                                     .group(1)})
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
        assert answer.status_code == 302 and answer.headers["Location"] == landing, username
        page = client.get(landing).get_data(as_text=True)
        assert ('>待办' in page) is (username == "county_office"), username
