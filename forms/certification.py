"""一月一精准认定: town certification group, town leadership meeting, county office approval."""

from typing import Any

from wtforms import DateField, RadioField, TextAreaField
from wtforms.validators import Length, ValidationError

from app.vocab import RISK_LEVELS
from forms.base import (
    RequiredWhen,
    TaskForm,
    choices,
    decision_field,
    not_after_today,
    opinion_field,
    required,
)


class TownCertificationForm(TaskForm):
    title = "镇认定工作组认定"

    decision = decision_field(
        [("certify", "认定为监测对象，报镇领导小组审议"), ("return", "退回驻村工作队补充材料"), ("reject", "不予认定")],
        "认定意见",
    )
    risk_level = RadioField("认定类别", choices=choices(RISK_LEVELS.items()), validate_choice=False,
                            validators=[RequiredWhen("decision", "certify", "认定为监测对象时请选择认定类别")])
    opinion = opinion_field("认定意见说明")

    def validate_risk_level(self, field: Any) -> None:
        if self.decision.data == "certify" and field.data not in RISK_LEVELS:
            raise ValidationError("认定为监测对象时请选择认定类别")
        if field.data and field.data not in RISK_LEVELS:
            raise ValidationError("认定类别无效")


class SupplementInformationForm(TaskForm):
    title = "补充核实材料"

    supplement = TextAreaField(
        "补充核实情况", validators=[required("请填写补充核实的情况"), Length(max=5000, message="不超过 5000 字")]
    )


class TownLeadershipReviewForm(TaskForm):
    title = "镇领导小组会议审议"

    decision = decision_field([("pass", "会议通过，报县审批"), ("return", "退回认定工作组重新认定")], "会议结果")
    meeting_date = DateField("会议日期", validators=[required("请填写会议日期"), not_after_today])
    opinion = opinion_field("会议意见")


class CountyApprovalForm(TaskForm):
    title = "县办审批"
    batch_decision = "approve"

    decision = decision_field(
        [("approve", "批准，组织村内公示"), ("return", "退回镇重新认定"), ("reject", "不予批准")], "审批意见"
    )
    opinion = opinion_field("审批意见说明")
