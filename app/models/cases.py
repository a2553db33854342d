from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.accounts import User
from app.models.areas import Area
from app.models.households import Household


class Case(Model):
    """One household's risk episode, from certification to closure (销号). Never deleted."""

    __tablename__ = "household_case"
    # The case lists of a town or a village read their open cases without walking their closed history.
    # The supervisors' trend counts a month's closures (销号, not rejections) off one index, nothing else read.
    __table_args__ = (Index("ix_household_case_town_status", "town_code", "status"),
                      Index("ix_household_case_village_status", "village_code", "status"),
                      Index("ix_household_case_status_closed_at", "status", "closed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screening.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    town_code: Mapped[str] = mapped_column(String(9), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), unique=True)
    risk_type: Mapped[str] = mapped_column(String(24), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # certification | publicity | assistance | closure | announcement | closed | rejected
    status: Mapped[str] = mapped_column(String(16), index=True, default="certification")
    current_step: Mapped[str] = mapped_column(String(255), default="")
    risk_level: Mapped[str | None] = mapped_column(String(16))  # at_risk | returned, set at certification
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()  # ix_household_case_status_closed_at

    household: Mapped[Household] = relationship(lazy="joined")
    village: Mapped[Area] = relationship(lazy="joined")
    cadre: Mapped[User | None] = relationship()
    measures: Mapped[list["Measure"]] = relationship(
        back_populates="case", order_by="Measure.position", cascade="all, delete-orphan"
    )


class Measure(Model):
    """One assistance measure of a case's plan (附件2 台账)."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("household_case.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text)
    measure_type: Mapped[str] = mapped_column(String(32))
    responsible_unit: Mapped[str] = mapped_column(String(128))
    deadline: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12), default="planned")  # planned | done
    completed_on: Mapped[date | None]
    result: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="measures")
