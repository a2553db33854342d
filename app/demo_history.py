"""A year of the demo county's work, made through the app's own operations with the clock moved.

Every screening, registration, assessment, certification, 公示, measure plan, closure and objection of the demo is
a user's step through `runtime.complete_user_task` (the forms validate it, the engine runs it, the query rows and
the audit log follow), on the day it is dated: `app.clock.travel_to` moves "now" day by day through the twelve
months before today, and the BPMN timers (the end of a 公示 period) fire as those days pass. Nothing is written
behind the engine's back, so every page is consistent with the diagrams.

What the year holds, reproducibly for a seed: every village screens every month, a few late or short of their
households; risk households are registered and most reported for certification; cases take every path of the
diagrams (returned for more material, returned by the leadership meeting or the county, rejected, objections
upheld and dismissed, plans returned, closures refused and re-checked); two towns work slowly, so their tasks and
measures are overdue today and the others' are not; a few cases have comments and attachments; one household is
re-opened after its closure; the county revised the case procedure half-way through the year (the county's approval
time limit from 5 to 3 working days), so cases run on both versions; two people have stand-ins today."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.areas import below
from app.clock import china_moment, china_today, travel_to
from app.extensions import db
from app.models import Area, Case, Household, ReadyTask, RiskRegistration, Screening, User
from app.vocab import OPEN_CASE_STATUSES, RISK_TYPES

HISTORY_MONTHS = 12
APPROVAL_LIMIT = '<spiffworkflow:property name="time_limit_days" value="5" />'  # 县办审批, as shipped
REVISED_APPROVAL_LIMIT = '<spiffworkflow:property name="time_limit_days" value="3" />'

REASONS = {
    "major_illness": ["户主患尿毒症需长期透析，医疗支出大", "家庭成员确诊恶性肿瘤，住院治疗花费较多",
                      "主要劳动力突发脑梗，丧失劳动能力"],
    "natural_disaster": ["暴雨引发山体滑坡，住房受损", "洪水冲毁耕地和养殖棚", "冰雹致当年魔芋绝收"],
    "accident": ["车祸致主要劳动力伤残", "务工时摔伤，长期不能务工", "家中失火，财产损失严重"],
    "industry_failure": ["生猪价格下跌，养殖亏损", "茶园遭受冻害，产业收入锐减", "香菇种植失败，欠款较多"],
    "unstable_employment": ["务工企业停产，连续三个月未就业", "返乡后未找到稳定工作", "季节性务工收入中断"],
    "other": ["子女就读大学，教育支出大", "家庭成员去世，丧葬支出大", "赡养老人多，收入不足"],
}
MEASURES = {
    "industry": ("发展魔芋种植2亩，落实产业奖补", "县农业农村局"),
    "employment": ("推荐到县内社区工厂就业", "县人社局"),
    "health": ("落实医疗保险三重保障，办理慢性病卡", "县医保局"),
    "education": ("落实雨露计划和教育资助", "县教育体育局"),
    "housing": ("开展住房安全鉴定，纳入危房改造", "县住建局"),
    "social_security": ("按程序纳入农村低保", "县民政局"),
    "temporary_relief": ("给予临时救助", "县民政局"),
    "public_welfare_job": ("安排村级公益性岗位", "镇人民政府"),
    "microcredit": ("发放脱贫人口小额信贷5万元", "县农商银行"),
    "other": ("协调亲属帮扶，落实结对干部联系", "驻村工作队"),
}
MEASURES_FOR_RISK = {
    "major_illness": ["health", "social_security", "temporary_relief"],
    "natural_disaster": ["housing", "temporary_relief", "industry"],
    "accident": ["health", "public_welfare_job", "temporary_relief"],
    "industry_failure": ["industry", "microcredit", "employment"],
    "unstable_employment": ["employment", "public_welfare_job", "industry"],
    "other": ["education", "other", "temporary_relief"],
}
# The paths a case may take besides the straight one, each tried once per case, with how often.
DETOURS = {
    "supplement": 0.10, "town_reject": 0.04, "leader_return": 0.05, "county_return": 0.05, "county_reject": 0.03,
    "objection_dismissed": 0.05, "objection_upheld": 0.03, "filing_return": 0.06, "acceptance_return": 0.06,
    "recheck_return": 0.04, "announcement_objection": 0.03,
}


@dataclass
class _Plan:
    """How one case goes: which detours it takes and how fast its people work."""

    detours: set[str]
    slow: bool
    taken: set[str] = field(default_factory=set)

    def takes(self, detour: str) -> bool:
        if detour in self.detours and detour not in self.taken:
            self.taken.add(detour)
            return True
        return False


class _History:
    def __init__(self, seed: int, today: date, months: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        first = _add_months(today.replace(day=1), -months)
        self.first_day = first
        self.agenda: dict[date, list[tuple[int, Callable[[], None]]]] = defaultdict(list)
        self.users = {u.username: u for u in db.session.scalars(select(User).order_by(User.username))}
        # The demo county's villages (in a city of several, the first county's: the others are bare registries).
        self.villages = db.session.scalars(select(Area).where(
            Area.level == "village", below(Area.code, self.users["county_office"].area_code)).order_by(Area.code)).all()
        towns = sorted({v.parent_code or "" for v in self.villages})
        self.slow_towns = set(self.rng.sample(towns, k=max(1, min(2, len(towns) - 1)))) if towns else set()
        # Where households fell back into poverty this year (返贫户/新致贫户): those towns may not be rated
        # excellent in the annual review. A slow town and one other; elsewhere only risk households.
        others = [t for t in towns if t not in self.slow_towns]
        self.returned_towns = {sorted(self.slow_towns)[0], *self.rng.sample(others, k=min(1, len(others)))} \
            if towns else set()
        self.town_slug = {u.area_code: u.username.removesuffix("_certifier") for u in self.users.values()
                          if u.role == "town_certifier"}
        self.village_slug = {u.area_code: u.username.removesuffix("_team") for u in self.users.values()
                             if u.role == "village_team"}
        self.plans: dict[int, _Plan] = {}
        self.waiting: set[int] = set()  # cases in a 公示 period: their next task comes with the timer
        self.reopen: int | None = None  # a household closed early in the year, to be registered again
        self._reopening: set[int] = set()
        self.counts: dict[str, int] = defaultdict(int)

    # ---- the calendar -----------------------------------------------------------------------------------

    def at(self, day: date, action: Callable[[], None], hour: int | None = None) -> None:
        if day <= self.today:
            self.agenda[day].append((hour if hour is not None else self.rng.randint(9, 17), action))

    def after(self, working_days: int, action: Callable[[], None], start: date | None = None) -> None:
        day = start or self._day
        while working_days > 0:
            day += timedelta(days=1)
            if day.weekday() < 5:
                working_days -= 1
        self.at(day, action)

    def run(self, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        from app.workflow.runtime import run_due_timers

        day = self.first_day
        while day <= self.today:
            self._day = day
            with travel_to(china_moment(day, 8)):
                run_due_timers()
                db.session.commit()
                self._wake_waiting()
            if day.day == 1:
                self._start_month(day)
            if day == self.first_day + timedelta(days=182):
                self._revise_procedure(day)
            for hour, action in sorted(self.agenda.pop(day, []), key=lambda item: item[0]):
                with travel_to(china_moment(day, hour)):
                    action()
                    db.session.commit()
            if progress is not None and day.day == 1:
                progress(f"{day:%Y-%m}")
            day += timedelta(days=1)
        self._this_mornings_work()
        with travel_to(china_moment(self.today, 8)):
            self._stand_ins()
            db.session.commit()
        from app.demo_national import load_national_demo

        self.counts.update(load_national_demo(self.users, self.rng, self.today, _photo))
        return dict(self.counts)

    def _this_mornings_work(self) -> None:
        """Today, in every town, a village that screens early reports three households; the certification group
        certifies two, and the leadership meeting passes one to the county (in the first town a fourth goes back to
        the village for more material): whatever the day the demo is loaded, each town's group and meeting and the
        county office have a case waiting, freshly, not overdue."""
        self._day = self.today
        for number, town in enumerate(sorted(self.town_slug)):
            screening = db.session.scalars(
                select(Screening).join(ReadyTask, ReadyTask.about("screening", Screening.id))
                .where(Screening.town_code == town, ReadyTask.bpmn_id == "Task_ScreenHouseholds",
                       Screening.month == f"{self.today:%Y-%m}").order_by(Screening.village_code)).first()
            if screening is None:
                continue
            with travel_to(china_moment(self.today, 9)):
                self._screen(screening.id, short=False, report_at_least=4 if number == 0 else 3)
                db.session.commit()
            with travel_to(china_moment(self.today, 10)):
                self._assess(screening.id, {"attendees": "驻村工作队、村两委成员", "minutes": "研判本月登记的风险户"},
                             None)
                db.session.commit()
            cases = db.session.scalars(select(Case.id).where(Case.screening_id == screening.id)
                                       .order_by(Case.id)).all()
            for index, (case_id, hour) in enumerate(zip(cases[:2], (11, 14), strict=False)):
                self.plans[case_id].detours.clear()
                with travel_to(china_moment(self.today, hour)):
                    self._act(case_id, "Task_TownCertify")
                    if index == 0:
                        self._act(case_id, "Task_TownLeadershipReview")
                    db.session.commit()
            if len(cases) > 3:  # and one goes back to its village for more material
                self.plans[cases[3]].detours = {"supplement"}
                with travel_to(china_moment(self.today, 15)):
                    self._act(cases[3], "Task_TownCertify")
                    db.session.commit()
        self.agenda.pop(self.today, None)  # what they scheduled comes after today

    # ---- monthly screening ------------------------------------------------------------------------------

    def _start_month(self, day: date) -> None:
        from app.screenings.operations import start_monthly_screening

        month = f"{day:%Y-%m}"
        with travel_to(china_moment(day, 8)):
            screenings = start_monthly_screening(month, self.users["county_office"])
            db.session.commit()
        last_past_month = _add_months(self.today.replace(day=1), -1) == day
        for screening in screenings:
            slow = screening.town_code in self.slow_towns
            roll = self.rng.random()
            if last_past_month and roll < (0.25 if slow else 0.03):
                continue  # never screened: still open and overdue today
            if roll < (0.30 if slow else 0.05):
                screen_on = day + timedelta(days=self.rng.randint(31, 40))  # done, but after the month
            else:
                screen_on = day + timedelta(days=self.rng.randint(2, 20))
            short = self.rng.random() < (0.25 if slow else 0.04)
            self.at(screen_on, partial(self._screen, screening.id, short))

    def _screen(self, screening_id: int, short: bool, report_at_least: int = 0) -> None:
        """The team's round of the village: a check for every household through the phone page's form (a risk
        answered "yes" is the roster entry), some not reached in a short month, then the screening task."""
        screening = db.session.get(Screening, screening_id)
        assert screening is not None
        team = self._team(screening.village_code)
        count = max(report_at_least, self.rng.choices((0, 1, 2), weights=(78, 18, 4))[0])
        candidates = self._candidates(screening.village_code)
        if self.reopen is not None and self._household_village(self.reopen) == screening.village_code:
            candidates.insert(0, self.reopen)
            count = max(count, 1)
            self.reopen = None
            self.counts["reopened"] += 1
        risky = candidates[:count]
        households = list(db.session.scalars(select(Household.id).where(
            Household.village_code == screening.village_code).order_by(Household.id)))
        others = [h for h in households if h not in risky]
        unreached = set(self.rng.sample(others, k=min(len(others), self.rng.randint(2, 5)))) if short else set()
        visitors = f"{team.full_name}、村两委成员"
        for household_id in households:
            if household_id in risky:
                risk_type = self.rng.choice(list(RISK_TYPES))
                pairs = [("outcome", "checked"), ("visited_on", self._day.isoformat()), ("visitors", visitors),
                         ("risks", risk_type), ("risk_detail", self.rng.choice(REASONS[risk_type]))]
                if risk_type == "major_illness":
                    pairs.append(("medical_out_of_pocket", str(self.rng.randint(8, 60) * 1000)))
                if risk_type == "unstable_employment":
                    pairs.append(("months_without_work", str(self.rng.randint(3, 8))))
                self.counts["registrations"] += 1
            elif household_id in unreached:
                reason = self.rng.choice(("away_unreachable", "away_unreachable", "long_absent", "other"))
                pairs = [("outcome", "not_checked"), ("not_checked_reason", reason),
                         ("not_checked_note", "户主在外地住院陪护" if reason == "other" else "")]
            else:
                pairs = [("outcome", "checked"), ("visited_on", self._day.isoformat()), ("visitors", visitors)]
            self._check(screening, household_id, pairs, team)
        registrations = db.session.scalars(select(RiskRegistration).where(
            RiskRegistration.screening_id == screening.id).order_by(RiskRegistration.id)).all()
        note = "部分农户外出务工，电话未联系上" if unreached else ""
        self._complete(team, "Task_ScreenHouseholds", {"note": note}, screening_id=screening.id)
        self.counts["screenings"] += 1
        reported = [r.id for index, r in enumerate(registrations)
                    if index < report_at_least or self.rng.random() < 0.85 or r.household_id in self._reopening]
        meeting = {"meeting_date": self._day.isoformat(), "attendees": "驻村工作队、村两委成员、村民代表",
                   "minutes": "逐户研判登记的风险户" + ("，均报镇认定" if reported else "，暂无需报镇认定的户")}
        self.after(self.rng.randint(1, 3), lambda: self._assess(screening_id, meeting, reported))

    def _assess(self, screening_id: int, meeting: dict[str, Any], reported: list[int] | None) -> None:
        """The assessment meeting: `reported`, the registrations sent on to the town (None: all of them)."""
        screening = db.session.get(Screening, screening_id)
        assert screening is not None
        if reported is None:
            reported = [r.id for r in db.session.scalars(select(RiskRegistration).where(
                RiskRegistration.screening_id == screening_id).order_by(RiskRegistration.id))]
        meeting = dict(meeting, meeting_date=self._day.isoformat())
        pairs = [(k, str(v)) for k, v in meeting.items()] + [("key_assistance", str(r)) for r in reported]
        self._complete(self._team(screening.village_code), "Task_AssessmentMeeting", pairs,
                       screening_id=screening.id)
        for case in db.session.scalars(select(Case).where(Case.screening_id == screening_id).order_by(Case.id)):
            self._plan_case(case)

    def _candidates(self, village_code: str) -> list[int]:
        """Households of the village with no open case, in a seeded order."""
        busy = set(db.session.scalars(select(Case.household_id).where(Case.status.in_(OPEN_CASE_STATUSES))))
        ids = [h for h in db.session.scalars(select(Household.id).where(Household.village_code == village_code)
                                             .order_by(Household.id)) if h not in busy]
        self.rng.shuffle(ids)
        return ids

    def _household_village(self, household_id: int) -> str:
        household = db.session.get(Household, household_id)
        return household.village_code if household else ""

    # ---- cases ------------------------------------------------------------------------------------------

    def _plan_case(self, case: Case) -> None:
        detours = {name for name, share in DETOURS.items() if self.rng.random() < share}
        self.plans[case.id] = _Plan(detours, slow=case.town_code in self.slow_towns)
        self.counts["cases"] += 1
        self._next(case.id)

    def _next(self, case_id: int) -> None:
        """Schedule whoever holds the case's next task: soon, or late in a slow town (past the time limits)."""
        tasks = db.session.scalars(select(ReadyTask).where(ReadyTask.about("case", case_id))
                                   .order_by(ReadyTask.id)).all()
        if not tasks:
            case = db.session.get(Case, case_id)
            if case is not None and case.status in OPEN_CASE_STATUSES:
                self.waiting.add(case_id)
            return
        plan = self.plans[case_id]
        for task in tasks:
            if task.bpmn_id == "Task_CarryOutMeasures":
                self._schedule_measures(case_id, task.due_on)
                continue
            days = self.rng.randint(4, 16) if plan.slow and self.rng.random() < 0.6 else self.rng.randint(1, 3)
            self.after(days, partial(self._act, case_id, task.bpmn_id))

    def _wake_waiting(self) -> None:
        for case_id in sorted(self.waiting):
            if db.session.scalar(select(func.count()).select_from(ReadyTask).where(ReadyTask.about("case", case_id))):
                self.waiting.discard(case_id)
                self._next(case_id)

    def _schedule_measures(self, case_id: int, due: date | None) -> None:
        """The cadre reports all measures at once: before the first 完成时限 in most towns, after the last one
        (late) for half the cases of a slow town."""
        plan = self.plans[case_id]
        case = db.session.get(Case, case_id)
        deadlines = sorted(m.deadline for m in case.measures) if case is not None else []
        first, last = (deadlines[0], deadlines[-1]) if deadlines else (due or self._day, due or self._day)
        if plan.slow and self.rng.random() < 0.5:
            day = last + timedelta(days=self.rng.randint(5, 40))
        else:
            day = first - timedelta(days=self.rng.randint(0, 15))
        self.at(max(day, self._day + timedelta(days=1)),
                lambda: self._act(case_id, "Task_CarryOutMeasures"))

    def _act(self, case_id: int, bpmn_id: str) -> None:
        case = db.session.get(Case, case_id)
        assert case is not None
        plan = self.plans[case_id]
        town = self.town_slug[case.town_code]
        team = f"{self.village_slug[case.village_code]}_team"
        today = self._day.isoformat()
        step: tuple[str, dict[str, Any]]
        if bpmn_id == "Task_TownCertify":
            if plan.takes("supplement"):
                step = (f"{town}_certifier", {"decision": "return", "opinion": "请补充家庭收支和医疗费用票据"})
            elif plan.takes("town_reject"):
                step = (f"{town}_certifier", {"decision": "reject",
                                              "opinion": "经入户核实，家庭收入稳定，不存在返贫风险"})
            else:
                level = "returned" if case.town_code in self.returned_towns and self.rng.random() < 0.3 \
                    else "at_risk"
                step = (f"{town}_certifier", {"decision": "certify", "risk_level": level,
                                              "opinion": "经入户核实，符合认定条件"})
        elif bpmn_id == "Task_SupplementInformation":
            step = (team, {"supplement": "已补充住院费用清单、收入核算表和村民代表评议记录"})
        elif bpmn_id == "Task_TownLeadershipReview":
            decision = "return" if plan.takes("leader_return") else "pass"
            step = (f"{town}_leader", {"decision": decision, "meeting_date": today,
                                       "opinion": "请认定工作组重新核实" if decision == "return" else "会议研究通过"})
        elif bpmn_id == "Task_CountyApprove":
            if plan.takes("county_return"):
                step = ("county_office", {"decision": "return", "opinion": "风险类型与佐证材料不一致，请镇重新认定"})
            elif plan.takes("county_reject"):
                step = ("county_office", {"decision": "reject", "opinion": "不符合监测对象认定条件"})
            else:
                step = ("county_office", {"decision": "approve", "opinion": "同意认定"})
        elif bpmn_id == "Task_PostNotice":
            step = (team, {"posted_on": today, "period_days": self.rng.choice((5, 5, 7)),
                           "location": self.rng.choice(("村委会公示栏", "村便民服务中心", "村口宣传栏"))})
        elif bpmn_id == "Task_RecordObjections":
            objected = plan.takes("announcement_objection") if case.status == "announcement" else (
                plan.takes("objection_upheld") or plan.takes("objection_dismissed"))
            step = (team, {"decision": "objection", "objection_content": "有村民反映该户家庭收入情况与实际不符"}
                    if objected else {"decision": "no_objection"})
        elif bpmn_id == "Task_ReviewObjection":
            upheld = "objection_upheld" in plan.taken and "upheld_done" not in plan.taken
            plan.taken.add("upheld_done")
            step = (f"{town}_certifier", {"decision": "uphold", "opinion": "经复核异议属实，重新认定"} if upheld
                    else {"decision": "dismiss", "opinion": "经复核，异议反映情况不属实"})
        elif bpmn_id == "Task_DraftMeasures":
            step = (team, self._measures_plan(case))
        elif bpmn_id == "Task_CountyFiling":
            decision = "return" if plan.takes("filing_return") else "file"
            step = ("county_office", {"decision": decision,
                                      "opinion": "措施针对性不强，请修改" if decision == "return" else "予以备案"})
        elif bpmn_id == "Task_CarryOutMeasures":
            cadre = db.session.get(User, case.cadre_id) if case.cadre_id else None
            results: dict[str, Any] = {}
            # The measures not yet carried out (a case sent back from closure has reported on the others).
            pending = [m for m in case.measures if m.status != "done"]
            for index, measure in enumerate(sorted(pending, key=lambda m: m.position)):
                results |= {f"results-{index}-measure_id": measure.id, f"results-{index}-completed_on": today,
                            f"results-{index}-result": "已落实，" + measure.content}
            step = (cadre.username if cadre else f"{self.village_slug[case.village_code]}_cadre1", results)
        elif bpmn_id == "Task_ApplyClosure":
            income = self.rng.randint(7200, 13800)
            step = (team, {"applied_on": today, "income_per_capita": str(income),
                           "summary": "两不愁三保障和饮水安全均有保障，家庭人均纯收入稳定超过监测标准"})
        elif bpmn_id == "Task_TownAcceptance":
            decision = "return" if plan.takes("acceptance_return") else "accept"
            step = (f"{town}_certifier", {"decision": decision, "opinion": "收入尚不稳定，继续帮扶"
                                          if decision == "return" else "验收合格"})
        elif bpmn_id == "Task_CountyRecheck":
            decision = "return" if plan.takes("recheck_return") else "confirm"
            step = ("county_office", {"decision": decision, "opinion": "产业收入未到账，继续帮扶"
                                      if decision == "return" else "复核达标"})
        else:
            raise RuntimeError(f"the demo history does not know the step {bpmn_id}")
        username, data = step
        if bpmn_id == "Task_CarryOutMeasures" and (self.counts["attachments"] < 3 or self.rng.random() < 0.1):
            self._attach(case, username)
        self._complete(username, bpmn_id, data, case_id=case_id)
        self._after_case_step(case)

    def _measures_plan(self, case: Case) -> dict[str, Any]:
        risk_type = case.risk_type
        kinds = MEASURES_FOR_RISK.get(risk_type, ["other"])[: self.rng.randint(1, 3)]
        village = self.village_slug[case.village_code]
        cadre = self.users.get(f"{village}_cadre{self.rng.randint(1, 2)}") or self.users[f"{village}_cadre1"]
        data: dict[str, Any] = {"cadre_id": cadre.id}
        due = self._day + timedelta(days=self.rng.randint(60, 180))
        for index, kind in enumerate(kinds):
            content, unit = MEASURES[kind]
            deadline = due - timedelta(days=self.rng.randint(0, 30) if index else 0)
            data |= {f"measures-{index}-content": content, f"measures-{index}-measure_type": kind,
                     f"measures-{index}-responsible_unit": unit, f"measures-{index}-deadline": deadline.isoformat()}
        return data

    def _after_case_step(self, case: Case) -> None:
        db.session.refresh(case)
        if case.status == "closed":
            self.counts["closed"] += 1
            if self.reopen is None and self.counts["reopened"] == 0 and self._day < self.today - timedelta(days=60):
                self.reopen = case.household_id  # registered again at its village's next screening
                self._reopening.add(case.household_id)
            return
        if case.status == "rejected":
            self.counts["rejected"] += 1
            return
        if self.counts["comments"] < 3 or self.rng.random() < 0.01:
            self._comment(case)
        self._next(case.id)

    def _comment(self, case: Case) -> None:
        from app.collab.operations import add_comment

        town = self.town_slug[case.town_code]
        author = self.users[self.rng.choice((f"{town}_certifier", "county_office"))]
        add_comment(case, self.rng.choice(("请注意核实家庭成员务工收入", "已电话联系驻村工作队，材料下周补齐",
                                           "该户情况特殊，请加快办理")), author)
        self.counts["comments"] += 1

    def _attach(self, case: Case, username: str) -> None:
        from app.collab.operations import store_attachment

        store_attachment(case, io.BytesIO(_photo(self.rng)), "入户核查照片.png", self.users[username])
        self.counts["attachments"] += 1

    # ---- the county's own changes ----------------------------------------------------------------------

    def _revise_procedure(self, day: date) -> None:
        """The county shortened its approval time limit: the case procedure's next version, deployed as an
        administrator deploys from the modeler. Running cases stay on the version they started on."""
        from app.processes.admin import deploy
        from app.processes.operations import current_version

        shipped = current_version("household_case").bpmn_xml
        at = shipped.index(APPROVAL_LIMIT, shipped.index('id="Task_CountyApprove"'))
        xml = shipped[:at] + REVISED_APPROVAL_LIMIT + shipped[at + len(APPROVAL_LIMIT):]
        with travel_to(china_moment(day, 8)):
            deploy(xml, self.users["admin"], "household_case")
            db.session.commit()

    def _stand_ins(self) -> None:
        """Two cadres on leave today, the other cadre of their village standing in (a stand-in has the same role
        and area; the demo's town groups and village teams have one user each)."""
        from app.tasks.operations import add_stand_in

        by_role_area: dict[tuple[str, str], list[User]] = defaultdict(list)
        for user in self.users.values():
            by_role_area[(user.role, user.area_code)].append(user)
        pairs = [group for group in by_role_area.values() if len(group) >= 2 and group[0].role == "cadre"]
        for group in pairs[:2]:
            absent, colleague = group[0], group[1]
            add_stand_in(absent, colleague.id, self.today - timedelta(days=2), self.today + timedelta(days=12),
                         "外出培训")
            self.counts["stand_ins"] += 1

    # ---- one step ---------------------------------------------------------------------------------------

    def _check(self, screening: Screening, household_id: int, pairs: list[tuple[str, str]], team: User) -> None:
        from app.screenings.checks import check_form, record_check

        form = check_form(screening, MultiDict(pairs), today=self._day)
        if not form.validate():
            raise RuntimeError(f"demo history: a household check was refused: {form.errors}")
        record_check(screening, household_id, form.check_data(), team)
        self.counts["checks"] += 1

    def _team(self, village_code: str) -> User:
        return self.users[f"{self.village_slug[village_code]}_team"]

    def _complete(self, who: str | User, bpmn_id: str, data: dict[str, Any] | list[tuple[str, str]], *,
                  case_id: int | None = None, screening_id: int | None = None) -> None:
        from app.workflow.runtime import complete_user_task

        stmt = select(ReadyTask).where(ReadyTask.bpmn_id == bpmn_id)
        stmt = stmt.where(ReadyTask.about("case", case_id)) if case_id is not None else \
            stmt.where(ReadyTask.about("screening", screening_id))
        task = db.session.scalars(stmt).first()
        if task is None:
            raise RuntimeError(f"demo history: no ready {bpmn_id} for case {case_id} / screening {screening_id}")
        pairs = data if isinstance(data, list) else [(k, str(v)) for k, v in data.items()]
        actor = who if isinstance(who, User) else self.users[who]
        complete_user_task(task.id, MultiDict(pairs), actor, None)
        self.counts["steps"] += 1


def _photo(rng: random.Random) -> bytes:
    """A small PNG standing in for a photo taken at the household."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (rng.randint(150, 220), rng.randint(170, 220), rng.randint(140, 200)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 90, 260, 220), fill=(235, 230, 215), outline=(90, 80, 70), width=3)
    draw.polygon(((40, 100), (160, 30), (280, 100)), fill=(120, 70, 50))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def has_history() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Screening)))


def load_demo_history(*, seed: int = 610922, today: date | None = None, months: int = HISTORY_MONTHS,
                      progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """The demo county's year of work up to `today` (China time), committed day by day. Does nothing when
    any screening exists already."""
    if has_history():
        return {}
    history = _History(seed, today or china_today(), months)
    return history.run(progress)
