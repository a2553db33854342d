from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.accounts import User


class Comment(Model):
    """A remark on a case, or on one of its tasks while it waited. Its `comment_added` event puts it in the
    case history."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    # The task it was about. Ready-task rows go when the task is done, so the engine's task id and the
    # task's name are kept, not a foreign key.
    task_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(64))
    task_name: Mapped[str | None] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    author: Mapped[User] = relationship(lazy="joined")


class Attachment(Model):
    """A file of a case (photo of a posted notice, scanned minutes, signed authorisation). The bytes live
    outside the database, under ATTACHMENTS_DIR/<sha256[:2]>/<sha256>; identical content is stored once."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    task_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    bpmn_id: Mapped[str | None] = mapped_column(String(64))
    task_name: Mapped[str | None] = mapped_column(String(160))
    file_name: Mapped[str] = mapped_column(String(255))  # as uploaded, without any folder part
    content_type: Mapped[str] = mapped_column(String(64))  # from the file's first bytes, not the browser
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    uploaded_by: Mapped[User] = relationship(lazy="joined")
