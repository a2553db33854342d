from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db
from app.models import ApiToken, Event, LoginAttempt, User

# Checked against when the username is unknown, so that both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-password")

# MLPS 2.0 practice: after MAX_FAILURES failed log-ins for a username within FAILURE_WINDOW, further
# attempts for it are refused for LOCK_DURATION.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)


class LoginFailed(DomainError):
    status = 401

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class LoginLocked(DomainError):
    """Too many failed log-ins for the username: refused, even with the right password, until `until`."""

    status = 429

    def __init__(self, until: datetime, now: datetime) -> None:
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        self.minutes = max(1, math.ceil(self.retry_after / 60))
        super().__init__(f"登录失败次数过多，请 {self.minutes} 分钟后再试")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt


def authenticate(username: str, password: str) -> User | None:
    """Check a password, with no lock-out and no record: for callers that are not log-ins."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def _attempt_key(username: str) -> str:
    # One lock per name however it is typed, so that "Admin " and "admin" share their failures.
    return (username or "").strip().lower()[:64]


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """When the lock on `username` ends, or None if it is not locked now."""
    now = now or utcnow()
    key = _attempt_key(username)
    # A lock that is still on was started by a failure less than LOCK_DURATION ago, counted with the failures
    # of the FAILURE_WINDOW before it.
    rows = db.session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded)
        .where(LoginAttempt.username == key, LoginAttempt.at > now - LOCK_DURATION - FAILURE_WINDOW,
               LoginAttempt.at <= now)
        .order_by(LoginAttempt.at, LoginAttempt.id)).all()
    streak: list[datetime] = []  # failures since the last success
    until: datetime | None = None
    for at, succeeded in rows:
        if succeeded:
            streak = []
            continue
        streak.append(at)
        if len(streak) >= MAX_FAILURES and at - streak[-MAX_FAILURES] <= FAILURE_WINDOW:
            until = at + LOCK_DURATION
    return until if until is not None and until > now else None


def log_in(username: str, password: str, remote_addr: str | None, via: str = "web") -> User:
    """A log-in by the web form or the API: checks the lock-out, records the attempt and the audit event.
    Raises LoginLocked or LoginFailed; the caller commits in every case, so that failures are kept."""
    now = utcnow()
    key = _attempt_key(username)
    remote = (remote_addr or "")[:64] or None
    until = locked_until(key, now)
    if until is not None:
        db.session.add(Event(kind="login_locked", at=now, remote_addr=remote,
                             data={"username": key, "via": via, "until": until.isoformat() + "Z"}))
        db.session.flush()
        raise LoginLocked(until, now)
    user = authenticate(username, password)
    db.session.add(LoginAttempt(username=key, at=now, succeeded=user is not None, remote_addr=remote))
    if user is None:
        known = db.session.scalar(select(User.id).where(User.username == (username or "").strip()))
        db.session.add(Event(kind="login_failed", at=now, actor_id=known, remote_addr=remote,
                             data={"username": key, "via": via}))
        db.session.flush()
        until = locked_until(key, now)
        if until is not None:  # this failure started the lock
            db.session.add(Event(kind="login_locked", at=now, actor_id=known, remote_addr=remote,
                                 data={"username": key, "via": via, "until": until.isoformat() + "Z"}))
            db.session.flush()
        raise LoginFailed()
    db.session.add(Event(kind="login", at=now, actor_id=user.id, remote_addr=remote, data={"via": via}))
    db.session.flush()
    return user


def issue_token(user: User, hours: int) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(raw), expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    return raw, token


# A live token: the one presented, not expired, of a user still active (for a query joining api_token and its user).
_LIVE_TOKEN = (ApiToken.token_hash == bindparam("token_hash"), ApiToken.expires_at > bindparam("now"), User.active)
_TOKEN_BY_LIVE_HASH = select(ApiToken).join(User, ApiToken.user_id == User.id).where(*_LIVE_TOKEN)
# Every API request runs this one: built once; the user alone (its area is loaded only if something asks).
_USER_BY_LIVE_TOKEN = (select(User).join(ApiToken, ApiToken.user_id == User.id).where(*_LIVE_TOKEN)
                       .options(lazyload(User.area)))


def _live(raw: str) -> dict[str, Any]:
    return {"token_hash": _digest(raw), "now": utcnow()}


def _live_token(raw: str) -> ApiToken | None:
    return db.session.scalar(_TOKEN_BY_LIVE_HASH, _live(raw))


def user_for_token(raw: str) -> User | None:
    """The user of a live token, in one query that loads only the user."""
    return db.session.scalar(_USER_BY_LIVE_TOKEN, _live(raw))


def revoke_token(raw: str, remote_addr: str | None = None) -> bool:
    """End a token now (it is kept, expired, for the record). False if it was not a live token."""
    token = _live_token(raw)
    if token is None:
        return False
    now = utcnow()
    token.expires_at = now
    db.session.add(Event(kind="api_token_revoked", at=now, actor_id=token.user_id,
                         remote_addr=(remote_addr or "")[:64] or None, data={"token_id": token.id}))
    db.session.flush()
    return True


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
