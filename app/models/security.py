from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model


class LoginAttempt(Model):
    """One checked log-in (web form or API token), kept in the database so that the lock-out holds across
    app processes. Attempts refused because the username was locked are not stored here (they are audit
    events), so hammering a locked account does not lengthen its lock."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
