"""The national mechanism's identification (识别认定) of a household whose risk was verified: 民主评议 in the village,
乡镇审核, 县级审定; and the measures a village gives at once on the fast path (先帮扶后认定)."""

from __future__ import annotations

from typing import Any

from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.leads.income import MONITORING_CATEGORIES
from app.vocab import MEASURE_TYPES
from forms.base import RequiredWhen, TaskForm, choices, decision_field, not_after_today, opinion_field, required


class ReviewMeetingForm(TaskForm):
    """民主评议: a meeting of villager representatives, the first secretary and the work team, with its sign-in
    sheet and minutes (the photos and the signed sheet go with the case's attachments)."""

    held_on = DateField("评议日期", validators=[required("请填写评议会议日期"), not_after_today])
    place = StringField("会议地点", validators=[required("请填写会议地点"), Length(max=200, message="不超过 200 字")])
    attendees = TextAreaField("参会人员（村民代表、第一书记、驻村工作队等）",
                              validators=[required("请填写参会人员"), Length(max=2000, message="不超过 2000 字")])
    attendance = IntegerField("参会人数", validators=[required("请填写参会人数"),
                                                   NumberRange(min=3, max=500, message="参会人数应为 3 到 500 人")])
    minutes = TextAreaField("会议记录（评议情况和表决结果）",
                            validators=[required("请填写会议记录"), Length(max=5000, message="不超过 5000 字")])


class IdentificationReviewForm(ReviewMeetingForm):
    """民主评议 of a verified household: propose it for monitoring, with its category, or not, with the reason."""

    title = "民主评议"

    decision = decision_field([("propose", "评议通过，拟纳入监测，在村内公示"),
                               ("not_propose", "评议不通过，不纳入监测")], "评议结果")
    category = RadioField("监测对象类型", choices=choices(MONITORING_CATEGORIES.items()), validate_choice=False,
                          description="按收支测算结果建议，评议时确定")
    reason = TextAreaField("不纳入的理由", validators=[
        RequiredWhen("decision", "not_propose", "不纳入监测的，请写明理由（将记入户档案并告知农户）"),
        Length(max=2000, message="不超过 2000 字")])

    def bind_context(self) -> None:
        if not self.category.raw_data and self.context.proposed_category:
            self.category.data = self.context.proposed_category

    def validate_category(self, field: Any) -> None:
        if self.decision.data == "propose" and field.data not in MONITORING_CATEGORIES:
            raise ValidationError("拟纳入监测时请选择监测对象类型")
        if field.data and field.data not in MONITORING_CATEGORIES:
            raise ValidationError("监测对象类型无效")


class TownReviewForm(TaskForm):
    """乡镇审核: the town certification group's opinion, passed by the town's party committee (or leadership group)
    meeting, whose date is asked when it passes. Subclasses say what may be decided."""

    meeting_date = DateField("乡镇党委会（领导小组会议）日期", validators=[
        RequiredWhen("decision", "pass", "审核通过的，请填写乡镇党委会（领导小组会议）日期"), Optional(),
        not_after_today])
    opinion = opinion_field("审核意见说明")


class TownIdentificationReviewForm(TownReviewForm):
    title = "乡镇审核"

    decision = decision_field([("pass", "审核通过，报县级审定"), ("return", "退回村重新评议"),
                               ("reject", "不予纳入监测")], "审核意见")


class CountyIdentificationForm(TaskForm):
    title = "县级审定"
    batch_decision = "approve"

    decision = decision_field([("approve", "审定纳入监测，在村内公告结果"), ("return", "退回乡镇重新审核"),
                               ("reject", "不予纳入监测")], "审定意见")
    document_no = StringField("审定文号", validators=[Optional(), Length(max=64, message="不超过 64 字")])
    opinion = opinion_field("审定意见说明")


class FirstAidEntryForm(Form):
    class Meta:
        locales = ["zh"]
        csrf = False

    content = TextAreaField("措施内容", validators=[Optional(), Length(max=1000)])
    measure_type = SelectField("措施类型", choices=choices([("", "请选择"), *MEASURE_TYPES.items()]),
                               validate_choice=False)  # checked in FirstAidForm, blank rows allowed
    responsible_unit = StringField("责任单位", validators=[Optional(), Length(max=128)])
    given_on = DateField("落实日期", validators=[Optional()])

    def is_blank(self) -> bool:
        return not any([(self.content.data or "").strip(), self.measure_type.data,
                        (self.responsible_unit.data or "").strip(), self.given_on.data])


class FirstAidForm(TaskForm):
    """先帮扶后认定: what the village gave the household at once (临时救助, a roof, a loan of grain …), recorded as
    carried out; the identification runs alongside and these measures stay on record whatever its outcome."""

    title = "先行落实帮扶措施"

    measures = FieldList(FormField(FirstAidEntryForm), label="已先行落实的帮扶措施", min_entries=2, max_entries=12)
    note = TextAreaField("情况说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])

    def validate_measures(self, field: Any) -> None:
        filled = [entry.form for entry in field if not entry.form.is_blank()]
        if not filled:
            raise ValidationError("请至少填写一项已先行落实的帮扶措施")
        earliest = self.context.discovered_on
        for number, entry in enumerate(filled, start=1):
            missing = [label for name, label in (("content", "措施内容"), ("measure_type", "措施类型"),
                                                 ("responsible_unit", "责任单位"), ("given_on", "落实日期"))
                       if not getattr(entry, name).data]
            if missing:
                raise ValidationError(f"第 {number} 项措施缺少：{'、'.join(missing)}")
            if entry.measure_type.data not in MEASURE_TYPES:
                raise ValidationError(f"第 {number} 项措施类型无效")
            if entry.given_on.data > self.context.today:
                raise ValidationError(f"第 {number} 项措施的落实日期不能晚于今天")
            if earliest is not None and entry.given_on.data < earliest:
                raise ValidationError(f"第 {number} 项措施的落实日期不能早于发现风险的日期（{earliest.isoformat()}）")

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        data["measures"] = [m for m, entry in zip(data["measures"], self.measures, strict=True)
                            if not entry.form.is_blank()]
        return data
