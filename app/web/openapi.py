"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "成功") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}


def _op(summary: str, responses: dict[str, Any], *, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, secured: bool = True, tag: str = "") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": dict(responses, **(ERRORS if secured else {}))}
    # Answers every such operation can give: an id in the path that names no row (or no number at all) is 404.
    if any(p["in"] == "path" for p in params or []):
        op["responses"].setdefault("404", {"$ref": "#/components/responses/NotFound"})
    # A body that is not the JSON object described, or a query value the database cannot hold or search (a
    # NUL character, a number past the column), is 422.
    if body is not None or any(p["in"] == "query" for p in params or []):
        op["responses"].setdefault("422", {"$ref": "#/components/responses/Invalid"})
    if tag:
        op["tags"] = [tag]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if not secured:
        op["security"] = []
    return op


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": {"type": kind}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OPT_STR = {"type": ["string", "null"]}
OPT_INT = {"type": ["integer", "null"]}
DAY = {"type": "string", "format": "date"}
OPT_DAY = {"type": ["string", "null"], "format": "date"}
MOMENT = {"type": "string", "description": "UTC 时间（ISO 8601，以 Z 结尾）"}
OPT_MOMENT = {"type": ["string", "null"], "description": "UTC 时间（ISO 8601，以 Z 结尾）"}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """An object whose properties are all listed (and, unless told otherwise, all always present)."""
    return {"type": "object", "required": list(properties) if required is None else required,
            "properties": properties, **extra}


