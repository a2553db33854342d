"""一户一套精准措施 / 一户一人精准包抓: the measure plan, its filing and its execution."""

from typing import Any

from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.vocab import MEASURE_TYPES
from forms.base import FilledEntries, TaskForm, choices, decision_field, opinion_field, required


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

    measures = FieldList(FormField(MeasureEntryForm), label="帮扶措施", min_entries=3, max_entries=12,
                         validators=[FilledEntries(1, "请至少制定一项帮扶措施")])
    required_entry_fields = {"measures": frozenset({"content", "measure_type", "responsible_unit", "deadline"})}
    cadre_id = SelectField("包抓干部", coerce=int, validators=[required("请选择包抓干部")])

    def bind_context(self) -> None:
        self.cadre_id.choices = choices([(0, "请选择"), *self.context.cadres])

    def validate_measures(self, field: Any) -> None:
        check_measure_entries(field, self.context.today)

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        data["measures"] = filled_entries(data["measures"], self.measures)
        return data


def check_measure_entries(field: Any, today: Any) -> int:
    """The filled rows of a list of measures, each complete and valid (blank rows are ignored): how many."""
    filled = [entry.form for entry in field if not entry.form.is_blank()]
    for number, entry in enumerate(filled, start=1):
        missing = [label for name, label in (("content", "措施内容"), ("measure_type", "措施类型"),
                                             ("responsible_unit", "责任单位"), ("deadline", "完成时限"))
                   if not getattr(entry, name).data]
        if missing:
            raise ValidationError(f"第 {number} 项措施缺少：{'、'.join(missing)}")
        if entry.measure_type.data not in MEASURE_TYPES:
            raise ValidationError(f"第 {number} 项措施类型无效")
        if entry.deadline.data < today:
            raise ValidationError(f"第 {number} 项措施的完成时限不能早于今天")
    return len(filled)


def filled_entries(data: list[dict[str, Any]], field: Any) -> list[dict[str, Any]]:
    return [m for m, entry in zip(data, field, strict=True) if not entry.form.is_blank()]


class CountyFilingForm(TaskForm):
    title = "县办备案"
    batch_decision = "file"

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
    """The cadre reports on each measure not yet carried out. Where the diagram routes added measures (the county
    procedure: a case the town or county sent back from closure returns here, and assistance goes on with new
    measures, filed with the county office before they are carried out), new measures may be added as well."""

    title = "落实帮扶措施"
    context_needs = frozenset({"measures"})

    results = FieldList(FormField(MeasureResultForm), label="措施落实情况", min_entries=0)
    # Each listed measure is reported on (validate_results); an added measure is described whole.
    required_entry_fields = {"results": frozenset({"measure_id", "completed_on", "result"}),
                             "new_measures": frozenset({"content", "measure_type", "responsible_unit", "deadline"})}
    new_measures = FieldList(FormField(MeasureEntryForm), label="补充帮扶措施（报县办备案后落实）", min_entries=0,
                             max_entries=12)

    def bind_context(self) -> None:
        if not self.results.entries:
            for measure_id, _label in self.context.measures:
                self.results.append_entry({"measure_id": str(measure_id)})
        if not self.context.may_add_measures:
            del self.new_measures
        elif not self.new_measures.entries:  # two blank rows on the page; blank rows are ignored
            for _ in range(2):
                self.new_measures.append_entry()

    def validate_new_measures(self, field: Any) -> None:
        check_measure_entries(field, self.context.today)

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        if "new_measures" in data:
            data["new_measures"] = filled_entries(data["new_measures"], self.new_measures)
        return data

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
        """Each result entry is named by its measure; an added measure by its number."""
        if name == "new_measures":
            return f"补充措施 {int(entry.name.rsplit('-', 1)[-1]) + 1}"
        return dict((str(k), v) for k, v in self.context.measures).get(str(entry.form.measure_id.data), "")


