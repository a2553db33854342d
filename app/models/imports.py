from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.accounts import User


class ImportJob(Model):
    """One uploaded registry file being checked and stored in the background; the progress page reads it."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), default="households")
    # queued | validating | storing | done | refused (errors, nothing stored) | failed (unexpected)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    file_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64))  # under instance/imports/
    valid_only: Mapped[bool] = mapped_column(default=False)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # the first few hundred, for the page
    message: Mapped[str] = mapped_column(Text, default="")
    has_error_workbook: Mapped[bool] = mapped_column(default=False)
    # A reconciliation with the national system's export (kind "reconcile"): what differs, nothing stored.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()

    @property
    def running(self) -> bool:
        return self.status in ("queued", "validating", "storing")
