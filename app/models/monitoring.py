"""The national mechanism's records of a monitored household's case: the village's review meetings (民主评议), the
home checks for risk elimination (风险消除入户核实) with the criteria as they stood, and reversals of an
elimination (回退). Rows are only added: a later meeting or check is a new row beside the earlier ones."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model


class ReviewMeeting(Model):
    """民主评议: the village meeting (villager representatives, the first secretary, the work team) that proposes a
    household for monitoring or agrees to its risk elimination, with who attended and the minutes."""

    __tablename__ = "review_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # identification | elimination
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)  # the names, as the sign-in sheet lists them
    attendance: Mapped[int]  # how many attended
    minutes: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))  # propose | not_propose | agree | disagree
    category: Mapped[str | None] = mapped_column(String(24))  # the monitoring category proposed
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class EliminationCheck(Model):
    """风险消除入户核实: the village team's visit before applying for risk elimination, the household's income over
    the last 12 months weighed against the year's line, and each criterion as it stood that day (met or not, and
    why), so the file shows on what grounds the household was put forward or kept under monitoring."""

    __tablename__ = "elimination_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    checked_on: Mapped[date]
    verifiers: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))  # apply | continue
    findings: Mapped[str] = mapped_column(Text)
    guarantee_gaps: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_resolved: Mapped[bool]  # the original risk is gone
    new_risk: Mapped[bool]
    months_above_line: Mapped[int]
    unable_to_work: Mapped[list[int]] = mapped_column(JSON, default=list)  # members who cannot work
    member_incomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    persons: Mapped[int]
    total_income: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    business_costs: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    eligible_spending: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 合规自付支出: medical, schooling
    per_capita_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    per_capita_after_spending: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    monitoring_line_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_line.id"))
    line_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # key, label, met, detail
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class EliminationReversal(Model):
    """回退: a risk elimination withdrawn by the county office, with its reason; the household goes back under
    monitoring in the same case."""

    __tablename__ = "elimination_reversal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    eliminated_on: Mapped[date]  # the elimination withdrawn
    reverted_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    reverted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
