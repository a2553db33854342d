"""The audit log is the `event` table: every state change, log-in, export, reveal of a full ID number, deploy
and migration, with who, when, from where and what. History is evidence in accountability referrals, so it is
append-only twice over: the ORM refuses to flush or execute a change to it (this module), and the database
refuses one with a trigger (migration 0009), which also stops anyone with SQL access but not table ownership."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from flask import has_request_context, request
from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from app.areas import below
from app.clock import china_moment, to_china
from app.excel.tables import DATETIME, TEXT, TableColumn, write_table
from app.extensions import db
from app.models import Event, User
from app.vocab import DECISION_LABELS


class AuditLogIsAppendOnly(RuntimeError):
    """Raised before any UPDATE or DELETE of an audit event reaches the database."""


# Chinese names of the event kinds, for the audit page and its export. Kinds not listed show as they are.
KIND_LABELS: dict[str, str] = {
    "login": "登录", "logout": "退出登录", "login_failed": "登录失败", "login_locked": "账号临时锁定",
    "api_token_revoked": "接口令牌注销",
    "screening_started": "启动月度排查", "household_registered": "登记风险户", "registration_removed": "撤销登记",
    "case_opened": "建立案件", "task_completed": "办理任务", "timer_fired": "期满（定时）",
    "task_claimed": "认领任务", "task_released": "释放任务", "task_reassigned": "转办任务",
    "cadre_assigned": "确定包抓干部", "cadre_changed": "更换包抓干部",
    "case_closed": "销号", "case_rejected": "不予认定",
    "comment_added": "办理备注", "attachment_added": "上传附件",
    "process_deployed": "部署流程", "process_rolled_back": "回滚流程", "instance_migrated": "迁移案件流程版本",
    "annex_exported": "导出附件1/附件2", "case_list_exported": "导出案件清单",
    "annual_review_exported": "导出年度考核", "import_errors_exported": "导出导入错误说明",
    "audit_exported": "导出审计日志", "id_number_revealed": "查看完整证件号码",
    "setting_changed": "修改县级设置", "monitoring_line_set": "设定监测标准",
    "lead_recorded": "登记风险线索", "lead_declared": "农户自主申报", "lead_merged": "线索并入在办事项",
    "lead_document_added": "上传承诺授权书",
    "case_eliminated": "标注风险消除", "elimination_reverted": "回退风险消除",
    "monitoring_roster_exported": "导出监测对象名单", "elimination_list_exported": "导出风险消除名单",
    "department_list_uploaded": "上传部门名单", "department_mapping_saved": "保存名单列对应",
    "warning_rule_changed": "修改预警规则", "measure_progress": "部门登记措施进展",
    "measure_recorded": "登记措施落实", "measures_added": "补充帮扶措施", "household_checked": "逐户排查记录",
    "process_offered": "提供新版流程图", "national_roster_exported": "导出国家系统格式名单",
    "national_changes_exported": "导出国家系统变更数据", "national_reconciliation_started": "开始与国家系统比对",
    "national_reconciliation_exported": "导出比对报告", "national_reconciliation_applied": "按比对结果导入",
}

def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def record(kind: str, actor: User | None, text: str, data: dict[str, Any] | None = None) -> Event:
    """An audit event that belongs to no case or screening (exports, reveals, log-outs); the caller commits."""
    entry = Event(kind=kind, actor_id=actor.id if actor else None, task_name=text[:160], data=data)
    db.session.add(entry)
    return entry


# ---- append-only, in the application --------------------------------------------------------------------

def _refuse_changed_events(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly(f"audit event {obj.id} may not be changed or deleted")


def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == Event.__tablename__:
        raise AuditLogIsAppendOnly("UPDATE or DELETE of the audit log is refused")


def request_address() -> str | None:
    """Where an action came from: every event written while serving a request names the client's address
    (events written as table rows, e.g. by the workflow runtime, ask here too)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def _fill_remote_addr(_mapper: Any, _connection: Any, target: Event) -> None:
    if target.remote_addr is None:
        target.remote_addr = request_address()


def guard_append_only() -> None:
    """Install the listeners once per process (they are global to SQLAlchemy sessions)."""
    if not event.contains(Session, "before_flush", _refuse_changed_events):
        event.listen(Session, "before_flush", _refuse_changed_events)
        event.listen(Session, "do_orm_execute", _refuse_bulk_changes)
        event.listen(Event, "before_insert", _fill_remote_addr)


# ---- reading and exporting a period ---------------------------------------------------------------------

