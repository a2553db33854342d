"""风险消除 (risk elimination) of a monitored household: the village team's home check against the criteria, 民主评议,
乡镇审核 and 县级审定. A household is put forward only when every criterion is met; the form names each one that
is not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.eliminations.criteria import (
    Criterion,
    guarantee_criterion,
    income_criteria,
    labour_criterion,
    new_risk_criterion,
    original_risk_criterion,
)
from app.leads.income import INCOME_TYPES, assess
from app.vocab import GUARANTEE_ITEMS
from forms.base import RequiredWhen, TaskForm, choices, decision_field, not_after_today, opinion_field, required
from forms.identification import ReviewMeetingForm, TownReviewForm
from forms.leads import HouseholdIncomeForm
from forms.screening import MultiCheckboxField


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


class EliminationCheckForm(HouseholdIncomeForm):
    """风险消除入户核实: the household's income over the last 12 months against the year's line, how long it has stood
    above it, the original risk, 两不愁三保障 and water, any new risk, who can work; then apply for elimination or
    keep helping."""

    title = "风险消除入户核实"

    checked_on = DateField("入户核实日期", validators=[required("请填写入户核实日期"), not_after_today])
    verifiers = StringField("参加核实人员", validators=[required("请填写参加核实的人员"),
                                                      Length(max=200, message="不超过 200 字")])
    months_above_line = IntegerField("收入稳定高于监测标准的月数", validators=[
        InputRequired("请填写收入稳定高于监测标准的月数"), NumberRange(min=0, max=120, message="应为 0 到 120 个月")])
    guarantee_gaps = MultiCheckboxField("两不愁三保障及饮水安全存在问题的项目（都有保障则不选）",
                                        choices=choices(GUARANTEE_ITEMS.items()))
    risk_resolved = RadioField("原有致贫返贫风险是否已消除", choices=choices([("yes", "已消除"), ("no", "尚未消除")]),
                               validators=[required("请选择原有风险是否已消除")])
    new_risk = RadioField("是否出现新的返贫致贫风险", choices=choices([("no", "否"), ("yes", "是")]),
                          validators=[required("请选择是否出现新的风险")])
    unable_to_work = MultiCheckboxField("丧失劳动能力的家庭成员（重病、重残等，没有则不选）", choices=[],
                                        validate_choice=False)
    findings = TextAreaField("核实情况", validators=[required("请填写核实情况"),
                                                 Length(max=5000, message="不超过 5000 字")])
    decision = decision_field([("apply", "符合风险消除条件，提交民主评议"),
                               ("continue", "暂不符合，继续帮扶（调整帮扶措施）")], "核实结论")

    def bind_context(self) -> None:
        super().bind_context()
        self.unable_to_work.choices = choices((str(k), v) for k, v in self.context.members)

    def validate_unable_to_work(self, field: Any) -> None:
        known = {str(mid) for mid, _label in self.context.members}
        if any(str(v) not in known for v in field.data or []):
            raise ValidationError("所选成员不是该户的家庭成员")

    def per_capita_after_spending(self) -> Decimal:
        incomes = [{kind: _amount(getattr(entry.form, kind).data) for kind in INCOME_TYPES}
                   for entry in self.members]
        spending = _amount(self.medical_spending.data) + _amount(self.schooling_spending.data)
        return assess(incomes, _amount(self.business_costs.data), spending, int(self.persons.data or 1),
                      self.context.monitoring_line, "").per_capita_after_spending

    def unmet(self) -> list[Criterion]:
        """The criteria this check fails, the case's own records' first (months monitored, measures done)."""
        unable = [int(v) for v in self.unable_to_work.data or []]
        found = [*income_criteria(self.per_capita_after_spending(), self.context.monitoring_line,
                                  self.context.today.year, int(self.months_above_line.data or 0),
                                  self.context.income_months_required),
                 original_risk_criterion(self.risk_resolved.data == "yes"),
                 guarantee_criterion(list(self.guarantee_gaps.data or [])),
                 new_risk_criterion(self.new_risk.data == "yes"),
                 labour_criterion(self.context.working_age_members, unable)]
        return [c for c in found if not c.met]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not valid or self.decision.data != "apply":
            return valid
        refusals = [message for _key, message in self.context.elimination_refusals]
        refusals += [c.message for c in self.unmet()]
        if refusals:
            self.decision.errors = [*self.decision.errors, *refusals]
            return False
        return True


class EliminationReviewForm(ReviewMeetingForm):
    title = "民主评议（风险消除）"

    decision = decision_field([("agree", "评议同意风险消除，在村内公示"), ("disagree", "评议不同意，继续帮扶")],
                              "评议结果")
    reason = TextAreaField("不同意的理由", validators=[
        RequiredWhen("decision", "disagree", "不同意风险消除的，请写明理由"),
        Length(max=2000, message="不超过 2000 字")])


class TownEliminationReviewForm(TownReviewForm):
    title = "乡镇审核（风险消除）"

    decision = decision_field([("pass", "审核通过，报县级审定"), ("return", "退回村，继续帮扶")], "审核意见")


class CountyEliminationForm(TaskForm):
    title = "县级审定（风险消除）"
    batch_decision = "approve"

    decision = decision_field([("approve", "审定风险消除，在村内公告"), ("return", "退回，继续帮扶")], "审定意见")
    document_no = StringField("审定文号", validators=[Optional(), Length(max=64, message="不超过 64 字")])
    opinion = opinion_field("审定意见说明")
