"""逐户逐人: each household's check in a month's screening, the village team's own record, and the roster entry
that a risk answered "yes" makes (附件1: the same record, one entry, not two).

Checks are written while the screening task is open, by whoever may complete it (the village team, or its
stand-in); they are read by anyone who may see the screening. Coverage (checked households, households not
checked with a reason, households with no record yet) is counted from these rows, never typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select

from app.clock import china_today, utcnow
from app.deadlines.policy import month_end
from app.errors import Conflict, InvalidInput, PermissionDenied
from app.extensions import db
from app.models import Household, Member, RiskRegistration, Screening, ScreeningCheck, User
from app.vocab import NOT_CHECKED_REASONS, RISK_TYPES
from app.workflow import runtime

if TYPE_CHECKING:
    from forms.screening import HouseholdCheckForm


@dataclass(frozen=True)
class Coverage:
    total: int  # households of the village's scope
    checked: int
    with_reason: int  # not checked, with the reason

    @property
    def unaccounted(self) -> int:
        return max(self.total - self.checked - self.with_reason, 0)

    @property
    def line(self) -> str:
        reason = f"，{self.with_reason} 户未能排查已说明原因" if self.with_reason else ""
        return f"已排查 {self.checked} / {self.total} 户{reason}"


def coverage(screening: Screening) -> Coverage:
    checked, with_reason = db.session.execute(
        select(func.count(case((ScreeningCheck.outcome == "checked", 1))),
               func.count(case((ScreeningCheck.outcome == "not_checked", 1))))
        .where(ScreeningCheck.screening_id == screening.id)).one()
    total = db.session.scalar(select(func.count()).select_from(Household)
                              .where(Household.village_code == screening.village_code)) or 0
    return Coverage(total=int(total), checked=int(checked), with_reason=int(with_reason))


def refresh_counts(screening: Screening) -> None:
    """The screening's counts from its check records, in the same transaction as the record that changed them:
    households visited within the month, and households not checked with the reason. The supervision pages sum
    these per village a month, never counting a year of records again."""
    start = month_start(screening)
    end = month_end(screening.month)
    checked, not_checked = db.session.execute(
        select(func.count(case((and_(ScreeningCheck.outcome == "checked", ScreeningCheck.visited_on >= start,
                                     ScreeningCheck.visited_on <= end), 1))),
               func.count(case((ScreeningCheck.outcome == "not_checked", 1))))
        .where(ScreeningCheck.screening_id == screening.id)).one()
    screening.households_checked = int(checked)
    screening.households_not_checked = int(not_checked)


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    check: ScreeningCheck | None


def village_households(screening: Screening, query: str = "", limit: int = 500) -> list[HouseholdRow]:
    """The village's households for the team's list: those not yet checked this month first, then by group and
    number; `query` matches the head's name, a member's name, the household number or the group (组)."""
    stmt = (select(Household, ScreeningCheck)
            .outerjoin(ScreeningCheck, (ScreeningCheck.household_id == Household.id)
                       & (ScreeningCheck.screening_id == screening.id))
            .where(Household.village_code == screening.village_code))
    query = (query or "").strip()
    if query:
        pattern = f"%{query}%"
        group = query if query.endswith("组") else f"{query}组"
        stmt = stmt.where(or_(Household.head_name.like(pattern), Household.household_no.like(pattern),
                              Household.group_name == group,
                              Household.id.in_(select(Member.household_id).where(Member.name.like(pattern)))))
    stmt = stmt.order_by(ScreeningCheck.id.is_not(None), Household.group_name, Household.household_no).limit(limit)
    return [HouseholdRow(household, check) for household, check in db.session.execute(stmt).all()]


def get_check(screening: Screening, household_id: int) -> ScreeningCheck | None:
    return db.session.scalar(select(ScreeningCheck).where(ScreeningCheck.screening_id == screening.id,
                                                          ScreeningCheck.household_id == household_id))


def month_start(screening: Screening) -> date:
    year, month = (int(part) for part in screening.month.split("-"))
    return date(year, month, 1)


def check_form(screening: Screening, formdata: Any = None, check: ScreeningCheck | None = None,
               today: date | None = None) -> HouseholdCheckForm:
    """The household check form for this screening's month (the phone page, the API and the demo's year)."""
    from forms.screening import HouseholdCheckForm

    return HouseholdCheckForm(formdata=formdata, obj=check, today=today or china_today(),
                              month_start=month_start(screening))


def ensure_may_record(screening: Screening, actor: User) -> None:
    """Refuse before anything is read from the request: PermissionDenied for who may not record this village's
    checks, Conflict once the month's screening task is done."""
    from app.screenings.operations import _open_screening_task

    _open_screening_task(screening, actor)


def may_record(screening: Screening, actor: User) -> bool:
    try:
        ensure_may_record(screening, actor)
    except (PermissionDenied, Conflict):
        return False
    return True


