"""The demo county's work under the national mechanism, made through the app's own operations: the monitoring line
of each year it spans (marked as demo data), and in a few villages a declaration from the public page waiting for
its home visit, a 12317 call verified and assessed (its case waiting for the village's review), a visit that found
no risk, a flood on the fast path (help given at once, the review alongside), a household identified eight months
ago whose measures are done (waiting for its elimination check), and one whose risk was eliminated last week."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.areas import below
from app.clock import china_moment, travel_to
from app.eliminations.criteria import of_working_age
from app.extensions import db
from app.leads import operations as leads
from app.models import Area, Case, Household, Measure, MonitoringLine, ReadyTask, RiskLead, User
from app.vocab import OPEN_CASE_STATUSES
from app.workflow.runtime import complete_user_task

DEMO_LINE = Decimal("8700")  # an example: the county records the figure its province announces
MONITORED_DAYS = 240  # the monitored household was identified this many days ago
ELIMINATED_DAYS = 300


def load_national_demo(users: dict[str, User], rng: random.Random, today: date,
                       photo: Callable[[random.Random], bytes]) -> dict[str, int]:
    counts = {"national leads": 0}
    county = db.session.get(Area, users["county_office"].area_code)  # the demo county (the first of a city's)
    if county is None:
        return counts
    for year in range((today - timedelta(days=ELIMINATED_DAYS)).year, today.year + 1):  # the years its steps span
        db.session.add(MonitoringLine(year=year, region_code=county.code, amount=DEMO_LINE,
                                      source_document="演示数据：请按省、市当年公布的监测范围登记", note="演示"))
    villages = db.session.scalars(select(Area).where(Area.level == "village", below(Area.code, county.code))
                                  .order_by(Area.code)).all()
    busy = set(db.session.scalars(select(Case.household_id).where(Case.status.in_(OPEN_CASE_STATUSES))))
    picked = sorted(villages, key=lambda v: (not v.code.endswith("001"), v.code))[:6]  # each town's first first
    slug = {u.area_code: u.username.removesuffix("_team") for u in users.values() if u.role == "village_team"}
    for index, village in enumerate(picked):
        free = [h for h in db.session.scalars(select(Household).where(Household.village_code == village.code)
                                               .order_by(Household.id)) if h.id not in busy and h.members]
        if not free:
            continue
        if index >= 4:  # households that can meet every elimination criterion, among them someone able to work
            free = [h for h in free if any(of_working_age(m.id_number, today) for m in h.members)]
            if not free:
                continue
        household = rng.choice(free)
        team = users.get(f"{slug.get(village.code, '')}_team")
        if team is None:
            continue
        if index == 0:
            _declared_on_the_public_page(household, today)
        elif index == 1:
            _verified_and_assessed(household, team, users["county_office"], today, rng, photo)
        elif index == 2:
            _not_confirmed(household, team, today, rng, photo)
        elif index == 3:
            _flooded(household, team, users["county_office"], today, rng, photo)
        else:
            people = _people(users, village.code)
            if people is None:
                continue
            days = MONITORED_DAYS if index == 4 else ELIMINATED_DAYS
            case = _identified(household, team, users["county_office"], people, today - timedelta(days=days), rng,
                               photo)
            _helped(case, team, people, today - timedelta(days=days - 20))
            if index == 5:
                _eliminated(case, team, users["county_office"], people, today - timedelta(days=7))
        counts["national leads"] += 1
    db.session.commit()
    return counts


def _declared_on_the_public_page(household: Household, today: date) -> None:
    member = household.members[-1]
    with travel_to(china_moment(today, 7)):
        leads.declare(member.name, member.id_number, leads.DeclarationInput(
            member.name, "13912340000", "丈夫务工时摔伤腰椎，已三个月不能干活，孩子上学费用没有着落",
            ["accident", "employment"]), "10.0.0.8")


def _verified_and_assessed(household: Household, team: User, office: User, today: date, rng: random.Random,
                           photo: Callable[[random.Random], bytes]) -> None:
    called = today - timedelta(days=2)
    with travel_to(china_moment(called, 9)):
        lead = leads.record_declaration(office, household.id, "hotline_12317", leads.DeclarationInput(
            household.head_name, "13800001234", "家中老人突发脑梗住院，自付医疗费用四万多元", ["illness"]), called)
    with travel_to(china_moment(today - timedelta(days=1), 15)):
        leads.store_authorisation(lead, io.BytesIO(photo(rng)), "承诺授权书.png", team)
        _complete(lead, "Task_VerifyAtHome", team, [
            ("visited_on", (today - timedelta(days=1)).isoformat()), ("verifiers", f"{team.full_name}、村主任"),
            ("guarantee_gaps", "medical"), ("findings", "住院属实，家庭主要劳动力在家照料，收入明显减少"),
            ("decision", "confirmed")])
        pairs = [("persons", str(len(household.members))), ("business_costs", "1500"),
                 ("medical_spending", "42000"), ("schooling_spending", "0")]
        for position, member in enumerate(household.members):
            pairs += [(f"members-{position}-member_id", str(member.id)),
                      (f"members-{position}-wage", "18000" if position == 0 else "0"),
                      (f"members-{position}-transfer", "1200")]
        _complete(lead, "Task_AssessIncome", team, pairs)


def _not_confirmed(household: Household, team: User, today: date, rng: random.Random,
                   photo: Callable[[random.Random], bytes]) -> None:
    with travel_to(china_moment(today - timedelta(days=3), 10)):
        lead = leads.record_declaration(team, household.id, "in_person", leads.DeclarationInput(
            household.head_name, "13700005678", "今年核桃减产，担心收入下降", ["industry"]), today - timedelta(days=3))
    with travel_to(china_moment(today - timedelta(days=1), 11)):
        leads.store_authorisation(lead, io.BytesIO(photo(rng)), "承诺授权书.png", team)
        _complete(lead, "Task_VerifyAtHome", team, [
            ("visited_on", (today - timedelta(days=1)).isoformat()), ("verifiers", team.full_name),
            ("findings", "核桃减产约两成，家庭另有两人稳定务工，收入明显高于监测标准"), ("decision", "not_confirmed"),
            ("reason", "家庭有稳定务工收入，减产影响有限，暂不纳入监测；情况变化可再次申报")])


def _complete(lead: RiskLead, bpmn_id: str, actor: User, pairs: list[tuple[str, str]]) -> None:
    _complete_task("lead", lead.id, bpmn_id, actor, pairs)


def _complete_task(kind: str, subject_id: int, bpmn_id: str, actor: User, pairs: list[tuple[str, str]]) -> None:
    task = db.session.scalar(select(ReadyTask).where(ReadyTask.about(kind, subject_id), ReadyTask.bpmn_id == bpmn_id))
    if task is None:
        raise RuntimeError(f"national demo: no ready {bpmn_id} for {kind} {subject_id}")
    complete_user_task(task.id, MultiDict(pairs), actor, None)
    db.session.commit()


def _people(users: dict[str, User], village_code: str) -> tuple[User, User] | None:
    """The village's town certification group member and one of its cadres."""
    certifier = next((u for u in users.values() if u.role == "town_certifier" and u.area_code == village_code[:9]),
                     None)
    cadre = next((u for u in sorted(users.values(), key=lambda u: u.username)
                  if u.role == "cadre" and u.area_code == village_code), None)
    return (certifier, cadre) if certifier and cadre else None


