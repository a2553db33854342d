"""Who sees and does what: role × area. Every read path and every action goes through here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import g, has_app_context
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from app.areas import CODE_LENGTHS, COUNTY_LENGTH, contains, in_towns_below
from app.clock import china_today
from app.extensions import db, table_of
from app.models import Area, Case, DepartmentUpload, ReadyTask, Screening, User
from app.roles import READ_ONLY_ROLES, ROLES

# Who reads the audit log: the system administrator and the county headquarters' supervisors.
AUDIT_READERS = frozenset({"admin", "supervisor"})
# Who may see a household's full ID numbers, each time logged: the people who register, certify and approve.
ID_REVEALERS = frozenset({"village_team", "town_certifier", "town_leadership", "county_office"})
# Who imports the household registry: the county office, and the administrator who sets the county up.
HOUSEHOLD_IMPORTERS = frozenset({"county_office", "admin"})


def scope_of(user: User) -> str | None:
    """village | town | county | assigned (the cadre), or None for a role the county does not know. A user of
    county scope works at their area: a county, or a city or province above it (supervisors), each seeing
    only the counties below their area."""
    role = ROLES.get(user.role)
    return role.scope if role else None


# ---- what a role may do, whatever the area --------------------------------------------------------------

def is_administrator(user: User) -> bool:
    """The process pages, the modeler and the user list."""
    return user.role == "admin"


def works_an_area(user: User) -> bool:
    """A village team, a town's groups and the county's roles see their area's supervision pages, annexes and
    notices; a cadre sees only the households assigned to them."""
    return scope_of(user) in ("village", "town", "county")


def only_supervises(user: User) -> bool:
    """A supervisor never holds a task: their pages are the supervision pages, and they land on 督查考核."""
    return user.role == "supervisor"


def can_read_audit_log(user: User) -> bool:
    return user.role in AUDIT_READERS


def can_reveal_id_numbers(user: User) -> bool:
    return user.role in ID_REVEALERS


def can_import_households(user: User) -> bool:
    """A county's registry is imported by its own office (or an administrator of the county)."""
    return user.role in HOUSEHOLD_IMPORTERS and len(user.area_code) == COUNTY_LENGTH


def can_exchange_with_national_system(user: User) -> bool:
    """Reconciling the national system's export with the registry, and exporting in its columns: every member's ID
    number, county-wide, so the office that keeps the registry."""
    return can_import_households(user)


def may_stand_in_for(colleague: User, user: User) -> bool:
    """A stand-in does the absent user's work: same role, same area, an account in use."""
    return colleague.role == user.role and colleague.area_code == user.area_code and colleague.active


def can_record_leads(user: User) -> bool:
    """A declaration made by telephone (12317), in writing or in person is recorded by the village team, the town
    or the county office, for a household of their area."""
    return user.role in ("village_team", "town_certifier", "town_leadership", "county_office") and user.active


def lead_clause(user: User) -> ColumnElement[bool]:
    """Risk leads of the user's area (a cadre sees the households assigned to them through their cases)."""
    from app.models import RiskLead

    return area_of(user, RiskLead)


def department_of(user: User) -> str | None:
    """The department a user of the department role works for (部门筛查预警, the measures it leads); None for others."""
    from app.departments.catalogue import DEPARTMENTS

    return user.department if user.role == "department" and user.department in DEPARTMENTS else None


def can_upload_department_list(user: User) -> bool:
    """A department uploads its own monthly list, and maps its own columns."""
    return department_of(user) is not None and user.active


def can_see_department_list(user: User, upload: DepartmentUpload) -> bool:
    """A department sees its own lists; the county office, the supervisors and the administrator see them all;
    each within their area (a county's departments are not another county's)."""
    if not (department_of(user) == upload.department or user.role in ("county_office", "supervisor", "admin")):
        return False
    uploader = db.session.get(User, upload.uploaded_by_id)
    return uploader is not None and in_area(user, uploader.area_code)


def can_change_warning_rules(user: User) -> bool:
    """预警规则 are the county office's to set (with history)."""
    return user.role == "county_office" and user.active


def can_read_warning_rules(user: User) -> bool:
    return user.role in ("county_office", "supervisor", "admin") or department_of(user) is not None


def can_read_warning_statistics(user: User) -> bool:
    """预警统计 (leads by channel and department, days to decision): the county office and the supervisors."""
    return user.role in ("county_office", "supervisor")


def can_revert_elimination(user: User) -> bool:
    """回退 of a risk elimination is the county's decision, as the elimination was (县级审定)."""
    return user.role == "county_office" and user.active


def can_change_settings(user: User) -> bool:
    """县级设置 (time limits, the yearly monitoring line) are the county office's to record."""
    return user.role == "county_office"


def can_arrange_stand_ins(user: User) -> bool:
    """Whoever completes tasks names a stand-in for an absence; read-only roles have no tasks to hand over."""
    return user.role not in READ_ONLY_ROLES


def covers_every_county(user: User) -> bool:
    """Whether the user's area holds every county of the deployment (one county's office in a county deployment,
    the province's supervisor in a province's): their queries then need no area condition. Asked once a request."""
    if not has_app_context():
        return _roots() == [user.area_code]
    if "area_roots" not in g:
        g.area_roots = _roots()
    return bool(g.area_roots == [user.area_code])


def _roots() -> list[str]:
    """The top of the area tree: one county, city or province (off the parent index: a row or two)."""
    return list(db.session.scalars(select(Area.code).where(Area.parent_code.is_(None)).limit(2)))