def record_check(screening: Screening, household_id: int, data: dict[str, Any], actor: User,
                 photo: tuple[str, str] | None = None) -> ScreeningCheck:
    """Save one household's check (the form's data, validated by `forms.screening.HouseholdCheckForm`). A risk
    answered "yes" registers the household in the month's roster, or updates its entry; a check changed to no risk
    takes a roster entry it made away again. Only while the screening task is open."""
    ensure_may_record(screening, actor)
    household = db.session.get(Household, household_id)
    if household is None or household.village_code != screening.village_code:
        raise InvalidInput("该户不在本村的监测范围内", {"household_id": ["该户不在本村的监测范围内"]})
    check = get_check(screening, household_id)
    if check is None:
        check = ScreeningCheck(screening_id=screening.id, household_id=household.id,
                               village_code=screening.village_code, town_code=screening.town_code,
                               month=screening.month)
        db.session.add(check)
    checked = data["outcome"] == "checked"
    risks = [key for key in RISK_TYPES if key in (data.get("risks") or [])] if checked else []
    check.outcome = "checked" if checked else "not_checked"
    check.visited_on = date.fromisoformat(data["visited_on"]) if checked and data.get("visited_on") else None
    check.visitors = (data.get("visitors") or "").strip() if checked else ""
    check.risks = risks
    check.medical_out_of_pocket = data.get("medical_out_of_pocket") if "major_illness" in risks else None
    check.months_without_work = data.get("months_without_work") if "unstable_employment" in risks else None
    check.risk_detail = (data.get("risk_detail") or "").strip() if risks else ""
    check.guarantee_gaps = list(data.get("guarantee_gaps") or []) if checked else []
    check.not_checked_reason = None if checked else data.get("not_checked_reason")
    check.not_checked_note = "" if checked else (data.get("not_checked_note") or "").strip()
    check.note = (data.get("note") or "").strip()
    if photo is not None:  # a new photo replaces the one kept; none sent keeps it
        check.photo_sha256, check.photo_type = photo
    check.recorded_by_id = actor.id
    check.recorded_at = utcnow()
    if check.risks or check.registration_id is not None:
        db.session.flush()
        _roster_entry(screening, household, check, actor)
    db.session.flush()
    refresh_counts(screening)
    runtime.record_event(screening, "household_checked", actor, task_name=f"逐户排查：{household.head_name}户",
                         opinion=_summary(check))
    return check


def _roster_entry(screening: Screening, household: Household, check: ScreeningCheck, actor: User) -> None:
    registration = db.session.scalar(select(RiskRegistration).where(
        RiskRegistration.screening_id == screening.id, RiskRegistration.household_id == household.id))
    if check.risks:
        reason = _reason(check)
        if registration is None:
            registration = RiskRegistration(screening_id=screening.id, household_id=household.id,
                                            risk_type=check.risks[0], reason=reason, registered_by_id=actor.id)
            db.session.add(registration)
            db.session.flush()
            runtime.record_event(screening, "household_registered", actor,
                                 task_name=f"登记风险户：{household.head_name}（{RISK_TYPES[check.risks[0]]}）",
                                 opinion=reason)
        else:
            registration.risk_type, registration.reason = check.risks[0], reason
        check.registration_id = registration.id
    elif registration is not None and check.registration_id == registration.id:
        check.registration_id = None
        db.session.flush()
        db.session.delete(registration)
        runtime.record_event(screening, "registration_removed", actor,
                             task_name=f"撤销风险户登记：{household.head_name}（排查无风险）")


def _reason(check: ScreeningCheck) -> str:
    """The roster's 详细原因, from the check's answers."""
    parts = [check.risk_detail]
    if check.medical_out_of_pocket is not None:
        parts.append(f"三重保障后个人自负医疗费用 {check.medical_out_of_pocket} 元")
    if check.months_without_work is not None:
        parts.append(f"失业 {check.months_without_work} 个月未就业")
    others = [RISK_TYPES[k] for k in check.risks[1:]]
    if others:
        parts.append("另有风险：" + "、".join(others))
    return "；".join(p for p in parts if p)[:1000]


def _summary(check: ScreeningCheck) -> str:
    if check.outcome == "not_checked":
        reason = NOT_CHECKED_REASONS.get(check.not_checked_reason or "", "")
        return f"未能排查：{reason}{('，' + check.not_checked_note) if check.not_checked_note else ''}"
    if check.risks:
        return "存在风险：" + "、".join(RISK_TYPES[k] for k in check.risks)
    return "无返贫致贫风险"


def check_from_registration(screening: Screening, registration: RiskRegistration, actor: User) -> None:
    """A household registered directly (the search form, a filled 附件1) has been checked by the team that
    registered it: the check says so, when it has none yet."""
    if get_check(screening, registration.household_id) is not None:
        return
    db.session.add(ScreeningCheck(
        screening_id=screening.id, household_id=registration.household_id, village_code=screening.village_code,
        town_code=screening.town_code, month=screening.month, outcome="checked", visited_on=china_today(),
        visitors=actor.full_name, risks=[registration.risk_type], risk_detail=registration.reason,
        registration_id=registration.id, recorded_by_id=actor.id, recorded_at=utcnow()))
    db.session.flush()
    refresh_counts(screening)
