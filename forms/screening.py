"""一月一精准排查 / 一月一精准评估: the village team's monthly screening and assessment meeting."""

from typing import Any

from wtforms import DateField, IntegerField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from forms.base import TaskForm, choices, not_after_today, required


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ScreeningForm(TaskForm):
    title = "逐户排查并登记风险户"

    households_checked = IntegerField(
        "本月已排查户数",
        validators=[required("请填写本月已排查户数"), NumberRange(min=0, message="户数不能为负数")],
        description="本村已脱贫户和非贫困户逐户逐人排查的户数",
    )
    note = TextAreaField("排查情况说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])

    def validate_households_checked(self, field: Any) -> None:
        if field.data is None:
            return
        if field.data > self.context.households_total:
            raise ValidationError(f"排查户数不能超过本村监测范围内的户数（{self.context.households_total} 户）")
        if field.data < self.context.registered_count:
            raise ValidationError(f"排查户数不能少于已登记的风险户数（{self.context.registered_count} 户）")


class AssessmentForm(TaskForm):
    title = "召开评估会议确定重点帮扶户"

    meeting_date = DateField("会议日期", validators=[required("请填写会议日期"), not_after_today])
    attendees = StringField("参会人员", validators=[required("请填写参会人员"), Length(max=500)])
    minutes = TextAreaField("会议研判情况（纪要）", validators=[required("请填写会议纪要"), Length(max=5000)])
    key_assistance = MultiCheckboxField(
        "需要重点帮扶的风险户（报镇认定）", coerce=int, validate_choice=True, choices=[]
    )

    def bind_context(self) -> None:
        self.key_assistance.choices = choices(self.context.registrations)
