from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text
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
    # The declaring member's ID number's last four characters (the status lookup asks for them); members are
    # replaced when the registry is imported again, so no reference to the member row is kept.
    declarant_id_tail: Mapped[str] = mapped_column(String(4), default="")
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"))
    town_code: Mapped[str] = mapped_column(String(9), index=True)
    reporter_name: Mapped[str] = mapped_column(String(64))
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # None: the public page
    discovered_on: Mapped[date]
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(12), default="normal")  # normal | urgent
    status: Mapped[str] = mapped_column(String(16), default="open")  # app.leads.vocab.LEAD_STATUSES
    # The verification's workflow instance (none for a report merged into open work).
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instance.id"), unique=True)
    closed_at: Mapped[datetime | None]
    outcome_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("risk_lead.id"))
    open_case_id: Mapped[int | None] = mapped_column(ForeignKey("household_case.id"))
    # The national case its confirmation opened (identification, assistance, risk elimination).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("household_case.id"), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. a department's row

    household: Mapped[Household] = relationship(lazy="joined")
    village: Mapped[Area] = relationship(lazy="joined")


class LeadDocument(Model):
    """A file of a lead: the household's signed 承诺授权书 (photo or PDF). The bytes live with the attachments,
    under ATTACHMENTS_DIR/<sha256[:2]>/<sha256>; identical content is stored once."""

    __tablename__ = "lead_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("risk_lead.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # authorisation
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadVerification(Model):
    """入户核实 as the village team recorded it: when, who, the 两不愁三保障 and water items with a problem, what
    they found and whether the risk is real (with the reason when it is not)."""

    __tablename__ = "lead_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("risk_lead.id"), index=True)
    visited_on: Mapped[date]
    verifiers: Mapped[str] = mapped_column(String(200))
    guarantee_gaps: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[str] = mapped_column(Text)
    confirmed: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncomeAssessment(Model):
    """收支测算 for a lead: the 12 months it covers, each member's income by type, the household's business costs
    and eligible out-of-pocket spending, the per-capita figures and the monitoring line they were weighed against
    (the line's row, so a later correction of the line does not rewrite this record)."""

    __tablename__ = "income_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("risk_lead.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    period_from: Mapped[date]
    period_to: Mapped[date]
    member_incomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # member id, name, types
    persons: Mapped[int]
    total_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    business_costs: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    eligible_spending: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    per_capita_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    per_capita_after_spending: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    monitoring_line_id: Mapped[int] = mapped_column(ForeignKey("monitoring_line.id"))
    line_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    within_line: Mapped[bool]
    proposed_category: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublicSubmission(Model):
    """When an address last used a public form, so that a flood from one address is refused across the app's
    processes; kept for the rate window only (older rows are removed as new ones arrive)."""

    __tablename__ = "public_submission"
    __table_args__ = (Index("ix_public_submission_form_addr_at", "form", "remote_addr", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
