"""The month's screening overview: every village of the user's area with its progress, grouped by town with each
town's totals (a county's 161 villages, seven of them called 金星村, read town by town); above a county, each
county's totals. One aggregate query over the screening rows, never a row loaded per village."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.access import in_area, screening_clause
from app.areas import COUNTY_LENGTH, below, level_of
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.models import Area, RiskRegistration, Screening, User
from app.vocab import SCREENING_STATUSES


@dataclass
class VillageRow:
    screening_id: int
    village_code: str
    village: str
    status: str
    households_total: int
    households_checked: int
    households_not_checked: int
    registrations: int


@dataclass
class Group:
    """A town's villages (or, above a county, a county's), with the totals of its rows."""

    code: str
    name: str
    rows: list[VillageRow] = field(default_factory=list)
    villages: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCREENING_STATUSES, 0))
    households_total: int = 0
    households_checked: int = 0
    households_not_checked: int = 0
    registrations: int = 0

    def add(self, row: VillageRow, keep: bool) -> None:
        self.villages += 1
        self.by_status[row.status] = self.by_status.get(row.status, 0) + 1
        self.households_total += row.households_total
        self.households_checked += row.households_checked
        self.households_not_checked += row.households_not_checked
        self.registrations += row.registrations
        if keep:
            self.rows.append(row)

    @property
    def checked_percent(self) -> int:
        return round(100 * self.households_checked / self.households_total) if self.households_total else 0


@dataclass
class Overview:
    month: str
    groups: list[Group]
    by_county: bool  # above a county: one line a county, its villages behind a link
    total: Group
    towns: list[Area]  # the filter's choices: the towns of the county shown
    area: str
    status: str


def screening_overview(user: User, month: str, area: str = "", status: str = "") -> Overview:
    area, status = area.strip(), status.strip()
    if status and status not in SCREENING_STATUSES:
        raise InvalidInput(f"未知的排查状态：{status}")
    if area and level_of(area) not in ("city", "county", "town"):
        raise InvalidInput(f"区划代码 {area} 无效：应为市、县或镇的代码")
    if area and not in_area(user, area):
        raise PermissionDenied("只能查看本辖区的月度排查")
    town, county = aliased(Area), aliased(Area)
    registrations = (select(RiskRegistration.screening_id, func.count().label("n"))
                     .group_by(RiskRegistration.screening_id).subquery())
    stmt = (select(Screening.id, Screening.village_code, Area.name, Screening.status, Screening.households_total,
                   Screening.households_checked, Screening.households_not_checked,
                   func.coalesce(registrations.c.n, 0), town.code, town.name, county.code, county.name)
            .join(Area, Area.code == Screening.village_code)
            .join(town, town.code == Screening.town_code)
            .join(county, county.code == town.parent_code)
            .outerjoin(registrations, registrations.c.screening_id == Screening.id)
            .where(screening_clause(user), Screening.month == month)
            .order_by(Screening.village_code))
    if area:
        stmt = stmt.where(below(Screening.town_code if len(area) <= 9 else Screening.village_code, area))
    if status:
        stmt = stmt.where(Screening.status == status)
    rows = db.session.execute(stmt).all()
    counties = {row[10] for row in rows}
    by_county = len(counties) > 1
    groups: dict[str, Group] = {}
    total = Group("", "合计")
    for (sid, village_code, village, state, households, checked, not_checked, registered, town_code, town_name,
         county_code, county_name) in rows:
        row = VillageRow(sid, village_code, village, state, households or 0, checked or 0, not_checked or 0,
                         int(registered))
        code, name = (county_code, county_name) if by_county else (town_code, town_name)
        groups.setdefault(code, Group(code, name)).add(row, keep=not by_county)
        total.add(row, keep=False)
    shown_county = next(iter(counties)) if len(counties) == 1 else (area[:COUNTY_LENGTH] if len(area) >= 6 else "")
    if len(user.area_code) > COUNTY_LENGTH:  # a town's or a village's own people: nothing to choose between
        shown_county = ""
    towns = list(db.session.scalars(select(Area).where(Area.parent_code == shown_county, Area.level == "town")
                                    .order_by(Area.code))) if shown_county else []
    return Overview(month, list(groups.values()), by_county, total, towns, area, status)
