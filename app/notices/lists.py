"""The households on a village's notice (公示 or 公告), and the posting recorded for each.

Only what national practice allows on a posted notice is read into a row: the head's name, the household size
and the result. No ID number, phone, bank or health detail, and no reason text (reasons often name illnesses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.access import in_area, works_an_area
from app.config import MIN_NOTICE_DAYS
from app.errors import InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.models import Area, Case, Event, Household, ReadyTask, User
from app.processes.ties import NOTICE_POSTING
from app.vocab import RISK_LEVELS


@dataclass(frozen=True)
class NoticeKind:
    code: str  # the case status while its call activity runs (app.vocab.NOTICE_PHASES)
    label: str  # 公示 | 公告
    subject: str  # what is announced, for the title
    result_header: str
    # The notice's opening: {rulebook} names the county rulebook ("根据《…》"), {count} the number of households.
    opening: str
    result: str = ""  # every row's result; empty: the case's monitoring category or risk level

    def intro(self, county_name: str, count: int) -> str:
        return self.opening.format(rulebook=f"根据《{county_name}返贫监测认定和帮扶办法》", count=count)


NATIONAL_BASIS = "根据防止返贫动态监测和帮扶工作要求"
KINDS: dict[str, NoticeKind] = {k.code: k for k in (
    NoticeKind("publicity", "公示", "返贫监测对象认定结果", "认定结果",
               "{rulebook}，经村评估、镇认定、县审批，现将本村{count}户返贫监测对象认定结果予以公示。"),
    NoticeKind("announcement", "公告", "返贫监测对象销号", "销号结果",
               "{rulebook}，经镇验收、县复核，本村以下{count}户已达到销号标准，现予公告。", "销号"),
    # The national mechanism's four notices, each posted once, in the village only.
    NoticeKind("review_publicity", "公示", "拟纳入防止返贫监测对象", "监测对象类型",
               NATIONAL_BASIS + "，经入户核实、民主评议，现将本村拟纳入防止返贫监测对象的{count}户予以公示。"),
    NoticeKind("result_notice", "公告", "防止返贫监测对象认定结果", "监测对象类型",
               NATIONAL_BASIS + "，经民主评议、村内公示、乡镇审核、县级审定，本村以下{count}户认定为防止返贫"
               "监测对象，现予公告。"),
    NoticeKind("elim_publicity", "公示", "拟风险消除监测对象", "结果",
               NATIONAL_BASIS + "，经入户核实、民主评议，本村以下{count}户拟标注风险消除，现予公示。", "拟风险消除"),
    NoticeKind("elim_notice", "公告", "监测对象风险消除", "结果",
               NATIONAL_BASIS + "，经乡镇审核、县级审定，本村以下{count}户风险已消除，现予公告。", "风险消除"),
)}


@dataclass(frozen=True)
class Posting:
    posted_on: date
    period_days: int
    location: str

    @property
    def ends_on(self) -> date:
        """The last day of the period (the form's timer fires at midnight after it)."""
        return self.posted_on + timedelta(days=self.period_days - 1)


@dataclass(frozen=True)
class NoticeRow:
    head_name: str
    size: int
    result: str
    posting: Posting | None  # None while the posting step still waits


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    county_name: str
    town_name: str
    village_name: str
    village_code: str
    rows: list[NoticeRow]

    @property
    def title(self) -> str:
        return f"{self.county_name}{self.town_name}{self.village_name}{self.kind.subject}{self.kind.label}"

    @property
    def committee(self) -> str:
        return f"{self.village_name}{'居民委员会' if self.village_name.endswith('社区') else '村民委员会'}"

    @property
    def intro(self) -> str:
        return self.kind.intro(self.county_name, len(self.rows))

    @property
    def period_line(self) -> str:
        label = self.kind.label
        common = self.common_posting
        if common is not None:
            return (f"{label}期：{_cn_date(common.posted_on)}至{_cn_date(common.ends_on)}（{common.period_days}天）。"
                    f"张贴地点：{common.location}。")
        if self.postings:
            return f"{label}期：各户{label}期见上表。"
        return f"{label}期：　　年　　月　　日至　　年　　月　　日（不少于{MIN_NOTICE_DAYS}天）。"

    @property
    def objection_line(self) -> str:
        label = self.kind.label
        return (f"{label}期内如对{label}结果有异议，可向{self.committee}、驻村工作队或{self.town_name}人民政府"
                "反映，反映情况应实事求是。")

    @property
    def closing_lines(self) -> list[str]:
        return [self.period_line, self.objection_line, "监督电话：＿＿＿＿＿＿＿＿＿＿＿＿"]

    @property
    def signatures(self) -> list[str]:
        return [f"{self.committee}（盖章）", f"{self.village_name}驻村工作队", "　　年　　月　　日"]

    @property
    def postings(self) -> list[Posting]:
        """The distinct postings of the rows, in date order (usually one: the village posts the list at once)."""
        return sorted({r.posting for r in self.rows if r.posting}, key=lambda p: (p.posted_on, p.location))

    @property
    def common_posting(self) -> Posting | None:
        """The posting every row shares, so it prints once under the table; None if any row differs or waits."""
        postings = self.postings
        if len(postings) == 1 and all(r.posting for r in self.rows):
            return postings[0]
        return None


def _cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def notice_kind(code: str | None) -> NoticeKind:
    kind = KINDS.get(code or "publicity")
    if kind is None:
        names = "、".join(f"{k.code}（{k.subject}{k.label}）" for k in KINDS.values())
        raise InvalidInput(f"公示公告的类型应为：{names}")
    return kind


def visible_village(user: User, village_code: str) -> Area:
    """The village, if the user may print its notices: its village team, its town's roles, county roles."""
    village = db.session.get(Area, village_code)
    if village is None or village.level != "village":
        raise NotFound("该村不存在")
    if not works_an_area(user) or not in_area(user, village_code):
        raise PermissionDenied("您无权查看该村的公示公告")
    return village


def village_notice(village: Area, kind: NoticeKind, county_name: str) -> Notice:
    cases = db.session.execute(
        select(Case.id, Case.risk_level, Case.category, Household.head_name, Household.size)
        .join(Household, Case.household_id == Household.id)
        .where(Case.village_code == village.code, Case.status == kind.code)
        .order_by(Household.household_no, Case.id)).all()
    postings = _postings([c.id for c in cases], kind)
    town = db.session.get(Area, village.parent_code) if village.parent_code else None
    rows = [NoticeRow(head_name=c.head_name, size=c.size, result=_result(kind, c.risk_level, c.category),
                      posting=postings.get(c.id)) for c in cases]
    return Notice(kind=kind, county_name=county_name, town_name=town.name if town else "",
                  village_name=village.name, village_code=village.code, rows=rows)


def _result(kind: NoticeKind, risk_level: str | None, category: str | None) -> str:
    """What a row announces: the kind's fixed result, or the case's monitoring category (national, safe to publish)
    or risk level (the county's)."""
    if kind.result:
        return kind.result
    if category:
        return MONITORING_CATEGORIES.get(category, category)
    return RISK_LEVELS.get(risk_level or "", "")


def _postings(case_ids: list[int], kind: NoticeKind) -> dict[int, Posting]:
    """The posting of this round for each case: the latest completed posting step (NOTICE_POSTING) of this kind,
    unless the posting task is ready again (an upheld objection sent the case back and it waits to be posted anew)."""
    if not case_ids:
        return {}
    waiting = set(db.session.scalars(select(ReadyTask.subject_id).where(ReadyTask.about_any("case", case_ids),
                                                                      ReadyTask.bpmn_id == NOTICE_POSTING.bpmn_id)))
    found: dict[int, Posting] = {}
    events = db.session.scalars(select(Event).where(Event.about_any("case", case_ids),
                                                    Event.bpmn_id == NOTICE_POSTING.bpmn_id,
                                                    Event.kind == "task_completed")
                                .order_by(Event.at, Event.id))
    for event in events:
        case_id = event.subject_id
        assert case_id is not None
        data = event.data or {}
        if case_id in waiting or data.get("notice_kind", kind.code) != kind.code:
            continue
        try:
            posting = Posting(date.fromisoformat(str(data["posted_on"])), int(data["period_days"]),
                              str(data.get("location") or ""))
        except (KeyError, TypeError, ValueError):
            continue
        found[case_id] = posting  # later events win
    return found
