"""The national mechanism's task forms for a risk lead."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.vocab import GUARANTEE_ITEMS
from forms.base import RequiredWhen, TaskForm, choices, decision_field, finite_number, not_after_today, required
from forms.screening import MultiCheckboxField


class LeadVerificationForm(TaskForm):
    """入户核实: the village team visits the household, checks 两不愁三保障 and drinking water, records what it found
    and whether the risk is real; the household's signed 承诺授权书 must be uploaded on the task page first."""

    title = "入户核实"
    context_needs = frozenset({"authorisation_uploaded"})

    visited_on = DateField("入户日期", validators=[required("请填写入户日期"), not_after_today])
    verifiers = StringField("参加核实人员", validators=[required("请填写参加核实的人员"),
                                                      Length(max=200, message="不超过 200 字")])
    guarantee_gaps = MultiCheckboxField("两不愁三保障及饮水安全存在问题的项目（都有保障则不选）",
                                        choices=choices(GUARANTEE_ITEMS.items()))
    findings = TextAreaField("核实情况", validators=[required("请填写核实情况"),
                                                 Length(max=5000, message="不超过 5000 字")])
    decision = decision_field([("confirmed", "风险属实，进入认定"), ("not_confirmed", "风险不属实，不纳入监测")],
                              "核实结论")
    reason = TextAreaField("不属实的理由", validators=[
        RequiredWhen("decision", "not_confirmed", "风险不属实的，请写明理由（将告知申报人并记入户档案）"),
        Length(max=2000, message="不超过 2000 字")])

    def validate_decision(self, field: Any) -> None:
        if not self.context.authorisation_uploaded:
            raise ValidationError("请先上传户主签字的《承诺授权书》（照片或 PDF），再提交核实结论")


def _cents(form: Any, field: Any) -> None:
    if isinstance(field.data, Decimal) and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("金额最多两位小数")


def money_field(label: str) -> DecimalField:
    return DecimalField(label, places=2, default=Decimal(0),
                        validators=[Optional(), finite_number,
                                    NumberRange(min=0, max=10_000_000, message="应为 0 到 1000 万之间的金额（元）"),
                                    _cents])


class MemberIncomeForm(Form):
    class Meta:
        locales = ["zh"]
        csrf = False

    member_id = HiddenField("成员编号")
    wage = money_field("工资性收入（元）")
    business = money_field("经营性收入（元）")
    property = money_field("财产性收入（元）")
    transfer = money_field("转移性收入（元）")


class HouseholdIncomeForm(TaskForm):
    """A household's income over the last 12 months: each member's by type, one entry per member of the registry,
    the business costs and the eligible out-of-pocket spending (合规自付支出). 收支测算 and the elimination check
    ask the same."""

    context_needs = frozenset({"members", "monitoring_line"})

    members = FieldList(FormField(MemberIncomeForm), label="家庭成员收入（近 12 个月）", min_entries=0)
    persons = IntegerField("共同生活人口（人）", validators=[InputRequired("请填写共同生活人口"),
                                                        NumberRange(min=1, max=30, message="应为 1 到 30 人")])
    business_costs = money_field("家庭生产经营支出（元）")
    medical_spending = money_field("合规自付医疗支出（元）")
    schooling_spending = money_field("合规自付教育支出（元）")

    def bind_context(self) -> None:
        if not self.members.entries:
            for member_id, _label in self.context.members:
                self.members.append_entry({"member_id": str(member_id)})
        if self.persons.data is None and not self.persons.raw_data:
            self.persons.data = len(self.context.members) or None

    def validate_members(self, field: Any) -> None:
        expected = {str(mid) for mid, _label in self.context.members}
        given = [str(entry.form.member_id.data or "") for entry in field]
        if sorted(given) != sorted(expected):
            raise ValidationError("家庭成员与户籍信息不一致，请刷新页面后重试")

    def entry_label(self, name: str, entry: Any) -> str:
        return dict((str(k), v) for k, v in self.context.members).get(str(entry.form.member_id.data), "")


class IncomeAssessmentForm(HouseholdIncomeForm):
    """收支测算: each member's income by type over the 12 months ending with last month, the household's business
    costs and eligible out-of-pocket spending; the result is weighed against the year's monitoring line."""

    title = "收支测算"

    note = TextAreaField("测算说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])

    def validate_members(self, field: Any) -> None:
        super().validate_members(field)
        if self.context.monitoring_line is None:
            raise ValidationError(f"{self.context.today.year} 年的监测标准尚未登记，请县办在“县级设置”中登记后再测算")
