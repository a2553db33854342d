from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model


class CountySetting(Model):
    """One recorded value of a rule a county sets (a time limit, a number of months): rows are only added, so
    the history says who set which value from when and on what authority. The value in force on a day is the
    one recorded last among those effective by that day. Each county of a city's or province's deployment has
    its own."""

    __tablename__ = "county_setting"
    __table_args__ = (Index("ix_county_setting_county_key", "county_code", "key", "effective_from", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(255))
    effective_from: Mapped[date]
    source_document: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitoringLine(Model):
    """监测范围: the year's per-capita net income line of a region (the county's code, or a town's for a part of
    it), in yuan per person per year, with the document that set it. A correction is a new row: the one recorded
    last for the year and region is in force, the earlier ones stay as history."""

    __tablename__ = "monitoring_line"
    __table_args__ = (Index("ix_monitoring_line_year_region", "year", "region_code", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    region_code: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    source_document: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