def _list_of(name: str, items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return _object({name: {"type": "array", "items": items}, **more})


def _measure() -> dict[str, Any]:
    return _object({"id": INT, "content": STR, "measure_type": STR, "responsible_unit": STR, "deadline": DAY,
                    "status": STR, "completed_on": OPT_DAY, "result": OPT_STR, "first_aid": BOOL})


def _event() -> dict[str, Any]:
    return _object({"at": MOMENT, "kind": STR,
                    "bpmn_id": {"type": ["string", "null"], "description": "所办理环节在流程图中的编号"},
                    "task": OPT_STR, "decision": OPT_STR, "opinion": OPT_STR, "actor": OPT_STR,
                    "actor_name": OPT_STR})


def _waiting() -> dict[str, Any]:
    return {
        "owner_role": {"type": ["string", "null"], "description": "当前由哪个角色办理（最早等待的任务的泳道）"},
        "owner_role_label": OPT_STR,
        "holder": {"type": ["string", "null"], "description": "办理人（指派到人的任务为其姓名，否则为单位和角色）"},
        "waiting_since": OPT_MOMENT, "due_on": OPT_DAY,
        "days_overdue": {"type": "integer", "description": "按中国时间（Asia/Shanghai）的今天计算的逾期天数"},
        "waiting": {"type": "array", "items": _object({
            "task_id": INT, "bpmn_id": STR, "title": STR, "role": STR, "assignee_id": OPT_INT, "holder": STR,
            "ready_since": MOMENT, "due_on": OPT_DAY})},
    }


def _case_base() -> dict[str, Any]:
    return {
        "id": INT, "status": STR, "current_step": STR, "risk_type": STR, "risk_level": OPT_STR,
        "reason": OPT_STR, "village_code": STR, "town_code": STR, "cadre_id": OPT_INT,
        "opened_at": MOMENT, "closed_at": OPT_MOMENT, "household": _ref("Household"),
        "procedure": {"type": "string", "enum": ["county", "national"],
                      "description": "county 石泉县办法；national 国家防止返贫动态监测"},
        "category": {"type": ["string", "null"], "enum": ["unstable_lifted", "marginal", "sudden_hardship", None],
                     "description": "监测对象类型（国家机制，民主评议时确定）"},
        "channel": {"type": ["string", "null"], "description": "风险线索的发现渠道"},
        "fast_path": {"type": "boolean", "description": "先帮扶后认定"},
        **{k: OPT_DAY for k in ("discovered_on", "decision_due_on", "identified_on", "eliminated_on")},
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_PARAMS = [
    {"name": "month", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "报表月份 YYYY-MM（默认为中国时间的本月）"},
    {"name": "area", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "区划代码：县 6 位、镇 9 位、村 12 位（默认本人辖区）"},
]
STARTED = _object({"month": STR, "created": INT, "screening_ids": {"type": "array", "items": INT}})
TASK_PROPERTIES: dict[str, Any] = {
    "id": INT, "name": STR, "title": STR,
    "bpmn_id": {"type": "string", "description": "环节在流程图中的编号，如 Task_TownCertify"},
    "form": STR, "role": {"type": "string", "description": "办理的角色（流程图的泳道）"},
    "village_code": STR, "town_code": STR,
    "assignee_id": {"type": ["integer", "null"], "description": "指派到人的任务（包抓干部）的办理人"},
    "subject_kind": {"type": "string",
                     "description": "任务所属业务对象的类型：case 案件、screening 月度排查、lead 线索"},
    "subject_id": INT, "case_id": OPT_INT, "screening_id": OPT_INT,
    "subject": {"type": "string", "description": "业务对象的名称（如 张三户）"},
    "ready_since": MOMENT,
    "due_on": {"type": ["string", "null"], "format": "date", "description": "办理时限（中国日期）"},
    "claimed_by_id": OPT_INT, "claimed_at": OPT_MOMENT,
}


def openapi_document() -> dict[str, Any]:
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "返贫监测认定和帮扶 API",
            "version": "1",
            "description": "石泉县返贫监测认定和帮扶办法的案件流程接口。先用 /auth/token 换取令牌，"
                           "之后在请求头中携带 Authorization: Bearer <token>。令牌默认 8 小时后失效，"
                           "可用 /auth/revoke 提前吊销。用户只能看到和办理本辖区的数据。"
                           "日期：服务器的“今天”在任何地方都是本县的日期（中国标准时间，Asia/Shanghai，UTC+8），"
                           "不论服务器所在时区：表单中“不能晚于今天”的日期、办理时限和逾期天数、报表的默认月份都按它计算；"
                           "YYYY-MM-DD 形式的日期都是中国日期，带时刻的时间（以 Z 结尾）是 UTC。",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/auth/token": {"post": _op("用户名和密码换取访问令牌", {
                "201": _ok(_object({"token": STR, "token_type": STR, "expires_at": MOMENT, "user": _ref("User")})),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "429": {"description": "同一用户名 15 分钟内登录失败 5 次，锁定 15 分钟（Retry-After 给出秒数）",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": _ref("Error")}}},
            }, body={"type": "object", "required": ["username", "password"],
                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                secured=False, tag="auth")},
            "/auth/revoke": {"post": _op("吊销当前使用的访问令牌（之后使用它的请求得到 401）", {
                "200": _ok(_object({"revoked": BOOL}))}, tag="auth")},
            "/me": {"get": _op("当前用户", {"200": _ok(_ref("User"))}, tag="auth")},
            "/users": {"get": _op("用户列表（仅系统管理员）", {
                "200": _ok(_list_of("users", _ref("User")))},
                tag="auth")},
            "/households": {"get": _op("按户主姓名或证件号码查找本辖区的户", {
                "200": _ok(_list_of("households", _ref("Household")))},
                params=[_query("q", "姓名或证件号码（部分）"), _query("village", "村代码（12位）"),
                        _query("limit", "最多返回条数（≤200）", "integer")], tag="households")},
            "/households/{household_id}": {"get": _op(
                "户档案：成员（证件号码打码）、历次案件、全部帮扶措施、排查登记和全部办理记录", {
                "200": _ok(_ref("HouseholdFile")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path("household_id")], tag="households")},
            "/households/{household_id}/id-numbers": {"post": _op(
                "查看户主和家庭成员的完整证件号码（村工作队、镇认定工作组、镇领导小组、县办；每次查看记入审计日志）", {
                    "200": _ok({"type": "object", "required": ["household_id", "head_id_number", "members"],
                                "properties": {"household_id": {"type": "integer"},
                                               "head_id_number": {"type": "string"},
                                               "members": {"type": "array", "items": {"type": "object"}}}})},
                params=[_path("household_id")], tag="households")},
            "/screenings": {
                "post": _op("启动某月的月度排查（县办；每村一个，重复启动不新建）", {
                    "201": _ok(STARTED, "已新建"), "200": _ok(STARTED, "此前已启动，未新建"),
                    "422": {"$ref": "#/components/responses/Invalid"}},
                    body={"type": "object", "required": ["month"],
                          "properties": {"month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}}},
                    tag="screenings"),
                "get": _op("本辖区的月度排查", {"200": _ok(_list_of("screenings", _ref("Screening")))},
                           params=[_query("month", "YYYY-MM")],
                           tag="screenings"),
            },
            "/screenings/{screening_id}": {"get": _op("一次排查及其登记的风险户（花名册）", {
                "200": _ok(_ref("Screening")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path("screening_id")], tag="screenings")},
            "/screenings/{screening_id}/registrations": {"post": _op("登记风险户（排查任务办理期间）", {
                "201": _ok(_object({"id": INT, "screening_id": INT})),
                "409": {"$ref": "#/components/responses/Conflict"},
                "422": {"$ref": "#/components/responses/Invalid"}},
                body={"type": "object", "required": ["household_id", "risk_type", "reason"],
                      "properties": {"household_id": {"type": "integer"},
                                     "risk_type": {"type": "string", "enum": [
                                         "major_illness", "natural_disaster", "accident", "industry_failure",
                                         "unstable_employment", "other"]},
                                     "reason": {"type": "string"}}},
                params=[_path("screening_id")], tag="screenings")},
            "/screenings/{screening_id}/checks": {"get": _op(
                "逐户排查：本村农户及其本月排查记录，和由记录统计的覆盖情况", {"200": _ok(_object({
                    "screening_id": INT, "month": STR, "coverage": _ref("Coverage"),
                    "households": {"type": "array", "items": _object({
                        "household_id": INT, "head_name": STR, "household_no": STR,
                        "check": {"oneOf": [{"type": "null"}, _ref("HouseholdCheck")]}})}})),
                                                          "403": {"$ref": "#/components/responses/Forbidden"}},
                params=[_path("screening_id")], tag="screenings")},
            "/screenings/{screening_id}/checks/{household_id}": {"put": _op(
                "登记一户的本月排查情况（排查任务办理期间）；有风险的户同时登记进花名册", {
                    "200": _ok(_ref("HouseholdCheck")), "409": {"$ref": "#/components/responses/Conflict"},
                    "422": {"$ref": "#/components/responses/Invalid"}},
                body={"type": "object", "required": ["outcome"], "properties": {
                    "outcome": {"type": "string", "enum": ["checked", "not_checked"]},
                    "visited_on": {"type": "string", "format": "date",
                                   "description": "outcome 为 checked 时必填，须在本月内且不晚于今天"},
                    "visitors": {"type": "string", "description": "参加排查人员；outcome 为 checked 时必填"},
                    "risks": {"type": "array", "items": {"type": "string", "enum": [
                        "major_illness", "natural_disaster", "accident", "industry_failure",
                        "unstable_employment", "other"]}},
                    "medical_out_of_pocket": {"type": "integer", "description": "risks 含 major_illness 时必填"},
                    "months_without_work": {"type": "integer", "description": "risks 含 unstable_employment 时必填"},
                    "risk_detail": {"type": "string", "description": "risks 非空时必填"},
                    "guarantee_gaps": {"type": "array", "items": {"type": "string", "enum": [
                        "food", "clothing", "education", "medical", "housing", "water"]}},
                    "not_checked_reason": {"type": "string", "enum": [
                        "away_unreachable", "long_absent", "moved_out", "refused", "other"],
                        "description": "outcome 为 not_checked 时必填"},
                    "not_checked_note": {"type": "string"}, "note": {"type": "string"}}},
                params=[_path("screening_id"), _path("household_id")], tag="screenings")},
            "/tasks": {"get": _op("我的待办任务", {
                "200": _ok(_list_of("tasks", _ref("Task")))},
                tag="tasks")},
            "/tasks/{task_id}": {"get": _op(
                "一个任务及其表单字段（名称、类型、选项、是否必填或在何种条件下必填、列表条目的当前值）、"
                "属于它的操作和现有记录；已办理的任务答 409（由谁、何时办理），从未存在的编号答 404", {
                "200": _ok(_ref("TaskWithForm")), "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}},
                params=[_path("task_id")], tag="tasks")},
            "/tasks/{task_id}/measures/{measure_id}": {"post": _op(
                "落实帮扶措施：登记本户一项措施已落实（落实日期、落实情况），立即保存，任务仍待办；"
                "全部措施登记后提交任务。仅该户的包抓干部（或其代办人）可登记", {
                    "201": _ok(_measure(), "已登记"), "409": {"$ref": "#/components/responses/Conflict"}},
                body=_object({"completed_on": {"type": "string", "format": "date"},
                              "result": {"type": "string", "minLength": 2, "maxLength": 2000}}),
                params=[_path("task_id"), _path("measure_id")], tag="tasks")},
            "/tasks/{task_id}/complete": {"post": _op("提交任务表单，流程流转到下一环节", {
                "200": _ok({"type": "object", "required": ["completed", "subject_kind", "subject_id", "next_tasks",
                                                           "revision"], "properties": {
                    "completed": {"type": "boolean"}, "subject_kind": {"type": "string"},
                    "subject_id": {"type": "integer"}, "case": _ref("Case"), "screening": _ref("Screening"),
                    "lead": _ref("Lead"),
                    "next_tasks": {"type": "array", "items": _ref("Task"),
                                   "description": "这一步引出的正在等待办理的任务（不论由谁办理），包括这一步新开启的"
                                                  "其他流程中的任务（如评估会议确定的重点帮扶户的案件的镇认定任务）"},
                    "revision": {"type": "integer", "description": "流转后的版本号，下一次提交可带上"}}}),
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"},
                "422": {"$ref": "#/components/responses/Invalid"}},
                body={"type": "object", "description": "表单字段（见 GET /tasks/{task_id} 的 fields）；"
                      "决定字段统一名为 decision；可带 revision 防止覆盖他人的更新",
                      "properties": {"decision": {"type": "string"}, "revision": {"type": "integer"}},
                      "additionalProperties": True},
                params=[_path("task_id")], tag="tasks")},
            "/tasks/{task_id}/claim": {"post": _op("认领任务：本组同事可见由谁办理；两人同时认领时只有一人成功", {
                "200": _ok(_ref("Task")), "409": {"$ref": "#/components/responses/Conflict"}},
                params=[_path("task_id")], tag="tasks")},
            "/tasks/{task_id}/release": {"post": _op("释放已认领的任务（认领人或本组镇、县同事）", {
                "200": _ok(_ref("Task")), "409": {"$ref": "#/components/responses/Conflict"}},
                params=[_path("task_id")], tag="tasks")},
            "/tasks/{task_id}/reassign": {"post": _op("转办给本辖区同一角色的在岗同事（镇、县工作组）", {
                "200": _ok(_ref("Task")), "409": {"$ref": "#/components/responses/Conflict"},
                "422": {"$ref": "#/components/responses/Invalid"}},
                body={"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "integer"}}},
                params=[_path("task_id")], tag="tasks")},
            "/cases": {"get": _op("本辖区的案件：每个案件在哪一环节、由谁办理、等待自何时、何时到期", {
                "200": _ok(_object({
                "total": INT, "page": INT, "per_page": INT, "cases": {"type": "array", "items": _ref("CaseRow")}}))},
                params=[_query("status", "状态"), _query("town", "镇代码"), _query("village", "村代码"),
                        _query("q", "户主姓名或证件号码"), _query("page", "页码", "integer"),
                        _query("per_page", "每页条数（≤200）", "integer")], tag="cases")},
            "/cases/{case_id}": {"get": _op("一个案件：户、当前环节、办理人、帮扶措施和全部历史", {
                "200": _ok(_ref("CaseDetail")), "404": {"$ref": "#/components/responses/NotFound"}},
                params=[_path("case_id")], tag="cases")},
            # ---- comments and attachments of a case --------------------------------------------------------
            "/cases/{case_id}/comments": {
                "get": _op("案件的评论（按时间先后；也记入案件的办理记录）", {
                    "200": _ok({"type": "object", "properties": {
                        "comments": {"type": "array", "items": _ref("Comment")}}}),
                    "404": {"$ref": "#/components/responses/NotFound"}}, params=[_path("case_id")], tag="cases"),
                "post": _op("对案件（或其某个当前环节）发表评论，不超过 2000 字", {
                    "201": _ok(_ref("Comment"), "已发表"), "404": {"$ref": "#/components/responses/NotFound"},
                    "422": {"$ref": "#/components/responses/Invalid"}},
                    body={"type": "object", "required": ["text"], "properties": {
                        "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "task_id": {"type": "integer", "description": "该案件当前待办任务的 id（可选）"}}},
                    params=[_path("case_id")], tag="cases"),
            },
            "/cases/{case_id}/attachments": {
                "get": _op("案件的附件（含下载地址）", {
                    "200": _ok({"type": "object", "properties": {
                        "attachments": {"type": "array", "items": _ref("Attachment")},
                        "max_bytes": {"type": "integer", "description": "单个附件的大小上限（字节）"}}}),
                    "404": {"$ref": "#/components/responses/NotFound"}}, params=[_path("case_id")], tag="cases"),
                "post": {**_op("上传附件：JPEG、PNG、WebP、HEIC 图片或 PDF（按文件内容判断类型），大小受限；"
                               "同一案件同一环节重复上传相同内容时返回已有附件（200）", {
                    "201": _ok(_ref("Attachment"), "已保存"), "200": _ok(_ref("Attachment"), "相同内容此前已上传"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "415": {"$ref": "#/components/responses/UnsupportedType"},
                    "422": {"$ref": "#/components/responses/Invalid"}}, params=[_path("case_id")], tag="cases"),
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"], "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "task_id": {"type": "integer", "description": "该案件当前待办任务的 id（可选）"}}}}}}},
            },
            "/attachments/{attachment_id}": {"get": _op("下载附件（原文件名，总是作为附件下载）", {
                "200": {"description": "文件内容", "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf")}},
                "404": {"$ref": "#/components/responses/NotFound"}}, params=[_path("attachment_id")], tag="cases")},
            "/leads": {
                "get": _op("本辖区的风险线索（防止返贫动态监测），最新在前", {"200": _ok({
                    "type": "object", "properties": {"leads": {"type": "array", "items": _ref("Lead")}}})},
                    params=[_query("status", "只看某一状态：open、verified、confirmed、not_confirmed、merged")],
                    tag="leads"),
                "post": _op("登记农户通过 12317 热线、书面或当面的申报（本辖区农户）；该户已有在办线索或案件的，"
                            "登记为并入（status=merged），否则启动入户核实", {
                    "201": _ok(_ref("Lead"), "已登记"), "404": {"$ref": "#/components/responses/NotFound"}},
                    body={"type": "object", "required": ["household_id", "source", "reporter_name", "reporter_phone",
                                                         "discovered_on", "risk_types", "description"],
                          "properties": {
                              "household_id": {"type": "integer"},
                              "member_id": {"type": ["integer", "null"], "description": "申报人是本户成员时"},
                              "source": {"type": "string", "enum": ["hotline_12317", "written", "in_person"]},
                              "reporter_name": {"type": "string"}, "reporter_phone": {"type": "string"},
                              "discovered_on": {"type": "string", "format": "date"},
                              "risk_types": {"type": "array", "items": {"type": "string", "enum": [
                                  "illness", "schooling", "disability", "disaster", "accident", "industry",
                                  "employment", "labour_shortage", "other"]}},
                              "description": {"type": "string"},
                              "urgency": {"type": "string", "enum": ["normal", "urgent"]}}},
                    tag="leads"),
            },
            "/monitoring/roster": {"get": _op(
                "监测对象名单：本辖区（或其中一个镇、村）经县级审定纳入监测的农户，风险消除的也在内", {
                    "200": _ok({"type": "object", "properties": {"households": {
                        "type": "array", "items": _ref("MonitoredHousehold")}, "truncated": {
                        "type": "boolean", "description": "超过 5000 户时只返回前 5000 户（Excel 导出有全部）"}}})},
                params=[_query("area", "区划代码（县 6 位、镇 9 位、村 12 位；默认本人辖区）"),
                        _query("state", "all 全部、monitored 风险未消除、eliminated 风险已消除")], tag="monitoring")},
            "/monitoring/eliminations": {"get": _op("风险消除名单：一段时间内标注风险消除（未回退）的监测对象", {
                "200": _ok({"type": "object", "properties": {"households": {"type": "array", "items": obj},
                                                              "truncated": {"type": "boolean"}}})},
                params=[_query("area", "区划代码（默认本人辖区）"), _query("from", "风险消除时间起（YYYY-MM-DD）"),
                        _query("to", "风险消除时间止（YYYY-MM-DD）")], tag="monitoring")},
            "/cases/{case_id}/elimination-reversal": {"post": _op(
                "回退风险消除（县级审定部门，写明理由）：该户在原案件中继续监测帮扶，由驻村工作队重新入户核实", {
                    "200": _ok(_ref("CaseDetail"), "已回退"), "409": {"$ref": "#/components/responses/Conflict"}},
                body={"type": "object", "required": ["reason"], "properties": {
                    "reason": {"type": "string", "minLength": 4, "maxLength": 2000}}},
                params=[_path("case_id")], tag="monitoring")},
            # ---- the national system's data ------------------------------------------------------------------
            "/national-reconciliations": {"post": {**_op(
                "上传国家系统导出的已脱贫户、边缘易致贫户名单，与农户登记和案件比对（后台进行，不保存任何数据）；"
                "用 GET 查看比对报告：新增、变更、缺失、冲突", {
                    "202": _ok(_ref("ImportJob"), "已排队比对"), "413": {"$ref": "#/components/responses/TooLarge"},
                    "422": {"$ref": "#/components/responses/Invalid"}}, tag="exchange"),
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}}}},
            "/national-reconciliations/{job_id}": {"get": _op("一次比对：进度和比对报告", {
                "200": _ok(_ref("ImportJob"))}, params=[_path("job_id")], tag="exchange")},
            "/national-reconciliations/{job_id}/apply": {"post": _op(
                "按比对结果导入农户信息：以同一文件排队导入农户登记（按当时的登记重新检查，全部无误才保存；"
                "监测状态不因导入而改变）", {
                    "202": _ok(_ref("ImportJob"), "已排队导入"), "422": {"$ref": "#/components/responses/Invalid"}},
                params=[_path("job_id")], tag="exchange")},
            "/household-imports/{job_id}": {"get": _op("一次农户名单导入：进度和结果", {
                "200": _ok(_ref("ImportJob"))}, params=[_path("job_id")], tag="exchange")},
            "/national-exports/roster": {"get": _op(
                "按国家系统格式导出监测对象（每人一条，户主在前；风险类型为国家口径）", {
                    "200": _ok(_ref("NationalTable"))},
                params=[_query("area", "区划代码（默认全县）"),
                        _query("state", "monitored 风险未消除（默认）、eliminated 风险已消除、all 全部")],
                tag="exchange")},
            "/national-exports/changes": {"get": _op(
                "按国家系统格式导出某月的变动：新识别纳入监测、风险消除、回退（每人一条）", {
                    "200": _ok(_ref("NationalTable"))},
                params=[_query("area", "区划代码（默认全县）"), _query("month", "月份 YYYY-MM（默认本月）")],
                tag="exchange")},
            "/leads/{lead_id}": {"get": _op("一条风险线索：入户核实、收支测算和承诺授权书", {
                "200": _ok(_ref("Lead"))}, params=[_path("lead_id")], tag="leads")},
            "/lead-documents/{document_id}": {"get": _op("下载线索的承诺授权书（原文件名，总是作为附件下载）", {
                "200": {"description": "文件内容", "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf")}},
                "404": {"$ref": "#/components/responses/NotFound"}}, params=[_path("document_id")], tag="leads")},
            "/leads/{lead_id}/authorisation": {"post": {**_op(
                "上传户主签字的承诺授权书（照片或 PDF，按文件内容判断类型）；相同文件再次上传返回已有的（200）", {
                    "201": _ok(_ref("LeadDocument"), "已保存"), "200": _ok(_ref("LeadDocument"), "相同文件此前已上传"),
                    "409": {"$ref": "#/components/responses/Conflict"},
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "415": {"$ref": "#/components/responses/UnsupportedType"},
                    "422": {"$ref": "#/components/responses/Invalid"}}, params=[_path("lead_id")], tag="leads"),
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}}}},
            # ---- 部门筛查预警 and the departments' measures -----------------------------------------------
            "/department-lists": {
                "get": _op("部门上传的月度名单（行业部门看本部门的，县办和督查看全部）", {"200": _ok({
                    "type": "object", "properties": {"uploads": {"type": "array", "items": _ref("DepartmentList")}}})},
                    tag="departments"),
                "post": {**_op("行业部门上传本部门某月的名单（Excel 或 CSV，按已保存的列对应读取）：按证件号码匹配"
                               "农户，符合预警规则的生成风险线索；任何一行有错误则整个文件不导入；"
                               "同一文件再次上传返回原结果（200）", {
                    "201": _ok(_ref("DepartmentList"), "已导入"),
                    "200": _ok(_ref("DepartmentList"), "该文件此前已上传"),
                    "413": {"$ref": "#/components/responses/TooLarge"},
                    "422": {"$ref": "#/components/responses/Invalid"}}, tag="departments"),
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["month", "file"], "properties": {
                            "month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
                            "file": {"type": "string", "format": "binary"}}}}}}},
            },
            "/department-lists/{upload_id}": {"get": _op("一份部门名单：触发预警的行及其线索、未匹配的行", {
                "200": _ok(_ref("DepartmentList"))}, params=[_path("upload_id")], tag="departments")},
            "/warning-rules": {"get": _op("预警规则（当前有效的版本）", {"200": _ok({"type": "object", "properties": {
                "rules": {"type": "array", "items": obj}}})}, tag="departments")},
            "/department-measures": {"get": _op("本部门负责的帮扶措施（默认只列未完成的；all=1 含已完成的）", {
                "200": _ok({"type": "object", "properties": {"measures": {"type": "array", "items": obj}}})},
                params=[_query("all", "1：含已完成的")], tag="departments")},
            "/department-measures/{measure_id}/progress": {"post": {**_op(
                "登记本部门负责的措施的进展或落实完成（可附照片或 PDF 作为佐证）", {
                    "201": _ok(obj, "已登记"), "409": {"$ref": "#/components/responses/Conflict"},
                    "415": {"$ref": "#/components/responses/UnsupportedType"},
                    "422": {"$ref": "#/components/responses/Invalid"}}, params=[_path("measure_id")],
                tag="departments"),
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["recorded_on", "note"], "properties": {
                        "recorded_on": {"type": "string", "format": "date"}, "note": {"type": "string"},
                        "completed": {"type": "string", "enum": ["0", "1"]},
                        "evidence": {"type": "string", "format": "binary"}}}}}}}},
            "/processes": {"get": _op("流程定义及其各版本（仅系统管理员）", {"200": _ok({
                "type": "object", "properties": {"processes": {"type": "array", "items": obj}}})}, tag="processes")},
            "/processes/validate": {"post": {**_op("校验 BPMN 流程图：引擎解析并检查本系统规则（仅系统管理员）", {
                "200": _ok(_ref("Validation")),
                "422": _ok({"oneOf": [_ref("Validation"), _ref("Error")]}, "无法作为 BPMN 读取或不合规（Validation），"
                           "或请求体不是 BPMN XML、过大（Error）")},
                params=[_query("process_key", "要校验的流程编号（文件含多个流程时）")], tag="processes"),
                "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}},
            "/processes/{process_key}/versions": {"post": {**_op("部署新版本：新案件按新版本运行，在办案件不受影响", {
                "201": _ok(obj), "422": _ok({"oneOf": [_ref("Validation"), _ref("Error")]},
                                            "校验未通过（Validation），或请求体不是 BPMN XML（Error）")},
                params=[{"name": "process_key", "in": "path", "required": True, "schema": {"type": "string"}}],
                tag="processes"),
                "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}},
            "/processes/versions/{version_id}/rollback": {"post": _op("回退：把较早的版本设为当前版本", {
                "200": _ok(obj), "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}}, params=[_path("version_id")], tag="processes")},
            "/cases/{case_id}/migrate": {"post": _op("把在办案件迁移到同一流程的其他版本（不安全时拒绝并说明原因）", {
                "200": _ok(obj), "409": {"$ref": "#/components/responses/Conflict"},
                "422": {"$ref": "#/components/responses/Invalid"}},
                body={"type": "object", "required": ["version_id"], "properties": {"version_id": {"type": "integer"}}},
                params=[_path("case_id")], tag="processes")},
            **{f"/reports/{kind}": {"get": _op(f"{title}：某月、某区划的各行（JSON；证件号码打码）", {
                "200": _ok(_object({"annex": STR, "title": STR, "month": STR, "area_code": STR, "unit": STR,
                                    "rows": {"type": "array", "items": _ref(row)},
                                    "truncated": {"type": "boolean", "description": "超过 5000 行时只返回前 5000 行"
                                                                                    "（Excel 有全部）"}}))},
                params=REPORT_PARAMS, tag="reports")}
               for kind, title, row in (("roster", "附件1 返贫风险对象花名册", "RosterRow"),
                                        ("ledger", "附件2 帮扶措施台账", "LedgerRow"))},
            **{f"/reports/{kind}.xlsx": {"get": _op(
                f"{title}：官方格式的 Excel（A4 横向，完整证件号码；每次下载记入审计日志）", {
                "200": {"description": "Excel 文件", "content": {XLSX: {"schema": {"type": "string",
                                                                                  "format": "binary"}}}}},
                params=REPORT_PARAMS, tag="reports")}
               for kind, title in (("roster", "附件1 返贫风险对象花名册"), ("ledger", "附件2 帮扶措施台账"))},
            "/openapi.json": {"get": _op("本文档", {"200": _ok(obj)}, secured=False, tag="meta")},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                name: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
                for name, text in [("Unauthorized", "未登录或令牌无效"), ("Forbidden", "无权访问"),
                                   ("NotFound", "不存在"), ("Conflict", "已被他人更新或已办理"),
                                   ("Invalid", "输入有误（errors 按字段给出原因）"),
                                   ("TooLarge", "文件超过大小上限"), ("UnsupportedType", "文件类型不被接受")]
            },
            "schemas": {
                "Validation": {"type": "object", "required": ["valid", "problems"], "properties": {
                    "valid": {"type": "boolean"}, "process_keys": {"type": "array", "items": {"type": "string"}},
                    "problems": {"type": "array", "items": {"type": "object", "required": ["element_id", "message"],
                                                            "properties": {"element_id": {"type": ["string", "null"]},
                                                                           "message": {"type": "string"}}}}}},
                "Error": {"type": "object", "required": ["error", "status"], "properties": {
                    "error": {"type": "string", "description": "给用户看的原因（中文）"}, "status": INT,
                    "errors": {"type": "object", "description": "与某个字段有关的原因，按字段名给出",
                               "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                    # A task that was completed already (409): which, by whom, when.
                    "task_id": INT, "bpmn_id": OPT_STR, "completed_at": MOMENT,
                    "completed_by": {"type": ["object", "null"], "required": ["id", "username", "full_name"],
                                     "properties": {"id": INT, "username": STR, "full_name": STR}},
                    "subject_kind": STR, "subject_id": INT}},
                "User": _object({"id": INT, **{k: STR for k in (
                    "username", "full_name", "role", "role_label", "area_code", "area_name", "unit")}}),
                "Lead": {"type": "object", "properties": {
                    **{k: {"type": "integer"} for k in ("id", "household_id")},
                    **{k: {"type": "string"} for k in (
                        "receipt_no", "channel", "source", "source_detail", "head_name", "village_code", "town_code",
                        "reporter_name", "reporter_phone", "discovered_on", "description", "urgency", "status",
                        "status_label", "outcome_reason", "created_at")},
                    "risk_types": {"type": "array", "items": {"type": "string"}},
                    "merged_into_id": {"type": ["integer", "null"]}, "open_case_id": {"type": ["integer", "null"]},
                    "closed_at": {"type": ["string", "null"]},
                    "verifications": {"type": "array", "items": obj},
                    "income_assessments": {"type": "array", "items": obj},
                    "documents": {"type": "array", "items": _ref("LeadDocument")}}},
                "LeadDocument": {"type": "object", "properties": {
                    **{k: {"type": "integer"} for k in ("id", "lead_id", "size")},
                    **{k: {"type": "string"} for k in (
                        "kind", "file_name", "content_type", "sha256", "uploaded_at", "download_url")}}},
                "Household": _object({
                    "id": INT, "household_no": STR, "head_name": STR,
                    "head_id_number_masked": {"type": "string", "description": "打码：前6位和后4位"},
                    "size": INT, "kind": {"type": "string", "enum": ["lifted", "non_poor"]},
                    "lifted_year": OPT_INT, "village_code": STR, "village_name": STR, "town_code": STR}),
                "HouseholdFile": {"type": "object", "required": ["household", "members", "cases", "measures",
                                                                  "registrations", "history"], "properties": {
                    "household": {"type": "object", "description": "同 Household，但证件号码只给打码后的 "
                                  "head_id_number_masked"},
                    "members": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "relation": {"type": "string"},
                        "id_number_masked": {"type": "string"}}}},
                    "cases": {"type": "array", "items": obj, "description": "全部案件（在办和已结案），最新在前"},
                    "measures": {"type": "array", "items": obj},
                    "registrations": {"type": "array", "items": obj, "description": "月度排查登记，最新在前"},
                    "history": {"type": "array", "items": obj, "description": "各流程的办理记录，最新在前"}}},
                "Comment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "text": {"type": "string"},
                    "task_uuid": {"type": ["string", "null"]}, "bpmn_id": {"type": ["string", "null"]},
                    "task_name": {"type": ["string", "null"]}, "author": {"type": "string"},
                    "author_name": {"type": "string"}, "created_at": {"type": "string"}}},
                "Attachment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case_id": {"type": "integer"}, "file_name": {"type": "string"},
                    "content_type": {"type": "string"}, "size": {"type": "integer"},
                    "sha256": {"type": "string"}, "task_uuid": {"type": ["string", "null"]},
                    "bpmn_id": {"type": ["string", "null"]},
                    "task_name": {"type": ["string", "null"]}, "uploaded_by": {"type": "string"},
                    "uploaded_by_name": {"type": "string"}, "uploaded_at": {"type": "string"},
                    "download_url": {"type": "string"}, "created": {"type": "boolean"}}},
                "Registration": _object({"id": INT, "household_id": INT, "head_name": STR, "risk_type": STR,
                                         "reason": STR, "key_assistance": BOOL, "case_id": OPT_INT}),
                "Screening": _object({
                    "id": INT, "month": STR, "village_code": STR, "village_name": STR, "status": STR,
                    "households_total": INT,
                    "households_checked": {"type": ["integer", "null"], "description": "排查任务提交时按逐户记录统计"},
                    "registrations": {"type": "array", "items": _ref("Registration"),
                                      "description": "本月登记的风险户（花名册，附件1）"}}),
                "Task": _object(TASK_PROPERTIES),
                "FormField": {"type": "object", "required": ["name", "type", "label", "required"], "properties": {
                    "name": STR,
                    "type": {"type": "string", "enum": ["choice", "multi_choice", "integer", "decimal", "date",
                                                        "text", "string", "list", "hidden"]},
                    "label": STR, "required": {"type": "boolean", "description": "总是必填"},
                    "required_when": {"type": "object", "required": ["field", "equals"],
                                      "description": "另一字段取某值时必填（如 decision 为 certify 时）",
                                      "properties": {"field": STR, "equals": STR}},
                    "choices": {"type": "array", "items": _object({"value": {}, "label": STR})},
                    "format": STR,
                    "min_entries": INT, "max_entries": INT,
                    "min_filled": {"type": "integer", "description": "至少填写的条目数（空白条目不计）"},
                    "item_fields": {"type": "array", "items": _ref("FormField"),
                                    "description": "列表每一条目的字段"},
                    "entries": {"type": "array",
                                "description": "表单打开时的条目及其当前值（如要逐项填写落实情况的措施）",
                                "items": _object({"label": STR, "values": {"type": "object"}})}}},
                "TaskWithForm": _object({
                    **TASK_PROPERTIES,
                    "revision": {"type": ["integer", "null"], "description": "提交时可带上，防止覆盖他人的更新"},
                    "form_title": STR, "fields": {"type": "array", "items": _ref("FormField")},
                    "operations": {"type": "array",
                                   "description": "属于本任务的操作（提交、认领，排查任务的登记风险户、逐户排查等）",
                                   "items": _object({
                                       "rel": STR, "method": {"type": "string", "enum": ["GET", "POST", "PUT"]},
                                       "href": {"type": "string", "description": "{household_id} 等为要替换的参数"},
                                       "title": STR})},
                    "records": {"type": "object",
                                "description": "与本任务有关的现有记录（排查任务：已登记的风险户和覆盖情况）",
                                "properties": {
                                    "registrations": {"type": "array", "items": _ref("Registration")},
                                    "coverage": _ref("Coverage"),
                                    "measures": {"type": "array", "items": _measure(),
                                                 "description": "落实帮扶措施：本户的全部措施及其落实情况"}}}}),
                "HouseholdCheck": _object({
                    "household_id": INT, "outcome": {"type": "string", "enum": ["checked", "not_checked"]},
                    "visited_on": OPT_DAY, "visitors": OPT_STR, "risks": {"type": "array", "items": STR},
                    "medical_out_of_pocket": OPT_INT, "months_without_work": OPT_INT, "risk_detail": OPT_STR,
                    "guarantee_gaps": {"type": "array", "items": STR}, "not_checked_reason": OPT_STR,
                    "not_checked_note": OPT_STR, "note": OPT_STR, "photo": BOOL, "registration_id": OPT_INT,
                    "recorded_at": STR}),
                "RosterRow": _object({
                    "number": INT, "town": STR, "village": STR, "head_name": STR, "head_id_number_masked": STR,
                    "size": INT, "lifted_year": {"type": "string", "description": "脱贫年度，非贫困户为“非贫困户”"},
                    "risk_type": STR, "reason": STR, "cadre": STR}),
                "LedgerRow": _object({
                    "number": INT, "town": STR, "village": STR, "head_name": STR, "head_id_number_masked": STR,
                    "size": INT, "lifted_year": STR, "risk_type": STR,
                    "measures": {"type": "array", "items": _object({
                        "content": STR, "measure_type": STR, "responsible_unit": STR, "deadline": DAY,
                        "done": BOOL, "completed_on": OPT_DAY})},
                    "deadline": {"type": ["string", "null"], "format": "date",
                                 "description": "完成时限：各措施时限中最晚的"},
                    "cadre": STR}),
                "Coverage": _object({"total": INT, "checked": INT, "not_checked_with_reason": INT,
                                     "unaccounted": INT}),
                "ImportJob": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["households", "reconcile"]},
                    "status": {"type": "string", "enum": ["queued", "validating", "storing", "done", "refused",
                                                          "failed"]},
                    "file_name": {"type": "string"}, "rows_total": {"type": ["integer", "null"]},
                    "rows_done": {"type": "integer"}, "message": {"type": "string"},
                    "error_count": {"type": "integer"}, "errors": {"type": "array", "items": obj},
                    "report": {"type": ["object", "null"], "description": "比对报告：counts（new、changed、"
                               "unchanged、missing、conflicting 等户数）和各清单的前 1000 户"},
                    "may_apply": {"type": "boolean"}, "created": {"type": "integer"},
                    "updated": {"type": "integer"}, "unchanged": {"type": "integer"}, "rejected": {"type": "integer"},
                    "created_at": {"type": "string"}, "finished_at": {"type": ["string", "null"]}}},
                "NationalTable": {"type": "object", "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "rows": {"type": "array", "items": obj},
                    "truncated": {"type": "boolean",
                                  "description": "超过 20000 人时只返回前 20000 人（Excel 导出有全部）"}}},
                "DepartmentList": {"type": "object", "properties": {
                    **{k: {"type": "integer"} for k in (
                        "id", "size", "rows_total", "rows_matched", "rows_already", "rows_unmatched", "rows_warned",
                        "leads_created", "leads_merged", "cases_noted")},
                    **{k: {"type": "string"} for k in (
                        "department", "department_name", "month", "file_name", "sha256", "uploaded_at")},
                    "again": {"type": "boolean"}, "unmatched": {"type": "array", "items": obj},
                    "warned": {"type": "array", "items": obj}}},
                "MonitoredHousehold": {"type": "object", "properties": {
                    **{k: {"type": "integer"} for k in ("case_id", "size")},
                    **{k: {"type": "string"} for k in (
                        "town", "village", "head_name", "household_kind", "lifted_year", "category", "risk_types",
                        "channel", "identified_on", "cadre", "status")},
                    "eliminated": {"type": "boolean"}, "eliminated_on": {"type": ["string", "null"]}}},
                "Case": _object(_case_base()),
                "CaseRow": _object({**_case_base(), **_waiting()}),
                "CaseDetail": _object({
                    **_case_base(),
                    "current_tasks": {"type": "array", "items": _object({**TASK_PROPERTIES, "holder": STR})},
                    "measures": {"type": "array", "items": _measure()},
                    **{k: {"type": "array", "items": obj} for k in (
                        "review_meetings", "elimination_checks", "elimination_reversals")},
                    "history": {"type": "array", "items": _event()}}),
            },
        },
    }
