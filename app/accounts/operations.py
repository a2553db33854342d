from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.clock import utcnow
from app.extensions import db
from app.models import ApiToken, User

# Checked against when the username is unknown, so that both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def issue_token(user: User, hours: int) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(raw), expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(token)
    db.session.flush()
    return raw, token


def user_for_token(raw: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.expires_at < utcnow() or not token.user.active:
        return None
    return token.user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
