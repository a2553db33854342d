"""一户一套精准措施 / 一户一人精准包抓: the measure plan, its filing and its execution."""

from typing import Any

from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.vocab import MEASURE_TYPES
from forms.base import TaskForm, choices, decision_field, opinion_field, required


class MeasureEntryForm(Form):
    class Meta:
        locales = ["zh"]
        csrf = False

    content = TextAreaField("措施内容", validators=[Optional(), Length(max=1000)])
    measure_type = SelectField("措施类型", choices=choices([("", "请选择"), *MEASURE_TYPES.items()]),
                               validate_choice=False)  # checked in MeasuresPlanForm, blank rows allowed
    responsible_unit = StringField("责任单位", validators=[Optional(), Length(max=128)])
    deadline = DateField("完成时限", validators=[Optional()])

    def is_blank(self) -> bool:
        return not any([(self.content.data or "").strip(), self.measure_type.data,
                        (self.responsible_unit.data or "").strip(), self.deadline.data])


class MeasuresPlanForm(TaskForm):
    title = "制定帮扶措施并确定包抓干部"
    context_needs = frozenset({"cadres"})

    measures = FieldList(FormField(MeasureEntryForm), label="帮扶措施", min_entries=3, max_entries=12)
    cadre_id = SelectField("包抓干部", coerce=int, validators=[required("请选择包抓干部")])

    def bind_context(self) -> None:
        self.cadre_id.choices = choices([(0, "请选择"), *self.context.cadres])

    def validate_measures(self, field: Any) -> None:
        filled = [entry.form for entry in field if not entry.form.is_blank()]
        if not filled:
            raise ValidationError("请至少制定一项帮扶措施")
        for number, entry in enumerate(filled, start=1):
            missing = [label for name, label in (("content", "措施内容"), ("measure_type", "措施类型"),
                                                 ("responsible_unit", "责任单位"), ("deadline", "完成时限"))
                       if not getattr(entry, name).data]
            if missing:
                raise ValidationError(f"第 {number} 项措施缺少：{'、'.join(missing)}")
            if entry.measure_type.data not in MEASURE_TYPES:
                raise ValidationError(f"第 {number} 项措施类型无效")
            if entry.deadline.data < self.context.today:
                raise ValidationError(f"第 {number} 项措施的完成时限不能早于今天")

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        data["measures"] = [m for m, entry in zip(data["measures"], self.measures, strict=True)
                            if not entry.form.is_blank()]
        return data


class CountyFilingForm(TaskForm):
    title = "县办备案"

    decision = decision_field([("file", "予以备案"), ("return", "退回修改措施")], "备案意见")
    opinion = opinion_field("备案意见说明")


class MeasureResultForm(Form):
    class Meta:
        locales = ["zh"]
        csrf = False

    measure_id = HiddenField("措施编号")
    completed_on = DateField("落实日期", validators=[Optional()])
    result = TextAreaField("落实情况", validators=[Optional(), Length(max=2000)])


class MeasuresExecutionForm(TaskForm):
    title = "落实帮扶措施"
    context_needs = frozenset({"measures"})

    results = FieldList(FormField(MeasureResultForm), label="措施落实情况", min_entries=0)

    def bind_context(self) -> None:
        if not self.results.entries:
            for measure_id, _label in self.context.measures:
                self.results.append_entry({"measure_id": str(measure_id)})

    def validate_results(self, field: Any) -> None:
        expected = {str(mid): label for mid, label in self.context.measures}
        seen = set()
        for entry in field:
            mid = str(entry.form.measure_id.data or "")
            if mid not in expected:
                raise ValidationError("措施与本户的帮扶计划不一致，请刷新页面后重试")
            seen.add(mid)
            if not entry.form.completed_on.data or not (entry.form.result.data or "").strip():
                raise ValidationError(f"请填写“{expected[mid]}”的落实日期和落实情况")
            if entry.form.completed_on.data > self.context.today:
                raise ValidationError("落实日期不能晚于今天")
        if seen != set(expected):
            raise ValidationError("每一项帮扶措施都要填写落实情况")

    def entry_label(self, name: str, entry: Any) -> str:
        """Each result entry is named by its measure."""
        return dict((str(k), v) for k, v in self.context.measures).get(str(entry.form.measure_id.data), "")


