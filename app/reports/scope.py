"""Which part of the county a report covers, and whether a user may draw it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, false, or_, select

from app.access import in_area, works_an_area
from app.areas import below, counties_below, county_code_of, is_above_county
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.models import Area, User

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class ReportMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str) -> ReportMonth:
        match = MONTH_RE.match((value or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or not 2014 <= int(match.group(1)) <= 2100:
            raise InvalidInput("月份格式应为 YYYY-MM，例如 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> ReportMonth:
        return cls(day.year, day.month)

    @property
    def key(self) -> str:
        """As screenings store it: YYYY-MM."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)


@dataclass(frozen=True)
class ReportScope:
    """The county, one town or one village."""

    area: Area
    town: Area | None

    @property
    def level(self) -> str:
        return self.area.level

    @property
    def code(self) -> str:
        return self.area.code

    @property
    def unit_label(self) -> str:
        """What the annex's "单位：" line names: the town, and the village too for one village."""
        if self.level == "village" and self.town is not None:
            return f"{self.town.name}{self.area.name}"
        return self.area.name

    @property
    def file_label(self) -> str:
        return self.unit_label


def resolve_scope(code: str | None, root_code: str) -> ReportScope:
    """The area a report is drawn for: a county, a town or a village (reports are each county's). When no code is
    given, the root (a user's area, or the deployment's county); above a county, its first county."""
    code = (code or "").strip()
    if not code:
        code = root_code
        if is_above_county(root_code):
            counties = counties_below(root_code)
            if not counties:
                raise NotFound("辖区内还没有县")
            code = counties[0].code
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise InvalidInput(f"区划代码 {code} 无效：报表按县编制，应为县（6 位）、镇（9 位）或村（12 位）代码")
    area = db.session.get(Area, code)
    if area is None:
        raise InvalidInput(f"区划代码 {code} 无效：没有这个代码的县、镇或村")
    town = db.session.get(Area, code[:9]) if len(code) == 12 else (area if len(code) == 9 else None)
    return ReportScope(area, town)


def check_report_access(user: User, scope: ReportScope) -> None:
    if not works_an_area(user):
        raise PermissionDenied("您的角色不能导出花名册和台账")
    if not in_area(user, scope.code):
        raise PermissionDenied("只能导出本辖区的花名册和台账")


def default_scope_code(user: User) -> str:
    return user.area_code


def areas_for(user: User, scope: ReportScope | None = None) -> list[Area]:
    """The areas the user may choose as a report's scope: their own and everything below it; above a county,
    their counties and the towns and villages of the county in view (a province's villages would be thousands)."""
    if not is_above_county(user.area_code):
        return list(db.session.scalars(select(Area).where(below(Area.code, user.area_code)).order_by(Area.code)))
    county = county_code_of(scope.code) if scope is not None else None
    in_view = below(Area.code, county) if county else false()
    return list(db.session.scalars(select(Area).where(
        or_(and_(Area.level == "county", below(Area.code, user.area_code)), in_view)).order_by(Area.code)))
