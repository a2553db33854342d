"""一户一套精准措施 / 一户一人精准包抓: the measure plan, its filing and its execution."""

from typing import Any

from wtforms import DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.vocab import MEASURE_TYPES
from forms.base import (
    AtMostEntries,
    FilledEntries,
    TaskForm,
    add_blank_row,
    choices,
    decision_field,
    mark_entry_errors,
    opinion_field,
    required,
)

# A plan has as many measures as the household needs (四(一) 一户一套精准措施); the cap only bounds a page.
MAX_MEASURES = 30
MEASURE_FIELDS = (("content", "请填写措施内容"), ("measure_type", "请选择措施类型"),
                  ("responsible_unit", "请填写责任单位"), ("deadline", "请填写完成时限"))


class MeasureEntryForm(Form):
    class Meta:
        locales = ["zh"]
        csrf = False

    content = TextAreaField("措施内容", validators=[Optional(), Length(max=1000)])
    measure_type = SelectField("措施类型", choices=choices([("", "请选择"), *MEASURE_TYPES.items()]),
                               validate_choice=False)  # checked in check_measure_entries, blank rows allowed
    responsible_unit = StringField("责任单位", validators=[Optional(), Length(max=128)])
    deadline = DateField("完成时限", validators=[Optional()])

    def is_blank(self) -> bool:
        typed_deadline = (self.deadline.raw_data or [""])[0] if self.deadline.raw_data else ""
        return not any([(self.content.data or "").strip(), self.measure_type.data,
                        (self.responsible_unit.data or "").strip(), self.deadline.data,
                        str(typed_deadline or "").strip()])


def measures_list(label: str, minimum: int) -> Any:
    validators: list[Any] = [AtMostEntries(MAX_MEASURES, f"帮扶措施最多 {MAX_MEASURES} 项")]
    if minimum:
        validators.insert(0, FilledEntries(minimum, "请至少制定一项帮扶措施"))
    return FieldList(FormField(MeasureEntryForm), label=label, min_entries=1 if minimum else 0,
                     validators=validators)


class MeasuresPlanForm(TaskForm):
    title = "制定帮扶措施并确定包抓干部"
    context_needs = frozenset({"cadres"})
    row_lists = frozenset({"measures"})

    measures = measures_list("帮扶措施", 1)
    required_entry_fields = {"measures": frozenset({"content", "measure_type", "responsible_unit", "deadline"})}
    cadre_id = SelectField("包抓干部", coerce=int, validators=[required("请选择包抓干部")])

    def bind_context(self) -> None:
        self.cadre_id.choices = choices([(0, "请选择"), *self.context.cadres])
        add_blank_row(self.measures)

    def validate_measures(self, field: Any) -> None:
        check_measure_entries(field, self.context.today)

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        data["measures"] = filled_entries(data["measures"], self.measures)
        return data


def check_measure_entries(field: Any, today: Any) -> int:
    """The filled rows of a list of measures, each complete and valid (blank rows are ignored): how many. Each
    problem is put on the field of the row it is about."""
    marks: list[tuple[Any, str]] = []
    filled = 0
    for entry in field.entries:
        row = entry.form
        if row.is_blank():
            continue
        filled += 1
        for name, message in MEASURE_FIELDS:
            sub = row[name]
            if not sub.errors and not (sub.data.strip() if isinstance(sub.data, str) else sub.data):
                marks.append((sub, message))
        if row.measure_type.data and row.measure_type.data not in MEASURE_TYPES:
            marks.append((row.measure_type, "措施类型无效"))
        if row.deadline.data and row.deadline.data < today:
            marks.append((row.deadline, "完成时限不能早于今天"))
    mark_entry_errors(field, marks)
    return filled


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

    def is_blank(self) -> bool:
        typed = (self.completed_on.raw_data or [""])[0] if self.completed_on.raw_data else ""
        return not (self.completed_on.data or str(typed or "").strip() or (self.result.data or "").strip())


