"""The county's departments that send monthly lists (部门筛查预警), the fields each list carries, and the warning
rules the county starts with. Plain data: the saved column mapping of each department and the rules in force are
rows in the database (the county office edits them); this is only what a new county begins from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# A list's field: its key, label, kind (text, amount, date, month count, choice) and the header texts accepted.
TEXT, AMOUNT, DAY, NUMBER = "text", "amount", "date", "number"


@dataclass(frozen=True)
class ListField:
    key: str
    label: str
    kind: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


ID_NUMBER = ListField("id_number", "证件号码", TEXT, (
    "身份证号", "身份证号码", "公民身份号码", "证件号", "身份证件号码", "参保人身份证号", "救助对象身份证号"),
    required=True)
NAME = ListField("name", "姓名", TEXT, ("参保人姓名", "救助对象姓名", "人员姓名", "学生姓名"), required=True)


@dataclass(frozen=True)
class Department:
    code: str
    name: str  # as the county calls it today (a name is configuration: 扶贫办 became 乡村振兴局 …)
    aliases: tuple[str, ...]  # how a measure's responsible unit may name it
    fields: tuple[ListField, ...]
    what: str  # what its monthly list is

    @property
    def all_fields(self) -> tuple[ListField, ...]:
        return (NAME, ID_NUMBER, *self.fields)

    def field(self, key: str) -> ListField | None:
        return next((f for f in self.all_fields if f.key == key), None)


DEPARTMENTS: dict[str, Department] = {d.code: d for d in (
    Department("yibao", "县医疗保障局", ("医保局", "医疗保障局", "医保"), (
        ListField("total_cost", "医疗总费用", AMOUNT, ("总费用", "医疗费用总额")),
        ListField("reimbursed", "报销金额", AMOUNT, ("基本医保报销", "统筹支付", "报销合计")),
        ListField("out_of_pocket", "个人自付", AMOUNT, ("个人负担", "自付金额", "个人自付金额"), required=True),
        ListField("settled_on", "结算日期", DAY, ("出院日期", "结算时间")),
    ), "参保人员医疗费用经基本医保、大病保险、医疗救助报销后的个人自付情况"),
    Department("minzheng", "县民政局", ("民政局", "民政"), (
        ListField("assistance", "救助类别", TEXT, ("保障类别", "救助类型"), required=True),
        ListField("change", "变动情况", TEXT, ("变动类型", "状态变动"), required=True),
        ListField("changed_on", "变动日期", DAY, ("变动时间",)),
    ), "低保、特困供养人员的新增、退出和停发"),
    Department("yingji", "县应急管理局", ("应急管理局", "应急局", "应急"), (
        ListField("disaster", "灾害类型", TEXT, ("灾种",)),
        ListField("damage", "房屋受损程度", TEXT, ("受损程度", "房屋损毁情况"), required=True),
        ListField("occurred_on", "受灾日期", DAY, ("灾害发生日期",)),
    ), "自然灾害造成房屋倒塌、严重损坏的农户"),
    Department("renshe", "县人力资源和社会保障局", ("人社局", "人力资源和社会保障局", "人社"), (
        ListField("unemployed_since", "失业日期", DAY, ("失业时间", "离职日期"), required=True),
        ListField("employer", "原就业单位", TEXT, ("原单位",)),
    ), "失业登记人员（失业 3 个月仍未就业）"),
    Department("canlian", "县残疾人联合会", ("残联",), (
        ListField("disability", "残疾类别", TEXT, ("残疾类型",)),
        ListField("level", "残疾等级", TEXT, ("等级",)),
        ListField("certified_on", "发证日期", DAY, ("办证日期", "评定日期"), required=True),
    ), "新办残疾人证的人员"),
    Department("jiaoyu", "县教育和体育局", ("教育局", "教体局", "教育"), (
        ListField("school", "学校", TEXT, ("就读学校",)),
        ListField("status", "学籍状态", TEXT, ("在校状态", "状态"), required=True),
        ListField("changed_on", "变动日期", DAY, ("辍学日期", "变动时间")),
    ), "义务教育阶段辍学、休学学生"),
    Department("zhujian", "县住房和城乡建设局", ("住建局", "住房和城乡建设局", "住建"), (
        ListField("appraisal", "鉴定等级", TEXT, ("危房等级", "房屋安全等级"), required=True),
        ListField("appraised_on", "鉴定日期", DAY, ("鉴定时间",)),
    ), "农村住房安全性鉴定为 C 级、D 级危房的农户"),
)}


def department_for_unit(unit: str | None) -> str | None:
    """The county department a measure's responsible unit names (县医保局, 民政局 …), or None: a town's office
    (镇民政办) or any other unit is not one of them."""
    text = "".join(unicodedata.normalize("NFKC", unit or "").split())
    for department in DEPARTMENTS.values():
        for name in (department.name, *department.aliases):
            at = text.find(name)
            if at >= 0:
                return None if "镇" in text[:at] or "乡" in text[:at] else department.code
    return None
