from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.areas import Area
from app.models.households import Household


class Screening(Model):
    """One village's monthly screening and assessment (一月一精准排查 / 评估)."""

    __tablename__ = "screening"
    __table_args__ = (UniqueConstraint("month", "village_code", name="uq_screening_month_village"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    town_code: Mapped[str] = mapped_column(String(9), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="screening")  # screening | assessing | completed
    # The procedure it was started under (the county setting screening_procedure): county | national.
    procedure: Mapped[str] = mapped_column(String(12), default="county", server_default="county")
    households_total: Mapped[int] = mapped_column(default=0)
    # Counted from the month's check records, in the transaction that writes one (the read paths sum these):
    # households visited within the month, and households not checked with the reason recorded.
    households_checked: Mapped[int | None]
    households_not_checked: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None]

    village: Mapped[Area] = relationship(lazy="joined")
    registrations: Mapped[list["RiskRegistration"]] = relationship(
        back_populates="screening", order_by="RiskRegistration.id"
    )


class RiskRegistration(Model):
    """A row of the monthly roster (附件1): a household found at risk in a screening."""

    __tablename__ = "risk_registration"
    __table_args__ = (UniqueConstraint("screening_id", "household_id", name="uq_registration_household"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    risk_type: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    key_assistance: Mapped[bool] = mapped_column(default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("household_case.id"))

    screening: Mapped[Screening] = relationship(back_populates="registrations")
    household: Mapped[Household] = relationship(lazy="joined")


class ScreeningCheck(Model):
    """One household's check in one month's screening (逐户逐人排查): the village team's own record of the visit,
    the six risk situations of the rulebook's 二(一)–(六) and the 两不愁三保障 items as answered, or the reason
    the household could not be checked. Coverage is counted from these rows."""

    __tablename__ = "screening_check"
    __table_args__ = (UniqueConstraint("screening_id", "household_id", name="uq_screening_check_household"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    village_code: Mapped[str] = mapped_column(String(12))
    town_code: Mapped[str] = mapped_column(String(9))
    month: Mapped[str] = mapped_column(String(7))
    outcome: Mapped[str] = mapped_column(String(12))  # checked | not_checked
    visited_on: Mapped[date | None]
    visitors: Mapped[str] = mapped_column(String(200), default="")
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)  # risk types answered "yes", rulebook order
    medical_out_of_pocket: Mapped[int | None]  # yuan, after the three medical guarantees (二(一))
    months_without_work: Mapped[int | None]  # 二(五)
    risk_detail: Mapped[str] = mapped_column(Text, default="")
    guarantee_gaps: Mapped[list[str]] = mapped_column(JSON, default=list)  # 两不愁三保障 items not secured
    not_checked_reason: Mapped[str | None] = mapped_column(String(24))
    not_checked_note: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    photo_sha256: Mapped[str | None] = mapped_column(String(64))  # in the attachments' store, by checksum
    photo_type: Mapped[str | None] = mapped_column(String(32))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("risk_registration.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    household: Mapped[Household] = relationship(lazy="joined")

    def as_dict(self) -> dict[str, Any]:
        return {"household_id": self.household_id, "outcome": self.outcome,
                "visited_on": self.visited_on.isoformat() if self.visited_on else None,
                "visitors": self.visitors, "risks": list(self.risks or []),
                "medical_out_of_pocket": self.medical_out_of_pocket,
                "months_without_work": self.months_without_work, "risk_detail": self.risk_detail,
                "guarantee_gaps": list(self.guarantee_gaps or []), "not_checked_reason": self.not_checked_reason,
                "not_checked_note": self.not_checked_note, "note": self.note,
                "photo": self.photo_sha256 is not None,
                "registration_id": self.registration_id, "recorded_at": self.recorded_at.isoformat()}
