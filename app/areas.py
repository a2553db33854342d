"""The area tree: province → city → county → town → village, by administrative division code.

A code's length says its level (2, 4, 6, 9 and 12 digits: the leading part of the 12-digit division code), and
an area's code is the leading part of every code below it, so "everything in an area" is a range of codes, which
both databases read off an ordinary index; a county's rows are read as its towns' (in_towns_below), so that the
indexes leading with the town keep the rest of a page's condition inside them. One deployment serves one county, a
city or a province; each county keeps its own settings, county office, departments and users."""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from sqlalchemy import ColumnElement, and_, false, select

from app.extensions import db
from app.models import Area

LEVELS = ("province", "city", "county", "town", "village")
CODE_LENGTHS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}
LEVEL_OF_LENGTH = {length: level for level, length in CODE_LENGTHS.items()}
LEVEL_NAMES = {"province": "省", "city": "市", "county": "县", "town": "镇", "village": "村"}
COUNTY_LENGTH = CODE_LENGTHS["county"]


def level_of(code: str) -> str | None:
    """The level a code's length stands for, or None for a code that is not a division code."""
    return LEVEL_OF_LENGTH.get(len(code)) if code.isdigit() else None


def child_level(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def is_above_county(code: str) -> bool:
    """A province's or a city's code: the users there supervise counties, they do not work cases."""
    return len(code) < COUNTY_LENGTH


def county_code_of(code: str) -> str | None:
    """The county a town, a village (or the county itself) lies in; None above the county."""
    return code[:COUNTY_LENGTH] if len(code) >= COUNTY_LENGTH else None


def contains(area_code: str, code: str) -> bool:
    """Whether `code` lies in the area (the area itself included)."""
    return code.startswith(area_code)


def _next_code(code: str) -> str | None:
    """The first code of the same length after `code`: the end of the range of codes below it."""
    following = int(code) + 1
    return None if len(str(following)) > len(code) else f"{following:0{len(code)}d}"


def below(column: Any, area_code: str) -> ColumnElement[bool]:
    """Rows whose code (a town's or a village's column) lies in the area: an equality when the column holds codes
    of the area's own length, otherwise a range (never LIKE, which PostgreSQL's collations do not index)."""
    upper = _next_code(area_code)
    lower = column >= area_code
    return and_(lower, column < upper) if upper is not None else lower  # type: ignore[no-any-return]


def town_codes_of(county_code: str) -> list[str]:
    """The codes of a county's towns (off the parent index), read once a request."""
    cache: dict[str, list[str]] | None = None
    if has_app_context():
        cache = g.setdefault("county_towns", {})
        if county_code in cache:
            return cache[county_code]
    codes = list(db.session.scalars(select(Area.code).where(Area.parent_code == county_code, Area.level == "town")
                                    .order_by(Area.code)))
    if cache is not None:
        cache[county_code] = codes
    return codes


def in_towns_below(town_col: Any, area_code: str) -> ColumnElement[bool]:
    """Rows of an area by their town's code. A county's rows are its towns' (an equality per town): on an index
    that leads with the town's code and goes on with a status or a time, each town is one probe with the second
    column's condition applied inside the index, so one county's rows are read whatever the number of counties
    beside it; a range of codes would read every row of the county through the first column alone."""
    if level_of(area_code) != "county":
        return below(town_col, area_code)
    codes = town_codes_of(area_code)
    return town_col.in_(codes) if codes else false()


def county_of(code: str) -> Area | None:
    """The county area a code lies in (None above the county, or for a code not in the tree)."""
    county_code = county_code_of(code)
    return db.session.get(Area, county_code) if county_code else None


def county_name_of(code: str, default: str = "") -> str:
    """The name the annexes and exports carry for the county a code lies in."""
    county = county_of(code)
    return county.name if county is not None else default


def counties_below(area_code: str) -> list[Area]:
    """The counties of an area (the county itself for a county or anything below it)."""
    if not is_above_county(area_code):
        county = county_of(area_code)
        return [county] if county is not None else []
    return list(db.session.scalars(select(Area).where(Area.level == "county", below(Area.code, area_code))
                                   .order_by(Area.code)))


def ancestors(area: Area) -> list[Area]:
    """The areas above one, the highest first."""
    found: list[Area] = []
    parent_code = area.parent_code
    while parent_code:
        parent = db.session.get(Area, parent_code)
        if parent is None:
            break
        found.append(parent)
        parent_code = parent.parent_code
    return found[::-1]


def county_or_area_name(code: str) -> str:
    """The name a user's exports carry: their county's, or above the county their own area's (a city, a province)."""
    if is_above_county(code):
        area = db.session.get(Area, code)
        return area.name if area is not None else code
    return county_name_of(code)


def chosen_county(area_code: str, requested: str | None) -> tuple[Area | None, list[Area]]:
    """For a page that shows one county's data (its settings, its warning rules): the county of a user's area, or
    for a city's or province's user the one they chose of theirs (the first by default); and the choices."""
    counties = counties_below(area_code)
    return next((c for c in counties if c.code == requested), counties[0] if counties else None), counties
