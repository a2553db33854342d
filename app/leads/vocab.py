"""The national mechanism's vocabularies, with the wording of its forms and the national system."""

LEAD_CHANNELS: dict[str, str] = {
    "self_declared": "农户自主申报",
    "cadre_screening": "基层干部排查",
    "department_warning": "部门筛查预警",
}

# How a self-declaration arrived: the public page, or recorded by staff from a call, a letter or a visit.
DECLARATION_SOURCES: dict[str, str] = {
    "web": "扫码网上申报",
    "hotline_12317": "12317 热线",
    "written": "书面申请",
    "in_person": "当面申报",
}
STAFF_SOURCES = ("hotline_12317", "written", "in_person")

# The national system's risk types (致贫返贫风险类型).
NATIONAL_RISK_TYPES: dict[str, str] = {
    "illness": "因病",
    "schooling": "因学",
    "disability": "因残",
    "disaster": "因自然灾害",
    "accident": "因意外事故",
    "industry": "因产业项目失败",
    "employment": "因务工就业不稳",
    "labour_shortage": "缺劳动力",
    "other": "其他",
}

# The county rulebook's six risk types (app.vocab.RISK_TYPES) in the national set.
COUNTY_TO_NATIONAL_RISK: dict[str, str] = {
    "major_illness": "illness",
    "natural_disaster": "disaster",
    "accident": "accident",
    "industry_failure": "industry",
    "unstable_employment": "employment",
    "other": "other",
}

# The national types in the county's six, for the county's annexes and lists (因学、因残、缺劳动力 have no county
# counterpart but 其它原因).
NATIONAL_TO_COUNTY_RISK: dict[str, str] = {
    "illness": "major_illness",
    "schooling": "other",
    "disability": "other",
    "disaster": "natural_disaster",
    "accident": "accident",
    "industry": "industry_failure",
    "employment": "unstable_employment",
    "labour_shortage": "other",
    "other": "other",
}

URGENCIES: dict[str, str] = {"normal": "一般", "urgent": "紧急（突发灾害、意外，需先行帮扶）"}

LEAD_STATUSES: dict[str, str] = {
    "open": "待入户核实",
    "verified": "核实属实，收支测算中",
    "confirmed": "核实属实，识别认定中",
    "not_confirmed": "核实不属实，已办结",
    "identified": "已认定为监测对象",
    "not_identified": "经评议审核未纳入监测",
    "merged": "已并入在办事项",
}
# A lead in hand: a new report for the household joins it. A confirmed lead has opened a case, which new reports
# join while it is open.
OPEN_LEAD_STATUSES = ("open", "verified")
# Leads still on the national clock, from the risk's discovery to the county's decision (15 days).
AWAITING_DECISION = ("open", "verified", "confirmed")

# What a declarant is told about their declaration, by status: nothing about the household beyond it.
DECLARANT_STATUS: dict[str, str] = {
    "open": "已受理，村工作队将在规定时限内入户核实",
    "verified": "经入户核实，困难情况属实，正在按程序认定",
    "confirmed": "经入户核实，困难情况属实，正在按程序认定",
    "not_confirmed": "经入户核实，暂不符合纳入监测的条件，村工作队已告知理由；情况有变化可以再次申报",
    "identified": "已认定为防止返贫监测对象，村里将落实帮扶措施",
    "not_identified": "经民主评议和审核，暂不纳入监测对象，村工作队已告知理由；情况有变化可以再次申报",
    "merged": "已受理：您家已有在办的申报或正在监测帮扶中，本次申报已并入一并办理",
}
