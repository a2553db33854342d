"""The base of every task form: Chinese messages, a context for choices, and JSON-native task data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from wtforms import Form, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError


@dataclass
class FormContext:
    """What a form needs to know about its case or screening; filled by the domain layer."""

    today: date
    households_total: int = 0
    registered_count: int = 0
    registrations: list[tuple[int, str]] = field(default_factory=list)
    households_unaccounted: int = 0  # households of the scope with no check yet
    # Registrations whose household already has a case in hand: why each may not be reported again.
    registrations_refused: dict[int, str] = field(default_factory=dict)
    cadres: list[tuple[int, str]] = field(default_factory=list)
    measures: list[tuple[int, str]] = field(default_factory=list)
    # The cadre may add measures while carrying them out: the task's diagram routes added measures (reads new_measures)
    may_add_measures: bool = False
    notice_kind: str = "publicity"  # publicity 公示 | announcement 公告
    min_notice_days: int = 5
    default_notice_days: int = 5
    authorisation_uploaded: bool = False  # a risk lead's signed 承诺授权书 is on file
    members: list[tuple[int, str]] = field(default_factory=list)  # the household's members, for 收支测算
    monitoring_line: Decimal | None = None  # the year's 监测范围 for the household's village
    proposed_category: str | None = None  # the monitoring category the income assessment suggests
    discovered_on: date | None = None  # the day the risk was found (nothing given before it)
    # Risk elimination: the criteria the case's own records already fail (criterion key → message), the members of
    # working age, and how many months the income must have stood above the line (a county setting).
    elimination_refusals: list[tuple[str, str]] = field(default_factory=list)
    working_age_members: list[int] = field(default_factory=list)
    income_months_required: int = 6


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms 3.3 takes options as SelectChoice objects."""
    return [SelectChoice(value, label) for value, label in pairs]


def required(message: str = "此项为必填项") -> DataRequired:
    return DataRequired(message=message)


def opinion_field(label: str = "意见") -> TextAreaField:
    return TextAreaField(label, validators=[required("请填写意见"), Length(max=2000, message="不超过 2000 字")])


def decision_field(options: list[tuple[str, str]], label: str = "处理意见") -> RadioField:
    return RadioField(label, choices=choices(options), validators=[required("请选择处理意见")])


class RequiredWhen:
    """The field must be filled when another field of the form has a value: the reason of a rejection, the date of
    the meeting that passed something. Put it before Optional(), which would end the checks of an empty field."""

    def __init__(self, other: str, value: str, message: str) -> None:
        self.other, self.value, self.message = other, value, message

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data.strip() if isinstance(field.data, str) else field.data
        if form[self.other].data == self.value and not data:
            field.errors[:] = []  # a blank date's own "not a date" says less than this
            raise StopValidation(self.message)


class FilledEntries:
    """A list of entries with at least `minimum` rows filled in (blank rows are ignored); described as required."""

    field_flags = {"required": True}

    def __init__(self, minimum: int, message: str) -> None:
        self.minimum, self.message = minimum, message

    def __call__(self, form: Any, field: Any) -> None:
        if sum(1 for entry in field if not entry.form.is_blank()) < self.minimum:
            raise StopValidation(self.message)


class AtMostEntries:
    """A list of at most `maximum` filled rows, refused with a message beyond it. (WTForms' own max_entries would
    drop the rows past it without a word.)"""

    def __init__(self, maximum: int, message: str) -> None:
        self.maximum, self.message = maximum, message

    def __call__(self, form: Any, field: Any) -> None:
        if sum(1 for entry in field if not entry.form.is_blank()) > self.maximum:
            raise StopValidation(self.message)


def add_blank_row(field: Any) -> None:
    """A list drawn as rows ends with one blank row, for a page used without script to add one more each time."""
    if not field.entries or not field.entries[-1].form.is_blank():
        field.append_entry()


def mark_entry_errors(field: Any, marks: list[tuple[Any, str]]) -> None:
    """Put each message on the entry field it is about (entry field, message) and make the list invalid: every
    message shows beside its own input, none in one line under the list."""
    for sub, message in marks:
        sub.errors.append(message)
    if marks or any(entry.errors for entry in field.entries):
        field.errors = [entry.errors for entry in field.entries]


def not_after_today(form: TaskForm, field: Any) -> None:
    if field.data and field.data > form.context.today:
        raise ValidationError("日期不能晚于今天")


def not_before_today(form: TaskForm, field: Any) -> None:
    if field.data and field.data < form.context.today:
        raise ValidationError("日期不能早于今天")