def _area_clause(user: User, village_col: Any, town_col: Any) -> ColumnElement[bool]:
    scope = scope_of(user)
    if scope == "county":
        return true() if covers_every_county(user) else in_towns_below(town_col, user.area_code)
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
    if scope_of(user) in (None, "assigned"):
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


def sees_every_subject(user: User) -> bool:
    """Whether the user sees every subject of the deployment (its top office or supervisor): their reads about
    subjects need no condition, and may walk a whole table's index instead of one area's rows."""
    return scope_of(user) == "county" and covers_every_county(user)


def about_visible_subject(user: User, row: Any) -> ColumnElement[bool]:
    """Rows about a subject (ready tasks, visited elements, history) whose subject the user may see, whatever its
    registered kind: each kind says who sees its subjects (SubjectHooks.visible_to)."""
    from app.workflow.runtime import HOOKS

    if sees_every_subject(user):
        return true()
    if works_an_area(user) and hasattr(row, "town_code") and all(h.visible_by_area for h in HOOKS.values()):
        # The row's own area is its subject's: one county's rows off the row's area index, no subject read.
        return area_of(user, row)
    return or_(false(), *(and_(row.subject_kind == kind,
                               row.subject_id.in_(select(hooks.model.id).where(hooks.visible_to(user))))
                          for kind, hooks in HOOKS.items() if hooks.visible_to is not None))


def case_clause(user: User) -> ColumnElement[bool]:
    if scope_of(user) == "assigned":
        return Case.cadre_id == user.id
    return _area_clause(user, Case.village_code, Case.town_code)


def rows_in_area(user: User, row: Any) -> ColumnElement[bool]:
    """Rows about a subject (ready tasks, visited elements) by the area columns they carry, for an area's user: the
    condition a page starts from so that it reads one county's rows, not every county's (who may see a subject is
    still about_visible_subject's to say)."""
    if scope_of(user) in (None, "assigned"):
        return true()
    return _area_clause(user, row.village_code, row.town_code)


def screening_clause(user: User) -> ColumnElement[bool]:
    if scope_of(user) == "assigned":
        return false()
    return area_of(user, Screening)


def household_clause(user: User) -> ColumnElement[bool]:
    from app.models import Household

    if scope_of(user) == "assigned":
        return Household.id.in_(table_of(Case).select().with_only_columns(Case.household_id)
                                .where(Case.cadre_id == user.id).scalar_subquery())
    return _area_clause(user, Household.village_code, Household.town_code)


def in_area(user: User, code: str) -> bool:
    """A village's (or a town's) code lies in the user's area: their county (or city, or province), their town,
    their own village."""
    scope = scope_of(user)
    if scope == "county":
        return contains(user.area_code, code)
    if scope == "town":
        return code.startswith(user.area_code)
    if scope == "village":
        return code == user.area_code
    return False


def can_see_case(user: User, case: Case) -> bool:
    if scope_of(user) == "assigned":
        return case.cadre_id == user.id
    return in_area(user, case.village_code)


# Supervisors watch the work: they read every case of their area and write nothing on it (rulebook 五: 督查).
CASE_WATCHERS = frozenset({"supervisor"})


def can_write_on_case(user: User, case: Case) -> bool:
    """Remarks and files on a case: whoever may see it, except those who only supervise."""
    return user.role not in CASE_WATCHERS and can_see_case(user, case)


def can_see_screening(user: User, screening: Screening) -> bool:
    if scope_of(user) == "assigned":
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


def can_record_measures(user: User, task: ReadyTask) -> bool:
    """Recording a measure of the plan as done, one at a time: whoever may act on the case's 落实帮扶措施 (its cadre,
    or their stand-in during an absence)."""
    return task.form_key == "measures_execution" and task.subject_kind == "case" and can_act_on(user, task)


def can_claim(user: User, task: ReadyTask) -> bool:
    return any(_eligible(person, task) for person in _self_then_absent_colleagues(user))


def can_reassign(user: User, task: ReadyTask) -> bool:
    """A town or county member of the task's group hands it over to a colleague of the group, in their area."""
    scope = scope_of(user)
    return (task.assignee_id is None and user.role == task.role and user.active and scope in ("town", "county")
            and in_area(user, task.village_code))


def can_change_cadre(user: User, case: Case) -> bool:
    """The town's certification group or leadership, or the county office, move a household to another cadre."""
    return user.role in ("town_certifier", "town_leadership", "county_office") and user.active \
        and in_area(user, case.village_code)


def can_start_screening(user: User) -> bool:
    """一月一精准排查 starts for every village at once, from the county office."""
    return user.role == "county_office"


def can_approve_in_batch(user: User) -> bool:
    """批量审批: the county's decision steps (county scope, a role that holds tasks: the county office) may approve
    several cases of one town at once; each case is still its own step."""
    return scope_of(user) == "county" and user.role not in READ_ONLY_ROLES and user.active


def can_approve_town_in_batch(user: User, town_code: str) -> bool:
    """The town lies in the user's own county (or city): another county's towns are not theirs to decide on."""
    return can_approve_in_batch(user) and len(town_code) == CODE_LENGTHS["town"] and in_area(user, town_code)


def can_decide_in_batch(user: User, task: ReadyTask) -> bool:
    """The task's role and area are the user's (or an absent colleague's they stand in for), whoever has claimed
    it: a claim by a colleague is reported per case when the batch reaches it, not refused up front."""
    return can_approve_in_batch(user) and task.assignee_id is None and can_claim(user, task)
