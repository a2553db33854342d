from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.areas import Area
from app.models.households import Household


class RiskLead(Model):
    """风险线索: one report that a household may be at risk, from one of the national mechanism's channels
    (self-declaration, cadre screening, department warning). Every report is kept: one that arrives while the
    household already has an open lead or case is recorded as merged into it instead of starting new work."""

    __tablename__ = "risk_lead"
    __table_args__ = (
        Index("ix_risk_lead_household_status", "household_id", "status"),
        Index("ix_risk_lead_village_status", "village_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(16), unique=True)  # given to the declarant
    channel: Mapped[str] = mapped_column(String(24))  # self_declared | cadre_screening | department_warning
    source: Mapped[str] = mapped_column(String(32))  # web | hotline_12317 | written | in_person | screening | …
    source_detail: Mapped[str] = mapped_column(String(200), default="")  # e.g. the department, the screening
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("household_member.id"))  # who declared, if a member
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"))
    town_code: Mapped[str] = mapped_column(String(9), index=True)
    reporter_name: Mapped[str] = mapped_column(String(64))
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: the public page
    discovered_on: Mapped[date]
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(12), default="normal")  # normal | urgent
    status: Mapped[str] = mapped_column(String(16), default="open")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("risk_lead.id"))
    open_case_id: Mapped[int | None] = mapped_column(ForeignKey("household_case.id"))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. a department's row

    household: Mapped[Household] = relationship(lazy="joined")
    village: Mapped[Area] = relationship(lazy="joined")


class PublicSubmission(Model):
    """When an address last used a public form, so that a flood from one address is refused across the app's
    processes; kept for the rate window only (older rows are removed as new ones arrive)."""

    __tablename__ = "public_submission"
    __table_args__ = (Index("ix_public_submission_form_addr_at", "form", "remote_addr", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
