from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
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
    # A county's pages read its towns' rows one town at a time (app.areas.in_towns_below): the indexes that lead
    # with the town's code keep the rest of the condition (status, a day) inside the index.
    __table_args__ = (Index("ix_household_case_town_status", "town_code", "status"),
                      Index("ix_household_case_village_status", "village_code", "status"),
                      Index("ix_household_case_status_closed_at", "status", "closed_at"),
                      Index("ix_household_case_town_opened", "town_code", "opened_at"),
                      Index("ix_household_case_town_status_closed", "town_code", "status", "closed_at"),
                      Index("ix_household_case_town_approved", "town_code", "approved_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    # The household's kind (lifted | non_poor) when the case was opened: whether its certification as returned is
    # 返贫 or 新致贫 (the annual review), kept here so a year's certifications are read without their households.
    household_kind: Mapped[str] = mapped_column(String(10), server_default="")
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screening.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    town_code: Mapped[str] = mapped_column(String(9))  # led by ix_household_case_town_status and the others
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
    # The procedure the case follows: the county rulebook's (household_case.bpmn) or the national mechanism's
    # (national_case.bpmn), which starts from a verified risk lead.
    procedure: Mapped[str] = mapped_column(String(12), default="county", server_default="county")
    # The risk lead that opened a national case names it (risk_lead.case_id); its channel is kept here for lists.
    channel: Mapped[str | None] = mapped_column(String(24), index=True)
    category: Mapped[str | None] = mapped_column(String(24), index=True)  # 监测对象类型, chosen at 民主评议
    fast_path: Mapped[bool] = mapped_column(default=False, server_default=false())  # 先帮扶后认定
    discovered_on: Mapped[date | None]  # the day the risk was found (the national 15 days run from it)
    decision_due_on: Mapped[date | None]  # by when the county decides: discovery + 15 days
    identified_on: Mapped[date | None] = mapped_column(index=True)  # 县级审定: 风险识别时间
    # The county office's first approval (县办审批) of a county-procedure case: the supervisors' approvals of a
    # period and their time from the case's opening (ix_household_case_town_approved).
    approved_at: Mapped[datetime | None] = mapped_column(index=True)
    eliminated_on: Mapped[date | None] = mapped_column(index=True)  # 风险消除时间 (kept when reverted: see below)

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
    # The county department responsible, when the responsible unit names one: it records progress and completion.
    department: Mapped[str | None] = mapped_column(String(16), index=True)
    # 先帮扶后认定: given at once for a sudden hardship, before identification, and kept whatever its outcome.
    first_aid: Mapped[bool] = mapped_column(default=False, server_default=false())

    case: Mapped[Case] = relationship(back_populates="measures")
