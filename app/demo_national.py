"""The demo county's first work under the national mechanism, made through the app's own operations: the year's
monitoring line (marked as demo data), and in a few villages a declaration from the public page waiting for its
home visit, a 12317 call verified and assessed (waiting for identification), and a visit that found no risk."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.clock import china_moment, travel_to
from app.extensions import db
from app.leads import operations as leads
from app.models import Area, Case, Household, MonitoringLine, ReadyTask, RiskLead, User
from app.vocab import OPEN_CASE_STATUSES
from app.workflow.runtime import complete_user_task

DEMO_LINE = Decimal("8700")  # an example: the county records the figure its province announces


def load_national_demo(users: dict[str, User], rng: random.Random, today: date,
                       photo: Callable[[random.Random], bytes]) -> dict[str, int]:
    counts = {"national leads": 0}
    county = db.session.scalar(select(Area).where(Area.level == "county"))
    if county is None:
        return counts
    for year in sorted({today.year, (today - timedelta(days=3)).year}):  # the demo's steps of the last days
        db.session.add(MonitoringLine(year=year, region_code=county.code, amount=DEMO_LINE,
                                      source_document="演示数据：请按省、市当年公布的监测范围登记", note="演示"))
    villages = db.session.scalars(select(Area).where(Area.level == "village").order_by(Area.code)).all()
    busy = set(db.session.scalars(select(Case.household_id).where(Case.status.in_(OPEN_CASE_STATUSES))))
    picked = [v for v in villages if v.code.endswith("001")][:3] or villages[:3]
    slug = {u.area_code: u.username.removesuffix("_team") for u in users.values() if u.role == "village_team"}
    for index, village in enumerate(picked):
        free = [h for h in db.session.scalars(select(Household).where(Household.village_code == village.code)
                                               .order_by(Household.id)) if h.id not in busy and h.members]
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
        else:
            _not_confirmed(household, team, today, rng, photo)
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
    task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("lead", lead.id), ReadyTask.bpmn_id == bpmn_id))
    if task is None:
        raise RuntimeError(f"national demo: no ready {bpmn_id} for lead {lead.id}")
    complete_user_task(task.id, MultiDict(pairs), actor, None)
    db.session.commit()
