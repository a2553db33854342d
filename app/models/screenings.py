from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
    households_total: Mapped[int] = mapped_column(default=0)
    households_checked: Mapped[int | None]
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
