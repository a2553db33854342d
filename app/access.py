"""Who sees and does what: role × area. Every read path and every action goes through here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from app.clock import china_today
from app.extensions import db, table_of
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


def _own_task_branches(user: User) -> list[ColumnElement[bool]]:
    """Ready tasks of the user's role within the user's area, and those assigned to the user: each branch is an
    equality prefix of one of ready_task's inbox indexes, then ordered by due date (see app/tasks/inbox.py)."""
    if user.role in READ_ONLY_ROLES:
        return []
    mine = ReadyTask.assignee_id == user.id
    if ROLES.get(user.role) is None or ROLES[user.role].scope == "assigned":
        return [mine]
    group = and_(
        ReadyTask.role == user.role,
        ReadyTask.assignee_id.is_(None),
        _area_clause(user, ReadyTask.village_code, ReadyTask.town_code),
    )
    return [group, mine]


def _own_tasks_clause(user: User) -> ColumnElement[bool]:
    """Ready tasks of the user's role within the user's area, or assigned to the user."""
    branches = _own_task_branches(user)
    return or_(*branches) if branches else false()


def absent_colleagues(user: User, on: date | None = None) -> list[User]:
    """The people the user stands in for today (their absence period covers the day)."""
    from app.models import StandIn

    day = on or china_today()
    return list(db.session.scalars(
        select(User).join(StandIn, StandIn.user_id == User.id)
        .where(StandIn.stand_in_id == user.id, StandIn.starts_on <= day, StandIn.ends_on >= day)))


def inbox_branches(user: User) -> list[ColumnElement[bool]]:
    """The user's own task branches and, during an absence they stand in for, the absent colleague's."""
    return [branch for person in (user, *absent_colleagues(user)) for branch in _own_task_branches(person)]


def inbox_clause(user: User) -> ColumnElement[bool]:
    """The user's own tasks and, during an absence they stand in for, the absent colleague's."""
    branches = inbox_branches(user)
    return or_(*branches) if branches else false()


def area_of(user: User, model: Any) -> ColumnElement[bool]:
    """Rows of a table with village_code and town_code that lie in the user's area (none for the cadre)."""
    return _area_clause(user, model.village_code, model.town_code)


def about_visible_subject(user: User, row: Any) -> ColumnElement[bool]:
    """Rows about a subject (ready tasks, visited elements, history) whose subject the user may see, whatever its
    registered kind: each kind says who sees its subjects (SubjectHooks.visible_to)."""
    from app.workflow.runtime import HOOKS

    if ROLES.get(user.role) and ROLES[user.role].scope == "county":
        return true()
    return or_(false(), *(and_(row.subject_kind == kind,
                               row.subject_id.in_(select(hooks.model.id).where(hooks.visible_to(user))))
                          for kind, hooks in HOOKS.items() if hooks.visible_to is not None))


def case_clause(user: User) -> ColumnElement[bool]:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return Case.cadre_id == user.id
    return _area_clause(user, Case.village_code, Case.town_code)


def screening_clause(user: User) -> ColumnElement[bool]:
    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return false()
    return area_of(user, Screening)


def household_clause(user: User) -> ColumnElement[bool]:
    from app.models import Household

    if ROLES.get(user.role) and ROLES[user.role].scope == "assigned":
        return Household.id.in_(table_of(Case).select().with_only_columns(Case.household_id)
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


def _eligible(user: User, task: ReadyTask) -> bool:
    """The user's role and area fit the task (claims aside)."""
    if user.role in READ_ONLY_ROLES or not user.active:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return task.role == user.role and in_area(user, task.village_code)


def _self_then_absent_colleagues(user: User) -> Iterator[User]:
    """The user, then the people they stand in for: looked up only when the user alone does not fit (the usual
    submit never asks)."""
    yield user
    yield from absent_colleagues(user)


def acting_for(user: User, task: ReadyTask) -> User | None:
    """Who the user would act as on this task: themselves, an absent colleague they stand in for, or None."""
    for person in _self_then_absent_colleagues(user):
        if _eligible(person, task) and (task.claimed_by_id is None or task.claimed_by_id == person.id):
            return person
    return None


def can_act_on(user: User, task: ReadyTask) -> bool:
    """Eligible by role and area (or standing in for someone who is), and the task is unclaimed or theirs."""
    return acting_for(user, task) is not None


def can_claim(user: User, task: ReadyTask) -> bool:
    return any(_eligible(person, task) for person in _self_then_absent_colleagues(user))


def can_reassign(user: User, task: ReadyTask) -> bool:
    """A town or county member of the task's group hands it over to a colleague of the group, in their area."""
    scope = ROLES[user.role].scope if user.role in ROLES else None
    return (task.assignee_id is None and user.role == task.role and user.active and scope in ("town", "county")
            and in_area(user, task.village_code))


def can_change_cadre(user: User, case: Case) -> bool:
    """The town's certification group or leadership, or the county office, move a household to another cadre."""
    return user.role in ("town_certifier", "town_leadership", "county_office") and user.active \
        and in_area(user, case.village_code)


def can_start_screening(user: User) -> bool:
    return user.role == "county_office"
