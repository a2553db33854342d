"""一户一验收精准销号: the village applies, the town accepts, the county re-checks."""

from wtforms import DateField, DecimalField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from forms.base import TaskForm, decision_field, finite_number, not_after_today, opinion_field, required


class ClosureApplicationForm(TaskForm):
    title = "申报验收销号"

    applied_on = DateField("申报日期", validators=[required("请填写申报日期"), not_after_today])
    income_per_capita = DecimalField(
        "家庭年人均纯收入（元）", places=2,
        validators=[Optional(), finite_number, NumberRange(min=0, message="收入不能为负数")],
    )
    summary = TextAreaField(
        "风险消除情况（两不愁三保障）",
        validators=[required("请填写风险消除情况"), Length(max=5000, message="不超过 5000 字")],
    )


class TownAcceptanceForm(TaskForm):
    title = "镇初步验收"

    decision = decision_field([("accept", "验收合格，报县复核"), ("return", "验收不合格，退回继续帮扶")], "验收意见")
    opinion = opinion_field("验收意见说明")


class CountyRecheckForm(TaskForm):
    title = "县办复核确认"
    batch_decision = "confirm"

    decision = decision_field([("confirm", "复核达标，组织公告销号"), ("return", "未达标，退回继续帮扶")], "复核意见")
    opinion = opinion_field("复核意见说明")
