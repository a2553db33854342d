from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.areas import Area


class Household(Model):
    """A household of the national system's monitoring scope: lifted out of poverty or non-poor."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_no: Mapped[str] = mapped_column(String(32), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("area.code"), index=True)
    town_code: Mapped[str] = mapped_column(String(9), index=True)
    head_name: Mapped[str] = mapped_column(String(64), index=True)
    head_id_number: Mapped[str] = mapped_column(String(18), unique=True)
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))  # lifted | non_poor
    lifted_year: Mapped[int | None]
    phone: Mapped[str] = mapped_column(String(20), default="")
    group_name: Mapped[str] = mapped_column(String(32), default="", server_default="")  # 村民小组, e.g. "3组"

    village: Mapped[Area] = relationship(lazy="joined")
    members: Mapped[list["Member"]] = relationship(
        back_populates="household", order_by="Member.id", cascade="all, delete-orphan"
    )

    @property
    def lifted_year_label(self) -> str:
        """脱贫年度 as the annexes print it."""
        return str(self.lifted_year) if self.kind == "lifted" and self.lifted_year else "非贫困户"


class Member(Model):
    __tablename__ = "household_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    relation: Mapped[str] = mapped_column(String(16))
    person_no: Mapped[str | None] = mapped_column(String(32))  # 人编号 of the national system, when imported from it

    household: Mapped[Household] = relationship(back_populates="members")
