"""A household's record under the national mechanism, in the order things happened: each risk lead and how it
was found, the home verification, the income assessment against the line, the review meetings, the measures
given first, the county's decision (or the reason it was not identified), the elimination checks, the elimination
and any reversal. For the household file; read from the records, never from workflow state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.clock import to_china
from app.eliminations.criteria import LABELS
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import LEAD_CHANNELS, NATIONAL_RISK_TYPES
from app.models import (
    Case,
    EliminationCheck,
    EliminationReversal,
    IncomeAssessment,
    LeadVerification,
    Measure,
    ReviewMeeting,
    RiskLead,
)
from app.vocab import GUARANTEE_ITEMS


@dataclass(frozen=True)
class MonitoringRecord:
    on: date
    order: int  # within a day: the order the steps take
    kind: str  # lead | verification | assessment | meeting | first_aid | identified | not_identified | check | …
    title: str
    detail: str
    case_id: int | None = None
    lead_id: int | None = None


def _money(value: object) -> str:
    return f"{value:.2f}" if value is not None else "—"


def monitoring_records(household_id: int) -> list[MonitoringRecord]:
    records: list[MonitoringRecord] = []
    leads = list(db.session.scalars(select(RiskLead).where(RiskLead.household_id == household_id)))
    lead_ids = [lead.id for lead in leads]
    for lead in leads:
        types = "、".join(NATIONAL_RISK_TYPES.get(t, t) for t in lead.risk_types)
        records.append(MonitoringRecord(lead.discovered_on, 0, "lead", f"风险线索 {lead.receipt_no}",
                                        f"{LEAD_CHANNELS.get(lead.channel, lead.channel)}：{types}。{lead.description}",
                                        lead_id=lead.id))
    if lead_ids:
        for v in db.session.scalars(select(LeadVerification).where(LeadVerification.lead_id.in_(lead_ids))):
            gaps = "、".join(GUARANTEE_ITEMS.get(g, g) for g in v.guarantee_gaps) or "两不愁三保障及饮水安全均有保障"
            verdict = "风险属实" if v.confirmed else f"风险不属实：{v.reason}"
            records.append(MonitoringRecord(v.visited_on, 1, "verification", "入户核实",
                                            f"{v.verifiers}；{gaps}；{verdict}", lead_id=v.lead_id))
        for a in db.session.scalars(select(IncomeAssessment).where(IncomeAssessment.lead_id.in_(lead_ids))):
            where = "在监测范围内" if a.within_line else "高于监测标准"
            records.append(MonitoringRecord(
                to_china(a.recorded_at).date(), 2, "assessment", "收支测算",
                f"{a.period_from}至{a.period_to} 人均纯收入 {_money(a.per_capita_net)} 元，监测标准 "
                f"{_money(a.line_amount)} 元，{where}；建议 {MONITORING_CATEGORIES.get(a.proposed_category, '')}",
                lead_id=a.lead_id))
    cases = list(db.session.scalars(select(Case).where(Case.household_id == household_id,
                                                       Case.procedure == "national")))
    case_ids = [c.id for c in cases]
    for case in cases:
        if case.identified_on:
            category = MONITORING_CATEGORIES.get(case.category or "", "")
            records.append(MonitoringRecord(case.identified_on, 5, "identified", "县级审定纳入监测",
                                            f"监测对象类型：{category}", case_id=case.id))
        if case.status == "rejected" and case.closed_at:
            source = next((one for one in leads if one.case_id == case.id), None)
            records.append(MonitoringRecord(to_china(case.closed_at).date(), 5, "not_identified", "未纳入监测",
                                            source.outcome_reason if source else "", case_id=case.id))
        if case.eliminated_on:
            records.append(MonitoringRecord(case.eliminated_on, 8, "eliminated", "标注风险消除",
                                            "农户及其档案保留在系统中", case_id=case.id))
    if case_ids:
        for m in db.session.scalars(select(ReviewMeeting).where(ReviewMeeting.case_id.in_(case_ids))):
            what = "民主评议（识别）" if m.purpose == "identification" else "民主评议（风险消除）"
            result = {"propose": "拟纳入监测", "not_propose": "不纳入监测", "agree": "同意风险消除",
                      "disagree": "不同意风险消除"}.get(m.decision, m.decision)
            if m.category:
                result += f"，{MONITORING_CATEGORIES.get(m.category, m.category)}"
            records.append(MonitoringRecord(m.held_on, 3 if m.purpose == "identification" else 7, "meeting", what,
                                            f"{m.attendance} 人参加；{result}" + (f"：{m.reason}" if m.reason else ""),
                                            case_id=m.case_id))
        for measure in db.session.scalars(select(Measure).where(Measure.case_id.in_(case_ids), Measure.first_aid)):
            given = measure.completed_on or measure.deadline
            what = f"{measure.content}（{measure.responsible_unit}）"
            records.append(MonitoringRecord(given, 4, "first_aid", "先行帮扶措施", what, case_id=measure.case_id))
        for c in db.session.scalars(select(EliminationCheck).where(EliminationCheck.case_id.in_(case_ids))):
            unmet = [LABELS.get(k["key"], k["key"]) for k in c.criteria if not k.get("met")]
            verdict = "申请风险消除" if c.decision == "apply" else "继续帮扶"
            if unmet:
                verdict += f"；未满足：{'、'.join(unmet)}"
            records.append(MonitoringRecord(c.checked_on, 6, "check", "风险消除入户核实",
                                            f"扣除合规自付支出后人均纯收入 {_money(c.per_capita_after_spending)} 元；"
                                            f"{verdict}", case_id=c.case_id))
        for r in db.session.scalars(select(EliminationReversal).where(EliminationReversal.case_id.in_(case_ids))):
            records.append(MonitoringRecord(r.reverted_on, 9, "reverted", "回退风险消除",
                                            f"{r.eliminated_on} 的风险消除已回退：{r.reason}", case_id=r.case_id))
    records.sort(key=lambda r: (r.on, r.order))
    return records