def _assessed(household: Household, team: User, office: User, day: date, rng: random.Random,
              photo: Callable[[random.Random], bytes], text: str, risk: str, urgency: str = "normal",
              wage: str = "9000") -> RiskLead:
    """A 12317 call on `day`, verified and its income assessed the same day: its case opens."""
    with travel_to(china_moment(day, 9)):
        lead = leads.record_declaration(office, household.id, "hotline_12317", leads.DeclarationInput(
            household.head_name, "13800002345", text, [risk], urgency), day)
    with travel_to(china_moment(day, 15)):
        leads.store_authorisation(lead, io.BytesIO(photo(rng)), "承诺授权书.png", team)
        _complete(lead, "Task_VerifyAtHome", team, [
            ("visited_on", day.isoformat()), ("verifiers", f"{team.full_name}、村主任"),
            ("guarantee_gaps", "housing" if risk == "disaster" else "medical"), ("findings", text),
            ("decision", "confirmed")])
        pairs = [("persons", str(len(household.members))), ("business_costs", "0")]
        for position, member in enumerate(household.members):
            pairs += [(f"members-{position}-member_id", str(member.id)),
                      (f"members-{position}-wage", wage if position == 0 else "0")]
        _complete(lead, "Task_AssessIncome", team, pairs)
    return lead


def _flooded(household: Household, team: User, office: User, today: date, rng: random.Random,
             photo: Callable[[random.Random], bytes]) -> None:
    """An urgent lead on the fast path: the case waits for the help given at once and for the review alongside."""
    _assessed(household, team, office, today - timedelta(days=1), rng, photo,
              "夜间山洪冲毁住房两间，全家暂住亲戚家，口粮和衣物被冲走", "disaster", "urgent")


def _post_notice(case_id: int, team: User, posted: date) -> None:
    from app.workflow.runtime import run_due_timers

    with travel_to(china_moment(posted, 10)):
        _complete_task("case", case_id, "Task_PostNotice", team, [
            ("posted_on", posted.isoformat()), ("period_days", "5"), ("location", "村委会公示栏")])
    with travel_to(china_moment(posted + timedelta(days=6), 9)):
        run_due_timers()
        db.session.commit()
        _complete_task("case", case_id, "Task_RecordObjections", team, [("decision", "no_objection")])