def finite_number(form: TaskForm, field: Any) -> None:
    """Refuse NaN, sNaN and Infinity, which a DecimalField parses as numbers (and sNaN breaks NumberRange)."""
    if isinstance(field.data, Decimal) and not field.data.is_finite():
        raise StopValidation("请填写有效的数字")


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "csrf_token"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class TaskForm(Form):
    """A user task's form. Field names are the task-data keys that gateways read (`decision`)."""

    title: ClassVar[str] = ""
    # The parts of FormContext that cost a query to fill (cadres, measures), read by this form only when named.
    context_needs: ClassVar[frozenset[str]] = frozenset()
    # The fields every entry of a list must fill (checked by the form's own list validator), for its description.
    required_entry_fields: ClassVar[dict[str, frozenset[str]]] = {}
    # Lists drawn as compact rows (a table), with 添加一项 and 删除 where script runs (static/js/rows.js).
    row_lists: ClassVar[frozenset[str]] = frozenset()
    # Fields the generic loop of the task page leaves out because page_template shows them its own way.
    shown_elsewhere: ClassVar[frozenset[str]] = frozenset()
    # A part of the task page drawn above the form (templates/tasks/…), or None.
    page_template: ClassVar[str | None] = None
    # The favourable decision (a value of `decision`) that may be given to several cases at once with one opinion
    # (批量审批); None: one case at a time. A refusal or a return needs its own reason per case, so never those.
    batch_decision: ClassVar[str | None] = None

    class Meta:
        locales = ["zh"]

    def __init__(self, *args: Any, context: FormContext, **kwargs: Any) -> None:
        self.context = context
        super().__init__(*args, **kwargs)
        self.bind_context()

    def bind_context(self) -> None:
        """Set choices that depend on the case (cadres of the village, registered households…)."""

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own checks, then one for every text: no control characters (a NUL is refused by
        PostgreSQL and means nothing in a county's records anywhere), named on the field that holds it."""
        valid = super().validate(extra_validators)
        return refuse_control_characters(self) and valid

    def task_data(self) -> dict[str, Any]:
        return plain_data(self)

    @classmethod
    def describe(cls, context: FormContext) -> list[dict[str, Any]]:
        """The fields as the API shows them: name, type, label, required (or required_when another field has a
        value), choices; a list's entry fields, and its entries as the form starts (e.g. the measures to report
        on, each with its label and values)."""
        form = cls(context=context)
        return [_describe_field(f, form) for f in form]

    def entry_label(self, name: str, entry: Any) -> str:
        """How an entry of the list `name` is named to people (a measure, a member); numbered by default."""
        return f"第 {int(entry.name.rsplit('-', 1)[-1]) + 1} 项"


# Tab, line feed and carriage return are text; the other C0 controls and DEL are not.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(form: Form) -> bool:
    """No control characters in any text of the form (a NUL is refused by PostgreSQL and means nothing in a
    county's records anywhere), named on the field that holds it. False when one was found."""
    clean = True
    for leaf in _leaf_fields(form):
        if isinstance(leaf.data, str) and CONTROL_CHARACTERS.search(leaf.data):
            leaf.errors = [*leaf.errors, "不能包含控制字符，请删除后重新填写"]
            clean = False
    return clean


def plain_data(form: Form) -> dict[str, Any]:
    """A form's data as JSON-native values (dates as ISO text), without its CSRF token."""
    return _plain(dict(form.data))


def _leaf_fields(fields: Any) -> Any:
    for one in fields:
        if hasattr(one, "entries"):  # FieldList
            yield from _leaf_fields(one.entries)
        elif isinstance(getattr(one, "form", None), Form):  # FormField
            yield from _leaf_fields(one.form)
        else:
            yield one


def _describe_field(f: Any, form: Any = None) -> dict[str, Any]:
    kind = {
        "RadioField": "choice",
        "SelectField": "choice",
        "SelectMultipleField": "multi_choice",
        "MultiCheckboxField": "multi_choice",
        "IntegerField": "integer",
        "DecimalField": "decimal",
        "DateField": "date",
        "TextAreaField": "text",
        "StringField": "string",
        "FieldList": "list",
        "HiddenField": "hidden",
    }.get(type(f).__name__, "string")
    info: dict[str, Any] = {
        "name": f.name,
        "type": kind,
        "label": str(f.label.text),
        "required": any(getattr(v, "field_flags", {}).get("required") for v in f.validators),
    }
    conditions = [{"field": v.other, "equals": v.value} for v in f.validators if isinstance(v, RequiredWhen)]
    if conditions:
        info["required_when"] = conditions[0]
    for v in f.validators:
        if isinstance(v, FilledEntries):
            info["min_filled"] = v.minimum
        if isinstance(v, AtMostEntries):
            info["max_entries"] = v.maximum
    if kind in ("choice", "multi_choice"):
        info["choices"] = [{"value": c.value, "label": str(c.label)} for c in f.choices or []]
    if kind == "list":
        info["min_entries"] = f.min_entries
        if f.max_entries is not None:
            info["max_entries"] = f.max_entries
        entry = f.unbound_field.args[0] if f.unbound_field.args else None
        if entry is not None:
            sub = entry(meta={"locales": ["zh"]})
            required = getattr(form, "required_entry_fields", {}).get(f.name, frozenset())
            info["item_fields"] = [dict(d, required=d["required"] or d["name"] in required)
                                   for d in (_describe_field(x) for x in sub)]
        # The entries as the form starts: what each one is about (e.g. the measure to report on) and its values.
        info["entries"] = [{"label": form.entry_label(f.name, e) if form is not None else "",
                            "values": _plain({k: v for k, v in e.data.items()} if isinstance(e.data, dict)
                                             else {"value": e.data})}
                           for e in f.entries]
    if kind == "date":
        info["format"] = "YYYY-MM-DD"
    return info
