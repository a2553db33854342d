"""Controlled vocabularies of the rulebook, with the Chinese wording the annexes use."""

RISK_TYPES: dict[str, str] = {
    "major_illness": "因重大疾病",
    "natural_disaster": "因自然灾害",
    "accident": "因意外变故",
    "industry_failure": "因产业失败",
    "unstable_employment": "因就业不稳",
    "other": "其它原因",
}

HOUSEHOLD_KINDS: dict[str, str] = {"lifted": "已脱贫户", "non_poor": "非贫困户"}

RISK_LEVELS: dict[str, str] = {
    "at_risk": "返贫（致贫）风险户",
    "returned": "返贫户（新致贫户）",
}

CASE_STATUSES: dict[str, str] = {
    "certification": "认定中",
    "publicity": "公示中",
    "assistance": "帮扶中",
    "closure": "验收中",
    "announcement": "销号公告中",
    "closed": "已销号",
    "rejected": "不予认定",
    # The national mechanism's phases (national_case.bpmn): 民主评议 → 村内公示 → 乡镇审核 → 县级审定 → 结果公告,
    # then assistance under monitoring, and 风险消除 with its own review, publicity and announcement.
    "review_publicity": "拟纳入公示中",
    "result_notice": "认定结果公告中",
    "elimination": "风险消除审核中",
    "elim_publicity": "风险消除公示中",
    "elim_notice": "风险消除公告中",
    "eliminated": "风险已消除",
}
# The phases of each procedure while a case is open (a diagram's phase properties must be among its own).
COUNTY_CASE_PHASES = ("certification", "publicity", "assistance", "closure", "announcement")
NATIONAL_CASE_PHASES = ("certification", "review_publicity", "result_notice", "assistance", "elimination",
                        "elim_publicity", "elim_notice")
OPEN_CASE_STATUSES = tuple(dict.fromkeys(COUNTY_CASE_PHASES + NATIONAL_CASE_PHASES))
# When a case waits on two branches at once (the fast path's measures beside the identification), its status is the
# phase of the branch that has gone furthest, in this order.
PHASE_ORDER = ("certification", "review_publicity", "publicity", "result_notice", "assistance", "closure",
               "elimination", "elim_publicity", "announcement", "elim_notice")
# Phases in which the case is on a village notice (公示 or 公告): the notice lists and the posting step read them.
NOTICE_PHASES = ("publicity", "announcement", "review_publicity", "result_notice", "elim_publicity", "elim_notice")
# Phases that run against the clock from the risk's discovery to the county's decision (15 days).
DECISION_PHASES = ("certification", "review_publicity")
# How a case ended: the case's current step once it has.
CASE_OUTCOMES: dict[str, str] = {"closed": "已销号", "rejected": "不予认定，已办结", "eliminated": "风险已消除"}

PROCEDURES: dict[str, str] = {"county": "石泉县办法", "national": "国家防止返贫监测"}

SCREENING_STATUSES: dict[str, str] = {"screening": "排查中", "assessing": "评估中", "completed": "已完成"}

MEASURE_TYPES: dict[str, str] = {
    "industry": "产业帮扶",
    "employment": "就业帮扶",
    "health": "健康帮扶（医疗保障）",
    "education": "教育帮扶",
    "housing": "住房安全保障",
    "social_security": "兜底保障（低保、特困供养）",
    "temporary_relief": "临时救助",
    "public_welfare_job": "公益岗位",
    "microcredit": "小额信贷",
    "other": "其他措施",
}

DECISION_LABELS: dict[str, str] = {
    "certify": "认定",
    "return": "退回",
    "reject": "不予认定",
    "pass": "会议通过",
    "approve": "批准",
    "no_objection": "无异议",
    "objection": "有异议",
    "uphold": "异议成立",
    "dismiss": "异议不成立",
    "file": "备案",
    "accept": "验收合格",
    "confirm": "复核达标",
    "confirmed": "风险属实",
    "not_confirmed": "风险不属实",
    "propose": "拟纳入监测",
    "not_propose": "不纳入监测",
    "apply": "申请风险消除",
    "continue": "继续帮扶",
    "agree": "同意风险消除",
    "disagree": "不同意风险消除",
}

# 两不愁三保障 and drinking water: the items a household check confirms (a gap is an item not secured).
GUARANTEE_ITEMS: dict[str, str] = {
    "food": "不愁吃",
    "clothing": "不愁穿",
    "education": "义务教育有保障",
    "medical": "基本医疗有保障",
    "housing": "住房安全有保障",
    "water": "饮水安全有保障",
}

CHECK_OUTCOMES: dict[str, str] = {"checked": "已入户排查", "not_checked": "未能排查"}

# Why a household of the month's scope was not checked: the fixed list, "other" with its own text.
NOT_CHECKED_REASONS: dict[str, str] = {
    "away_unreachable": "外出务工未联系上",
    "long_absent": "长期不在家",
    "moved_out": "已搬离本村",
    "refused": "拒绝入户",
    "other": "其他原因",
}