def _review(case_id: int, team: User, day: date, bpmn_id: str, decision: str) -> None:
    with travel_to(china_moment(day, 14)):
        _complete_task("case", case_id, bpmn_id, team, [
            ("held_on", day.isoformat()), ("place", "村委会会议室"), ("attendance", "15"),
            ("attendees", "第一书记、村两委成员、村民代表 9 人、驻村工作队"),
            ("minutes", "逐户评议，举手表决，全票通过"), ("decision", decision)])


def _identified(household: Household, team: User, office: User, people: tuple[User, User], day: date,
                rng: random.Random, photo: Callable[[random.Random], bytes]) -> int:
    """A household found at risk on `day`, identified within 15 days: 民主评议, 公示, 乡镇审核, 县级审定, 公告."""
    certifier, _cadre = people
    lead = _assessed(household, team, office, day, rng, photo, "户主务工时受伤，半年不能干重活，家庭收入大幅下降",
                     "accident", wage="4000")
    assert lead.case_id is not None
    _review(lead.case_id, team, day + timedelta(days=1), "Task_IdentificationReview", "propose")
    _post_notice(lead.case_id, team, day + timedelta(days=2))
    with travel_to(china_moment(day + timedelta(days=9), 10)):
        _complete_task("case", lead.case_id, "Task_TownIdentificationReview", certifier, [
            ("decision", "pass"), ("meeting_date", (day + timedelta(days=9)).isoformat()),
            ("opinion", "经镇党委会审核通过")])
    with travel_to(china_moment(day + timedelta(days=11), 10)):
        _complete_task("case", lead.case_id, "Task_CountyIdentification", office, [
            ("decision", "approve"), ("document_no", "演示〔2026〕1号"), ("opinion", "审定纳入监测")])
    _post_notice(lead.case_id, team, day + timedelta(days=12))
    return lead.case_id


def _helped(case_id: int, team: User, people: tuple[User, User], day: date) -> None:
    """一户一策 with its cadre, carried out within the month: the case waits for its elimination check."""
    _certifier, cadre = people
    deadline = (day + timedelta(days=30)).isoformat()
    with travel_to(china_moment(day, 10)):
        _complete_task("case", case_id, "Task_DraftMeasures", team, [
            ("measures-0-content", "安排村保洁公益性岗位，月补贴 600 元"),
            ("measures-0-measure_type", "public_welfare_job"), ("measures-0-responsible_unit", "县人社局"),
            ("measures-0-deadline", deadline), ("measures-1-content", "协助申领残疾人两项补贴"),
            ("measures-1-measure_type", "social_security"), ("measures-1-responsible_unit", "县残联"),
            ("measures-1-deadline", deadline), ("cadre_id", str(cadre.id))])
    done = day + timedelta(days=25)
    with travel_to(china_moment(done, 16)):
        measures = db.session.scalars(select(Measure.id).where(Measure.case_id == case_id, Measure.status != "done")
                                      .order_by(Measure.position)).all()
        pairs: list[tuple[str, str]] = []
        for position, measure_id in enumerate(measures):
            pairs += [(f"results-{position}-measure_id", str(measure_id)), (f"results-{position}-result", "已落实"),
                      (f"results-{position}-completed_on", done.isoformat())]
        _complete_task("case", case_id, "Task_CarryOutMeasures", cadre, pairs)


def _eliminated(case_id: int, team: User, office: User, people: tuple[User, User], day: date) -> None:
    """Every criterion met: the check, 民主评议, 公示, 乡镇审核, 县级审定 and 公告; the risk stands eliminated."""
    certifier, _cadre = people
    case = db.session.get(Case, case_id)
    assert case is not None
    check = day - timedelta(days=12)
    with travel_to(china_moment(check, 10)):
        pairs = [("checked_on", check.isoformat()), ("verifiers", f"{team.full_name}、村主任"),
                 ("persons", str(len(case.household.members))), ("months_above_line", "7"),
                 ("risk_resolved", "yes"), ("new_risk", "no"),
                 ("findings", "户主已康复返岗务工，公益性岗位收入稳定，两不愁三保障和饮水安全均有保障"),
                 ("decision", "apply")]
        for position, member in enumerate(case.household.members):
            pairs += [(f"members-{position}-member_id", str(member.id)),
                      (f"members-{position}-wage", "52000" if position == 0 else "0")]
        _complete_task("case", case_id, "Task_EliminationCheck", team, pairs)
    _review(case_id, team, check + timedelta(days=1), "Task_EliminationReview", "agree")
    _post_notice(case_id, team, check + timedelta(days=2))
    with travel_to(china_moment(day - timedelta(days=3), 10)):
        _complete_task("case", case_id, "Task_TownEliminationReview", certifier, [
            ("decision", "pass"), ("meeting_date", (day - timedelta(days=3)).isoformat()), ("opinion", "同意风险消除")])
        _complete_task("case", case_id, "Task_CountyElimination", office, [
            ("decision", "approve"), ("document_no", ""), ("opinion", "审定风险消除")])
    _post_notice(case_id, team, day - timedelta(days=2))
