"""Who sees and does what: role × area. Every read path and every action goes through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from app.models import Case, ReadyTask, Screening, User
from app.roles import READ_ONLY_ROLES, ROLES


def _area_clause(user: User, village_col: Any, town_col: Any) -> ColumnElement[bool]:
    scope = ROLES[user.role].scope if user.role in ROLES else None
    if scope == "county":
        return true()
    if scope == "town":
        return town_col == user.area_code
    if scope == "village":
        return village_col == user.area_code
    return false()


def inbox_clause(user: User) -> ColumnElement[bool]:
    """Ready tasks of the user's role within the user's area, or assigned to the user."""
    if user.role in READ_ONLY_ROLES:
        return false()
    mine = ReadyTask.assignee_id == user.id
    if ROLES.get(user.role) is None or ROLES[user.role].scope == "assigned":
        return mine
    group = and_(
        ReadyTask.role == user.role,
        ReadyTask.assignee_id.is_(None),
        _area_clause(user, ReadyTask.village_code, ReadyTask.town_code),
    )
    return or_(group, mine)


def case_clause(user: User) -> ColumnElement[bool]:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return Case.cadre_id == user.id
    return _area_clause(user, Case.village_code, Case.town_code)


def screening_clause(user: User) -> ColumnElement[bool]:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return false()
    return _area_clause(user, Screening.village_code, Screening.town_code)


def household_clause(user: User) -> ColumnElement[bool]:
    from app.models import Household

    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return Household.id.in_(Case.__table__.select().with_only_columns(Case.household_id)
                                .where(Case.cadre_id == user.id).scalar_subquery())
    return _area_clause(user, Household.village_code, Household.town_code)


def in_area(user: User, village_code: str) -> bool:
    scope = ROLES[user.role].scope if user.role in ROLES else None
    if scope == "county":
        return True
    if scope == "town":
        return village_code.startswith(user.area_code)
    if scope == "village":
        return village_code == user.area_code
    return False


def can_see_case(user: User, case: Case) -> bool:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return case.cadre_id == user.id
    return in_area(user, case.village_code)


def can_see_screening(user: User, screening: Screening) -> bool:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return False
    return in_area(user, screening.village_code)


def can_act_on(user: User, task: ReadyTask) -> bool:
    if user.role in READ_ONLY_ROLES:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return task.role == user.role and in_area(user, task.village_code)


def can_start_screening(user: User) -> bool:
    return user.role == "county_office"
