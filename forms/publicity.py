"""公示 / 公告 in the village: posting, the period, objections and the town's review of them."""

from datetime import datetime, time, timedelta
from typing import Any

from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, ValidationError

from forms.base import RequiredWhen, TaskForm, decision_field, not_after_today, opinion_field, required

CHINA_TZ_OFFSET = timedelta(hours=8)


class NoticePostingForm(TaskForm):
    title = "张贴公示公告"

    posted_on = DateField("张贴日期", validators=[required("请填写张贴日期"), not_after_today])
    period_days = IntegerField("公示天数", validators=[required("请填写公示天数")])
    location = StringField("张贴地点", validators=[required("请填写张贴地点"), Length(max=200)])
    content_note = TextAreaField(
        "公示内容说明",
        validators=[Length(max=2000)],
        description="公示内容不得包含身份证号、电话、银行账号和病情等隐私信息",
    )

    def bind_context(self) -> None:
        if self.period_days.data is None and not self.period_days.raw_data:
            self.period_days.data = self.context.default_notice_days

    def validate_period_days(self, field: Any) -> None:
        if field.data is not None and field.data < self.context.min_notice_days:
            raise ValidationError(f"公示期不得少于 {self.context.min_notice_days} 天")
        NumberRange(max=60, message="公示期不超过 60 天")(self, field)

    def task_data(self) -> dict[str, Any]:
        data = super().task_data()
        # The BPMN timer waits until the end of the period, counted from the posting date (China time).
        ends = datetime.combine(self.posted_on.data + timedelta(days=self.period_days.data), time())
        data["notice_ends_at"] = ends.isoformat() + "+08:00"
        data["notice_kind"] = self.context.notice_kind
        return data


class ObjectionRecordForm(TaskForm):
    title = "登记异议情况"

    decision = decision_field([("no_objection", "公示期内无异议"), ("objection", "收到异议，报镇复核")], "异议情况")
    objection_content = TextAreaField("异议内容", validators=[
        RequiredWhen("decision", "objection", "收到异议时请填写异议内容"), Length(max=5000, message="不超过 5000 字")])


class ObjectionReviewForm(TaskForm):
    title = "镇复核异议"

    decision = decision_field(
        [("uphold", "异议成立，退回镇重新认定（验收）"), ("dismiss", "异议不成立，继续办理")], "复核结论"
    )
    opinion = opinion_field("复核意见")
