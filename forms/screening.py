"""一月一精准排查 / 一月一精准评估: the village team's monthly screening and assessment meeting."""

from datetime import date
from typing import Any

from wtforms import (
    DateField,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.vocab import CHECK_OUTCOMES, GUARANTEE_ITEMS, NOT_CHECKED_REASONS, RISK_TYPES
from forms.base import TaskForm, choices, not_after_today, plain_data, refuse_control_characters, required

# The six situations of the rulebook's 二(一)–(六), as a household check asks them.
RISK_SITUATIONS = {key: f"{label}导致返贫或致贫" for key, label in RISK_TYPES.items()}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ScreeningForm(TaskForm):
    title = "逐户排查并登记风险户"

    note = TextAreaField("排查情况说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # 逐户逐人: every household of the scope has its check this month, or the reason it could not be checked.
        missing = self.context.households_unaccounted
        if missing > 0:
            self.note.errors = [*self.note.errors,
                                f"还有 {missing} 户未排查：请逐户登记排查情况，未能入户的请说明原因后再提交"]
            return False
        return valid


class HouseholdCheckForm(Form):
    """One household's check this month, as the village team records it at the door (a phone form)."""

    class Meta:
        locales = ["zh"]

    outcome = RadioField("排查情况", choices=choices(CHECK_OUTCOMES.items()), default="checked",
                         validators=[required("请选择是否已入户排查")])
    visited_on = DateField("入户日期", validators=[Optional()])
    visitors = StringField("参加排查人员", validators=[Length(max=200, message="不超过 200 字")])
    risks = MultiCheckboxField("存在的返贫致贫风险（二(一)–(六)）", choices=choices(RISK_SITUATIONS.items()))
    medical_out_of_pocket = IntegerField(
        "三重保障后个人自负医疗费用（元）", validators=[Optional(), NumberRange(min=0, max=10_000_000,
                                                                   message="请填写 0 至 1000 万之间的金额")])
    months_without_work = IntegerField(
        "失业未就业月数", validators=[Optional(), NumberRange(min=0, max=120, message="请填写 0 至 120 之间的月数")])
    risk_detail = TextAreaField("风险情况说明", validators=[Length(max=1000, message="不超过 1000 字")])
    guarantee_gaps = MultiCheckboxField("未保障的项目（两不愁三保障及饮水安全）",
                                        choices=choices(GUARANTEE_ITEMS.items()))
    not_checked_reason = SelectField("未能排查的原因", choices=choices([("", "请选择"), *NOT_CHECKED_REASONS.items()]),
                                     validate_choice=False)  # checked below, and only when it applies
    not_checked_note = StringField("原因说明", validators=[Length(max=200, message="不超过 200 字")])
    note = TextAreaField("备注", validators=[Length(max=2000, message="不超过 2000 字")])

    def __init__(self, *args: Any, today: date, month_start: date, **kwargs: Any) -> None:
        self.today = today
        self.month_start = month_start
        super().__init__(*args, **kwargs)

    @property
    def checked(self) -> bool:
        return self.outcome.data == "checked"

    def validate_visited_on(self, field: Any) -> None:
        if self.checked and field.data is not None:
            if field.data > self.today:
                raise ValidationError("入户日期不能晚于今天")
            if field.data < self.month_start:
                raise ValidationError("入户日期应在本月排查期内")

    def validate_visitors(self, field: Any) -> None:
        if self.checked and not (field.data or "").strip():
            raise ValidationError("请填写参加排查的人员")

    def validate_risk_detail(self, field: Any) -> None:
        if self.checked and self.risks.data and not (field.data or "").strip():
            raise ValidationError("存在风险时请写明具体情况（将登记进花名册）")

    def validate_not_checked_reason(self, field: Any) -> None:
        if not self.checked and field.data not in NOT_CHECKED_REASONS:
            raise ValidationError("未能排查时请选择原因")
        if field.data and field.data not in NOT_CHECKED_REASONS:
            raise ValidationError("原因无效")

    def validate_not_checked_note(self, field: Any) -> None:
        if not self.checked and self.not_checked_reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("选择“其他原因”时请说明")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # Required only in some answers: checked here, as Optional() ends a field's own checks when it is empty.
        risks = self.risks.data or []
        for needed, field, message in (
                (self.checked, self.visited_on, "请填写入户日期"),
                (self.checked and "major_illness" in risks, self.medical_out_of_pocket,
                 "因重大疾病存在风险时，请填写三重保障后个人自负的医疗费用"),
                (self.checked and "unstable_employment" in risks, self.months_without_work,
                 "因就业不稳存在风险时，请填写失业未就业的月数")):
            if needed and field.data is None and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return refuse_control_characters(self) and valid

    def check_data(self) -> dict[str, Any]:
        return plain_data(self)


class AssessmentForm(TaskForm):
    title = "召开评估会议确定重点帮扶户"

    meeting_date = DateField("会议日期", validators=[required("请填写会议日期"), not_after_today])
    attendees = StringField("参会人员", validators=[required("请填写参会人员"), Length(max=500)])
    minutes = TextAreaField("会议研判情况（纪要）", validators=[required("请填写会议纪要"), Length(max=5000)])
    key_assistance = MultiCheckboxField(
        "需要重点帮扶的风险户（报镇认定）", coerce=int, validate_choice=True, choices=[]
    )

    context_needs = frozenset({"registrations_refused"})

    def bind_context(self) -> None:
        self.key_assistance.choices = choices(self.context.registrations)

    def validate_key_assistance(self, field: Any) -> None:
        refused = [self.context.registrations_refused[r] for r in field.data or []
                   if r in self.context.registrations_refused]
        if refused:
            raise ValidationError("；".join(refused))