@dataclass(frozen=True)
class AuditQuery:
    """A period of China-time days, both ends included, optionally one kind and one user name; within an area
    (a county's supervisor reads what that county's users did), or everything (None)."""

    start: date
    end: date
    kind: str | None = None
    username: str | None = None
    area_code: str | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None, kind: str | None = None, username: str | None = None,
              *, today: date, area_code: str | None = None) -> AuditQuery:
        """From form or command-line text; ValueError with a Chinese message when a date is wrong."""
        try:
            first = date.fromisoformat(start) if start else today - timedelta(days=30)
            last = date.fromisoformat(end) if end else today
        except ValueError as exc:
            raise ValueError("日期格式应为 YYYY-MM-DD") from exc
        if last < first:
            raise ValueError("结束日期不能早于开始日期")
        if (last - first).days > 366 * 5:
            raise ValueError("一次最多查询五年的日志")
        return cls(first, last, (kind or "").strip() or None, (username or "").strip() or None, area_code)

    @property
    def utc_range(self) -> tuple[datetime, datetime]:
        return china_moment(self.start, 0), china_moment(self.end + timedelta(days=1), 0)

    def statement(self) -> Select[Any]:
        begin, finish = self.utc_range
        stmt = select(Event).where(Event.at >= begin, Event.at < finish)
        if self.kind:
            stmt = stmt.where(Event.kind == self.kind)
        if self.username:
            stmt = stmt.where(Event.actor_id == select(User.id).where(User.username == self.username)
                              .scalar_subquery())
        if self.area_code:
            stmt = stmt.where(Event.actor_id.in_(select(User.id).where(below(User.area_code, self.area_code))))
        return stmt


def count_events(query: AuditQuery) -> int:
    return int(db.session.scalar(select(func.count()).select_from(query.statement().subquery())) or 0)


def page_of_events(query: AuditQuery, page: int, per_page: int) -> list[Event]:
    stmt = query.statement().order_by(Event.at.desc(), Event.id.desc())
    return list(db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page)))


def iter_export_rows(query: AuditQuery, batch: int = 5000) -> Iterator[list[Any]]:
    """Oldest first, as plain rows in keyset batches, so a year of history never sits in memory as objects."""
    import json

    actor, behalf = aliased(User), aliased(User)
    base = (query.statement().with_only_columns(
        Event.id, Event.at, Event.kind, actor.full_name, actor.username, behalf.full_name, Event.remote_addr,
        Event.subject_kind, Event.subject_id, Event.task_name, Event.decision, Event.opinion, Event.data)
        .outerjoin(actor, Event.actor_id == actor.id).outerjoin(behalf, Event.on_behalf_of_id == behalf.id))
    from app.workflow.runtime import HOOKS  # the runtime records through this module

    nouns = {kind: hooks.noun for kind, hooks in HOOKS.items()}
    last_id = 0
    while True:
        rows = db.session.execute(base.where(Event.id > last_id).order_by(Event.id).limit(batch)).all()
        if not rows:
            return
        for (event_id, at, kind, name, username, behalf_name, remote, subject_kind, subject_id, task_name,
             decision, opinion, data) in rows:
            subject = f"{nouns.get(subject_kind, subject_kind)} #{subject_id}" if subject_kind else ""
            yield [event_id, to_china(at).replace(tzinfo=None), kind_label(kind), name or "系统", username or "",
                   behalf_name or "", remote or "", subject, task_name or "",
                   DECISION_LABELS.get(decision, decision) if decision else "",
                   opinion or "", json.dumps(data, ensure_ascii=False, sort_keys=True) if data else ""]
        last_id = rows[-1][0]


EXPORT_COLUMNS: Sequence[TableColumn] = (
    TableColumn("序号", 9), TableColumn("时间", 17, DATETIME), TableColumn("类别", 16),
    TableColumn("操作人", 14), TableColumn("账号", 16, TEXT), TableColumn("代理谁", 12),
    TableColumn("来源地址", 16, TEXT), TableColumn("业务对象", 14),
    TableColumn("事项", 40, wrap=True), TableColumn("结论", 10), TableColumn("意见", 30, wrap=True),
    TableColumn("详细", 40, TEXT, wrap=True),
)


def write_audit_workbook(query: AuditQuery, county_name: str, out: IO[bytes]) -> int:
    """The period's events as a print-ready list; returns how many."""
    title = f"{county_name}返贫监测系统审计日志"
    subtitle = f"期间：{query.start.isoformat()} 至 {query.end.isoformat()}" + (
        f"　类别：{kind_label(query.kind)}" if query.kind else "") + (
        f"　账号：{query.username}" if query.username else "")
    return write_table(title, subtitle, EXPORT_COLUMNS, iter_export_rows(query), out,
                       sheet_name="审计日志")


def export_filename(query: AuditQuery) -> str:
    return f"审计日志_{query.start.isoformat()}_{query.end.isoformat()}.xlsx"