class MeasuresExecutionForm(TaskForm):
    """The cadre carries out the plan's measures and records each one when it is done, on its own (a measure due
    next year does not hold up the one done today: app/cases/measures.py, POST …/measures/<id>). Assistance ends
    (the task is submitted) once every measure of the plan is recorded — before, or in this submit, as the API's
    `results` may do: the rulebook has the measures 全部落地见效 (五(二)) and the household applies for 销号 once
    assistance has brought it up to the standard (四(三)), so no measure of the filed plan is left unaccounted.
    Where the diagram routes added measures (the county procedure: a case the town or county sent back from
    closure returns here, and assistance goes on with new measures, filed with the county office before they are
    carried out), new measures may be added instead, and the measures not yet done stay open."""

    title = "落实帮扶措施"
    context_needs = frozenset({"measures"})
    row_lists = frozenset({"new_measures"})
    shown_elsewhere = frozenset({"results"})
    page_template = "tasks/_measure_records.html"

    results = FieldList(FormField(MeasureResultForm), label="措施落实情况", min_entries=0)
    # A listed measure is reported on whole (validate_results); an added measure is described whole.
    required_entry_fields = {"results": frozenset({"measure_id", "completed_on", "result"}),
                             "new_measures": frozenset({"content", "measure_type", "responsible_unit", "deadline"})}
    new_measures = measures_list("补充帮扶措施（报县办备案后落实）", 0)

    def bind_context(self) -> None:
        if not self.results.entries:
            for measure_id, _label in self.context.measures:
                self.results.append_entry({"measure_id": str(measure_id)})
        if not self.context.may_add_measures:
            del self.new_measures
        else:  # the measures typed so far and one blank row; blank rows are ignored
            add_blank_row(self.new_measures)

    def validate_new_measures(self, field: Any) -> None:
        check_measure_entries(field, self.context.today)

    def adds_measures(self) -> bool:
        return "new_measures" in self._fields and any(not e.form.is_blank() for e in self.new_measures.entries)

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        data["results"] = [r for r, entry in zip(data["results"], self.results, strict=True)
                           if not entry.form.is_blank()]
        if "new_measures" in data:
            data["new_measures"] = filled_entries(data["new_measures"], self.new_measures)
        return data

    def validate_results(self, field: Any) -> None:
        """Each result given is whole and not after today; without added measures, every measure not recorded
        before is reported here (on the page: recorded one by one before the submit)."""
        expected = {str(mid): label for mid, label in self.context.measures}
        marks: list[tuple[Any, str]] = []
        reported, entries = set(), {}
        for entry in field.entries:
            row = entry.form
            mid = str(row.measure_id.data or "")
            if mid not in expected:
                raise ValidationError("措施与本户的帮扶计划不一致，请刷新页面后重试")
            entries[mid] = row
            if row.is_blank():
                continue
            if not row.completed_on.data and not row.completed_on.errors:
                marks.append((row.completed_on, "请填写落实日期"))
            if not (row.result.data or "").strip():
                marks.append((row.result, "请填写落实情况"))
            if row.completed_on.data and row.completed_on.data > self.context.today:
                marks.append((row.completed_on, "落实日期不能晚于今天"))
            reported.add(mid)
        if not marks and not any(e.errors for e in field.entries) and not self.adds_measures():
            missing = [mid for mid in expected if mid not in reported]
            marks += [(entries[mid].result, "尚未登记落实情况") for mid in missing if mid in entries]
            unlisted = [expected[mid] for mid in missing if mid not in entries]
            if unlisted:
                raise ValidationError(f"以下措施尚未登记落实情况：{'、'.join(unlisted)}")
        mark_entry_errors(field, marks)

    def entry_label(self, name: str, entry: Any) -> str:
        """Each result entry is named by its measure; an added measure by its number."""
        if name == "new_measures":
            return f"补充措施 {int(entry.name.rsplit('-', 1)[-1]) + 1}"
        return dict((str(k), v) for k, v in self.context.measures).get(str(entry.form.measure_id.data), "")
