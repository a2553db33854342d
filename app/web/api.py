"""JSON API under /api/v1: the same operations as the web pages, for scripts and other systems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import bindparam, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.access import (
    can_act_on,
    can_claim,
    can_see_case,
    can_see_screening,
    inbox_clause,
    is_administrator,
    screening_clause,
)
from app.accounts.operations import LoginFailed, LoginLocked, issue_token, log_in, revoke_token, user_for_token
from app.areas import below
from app.cases import operations as case_ops
from app.cases.queries import list_cases, search_households
from app.clock import china_today, to_china
from app.deadlines.policy import days_overdue
from app.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, TaskAlreadyDone
from app.extensions import csrf, db, table_of
from app.households.idnumber import masked_id
from app.models import Case, Event, Household, Measure, ReadyTask, Screening, User, WorkflowInstance
from app.models.workflow import task_title
from app.roles import role_label
from app.screenings import operations as screening_ops
from app.supervision.cases import current_tasks_of
from app.web.openapi import openapi_document
from app.workflow import runtime
from app.workflow.write import table_connection

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: no cross-site request can carry them


class Unauthorized(DomainError):
    status = 401


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        user = user_for_token(raw.strip()) if scheme.lower() == "bearer" and raw.strip() else None
        if user is None:
            raise Unauthorized("缺少或无效的访问令牌（Authorization: Bearer <token>）")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("请求体必须是 JSON 对象")
    return body


MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integer columns (PostgreSQL int4); larger numbers name no row


def _row_id(value: Any) -> int | None:
    """A row id given in a JSON body: None unless an integer (not a boolean); one outside the id columns' range
    becomes 0, which names no row (the operation refuses it after its own permission checks)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 0 < value <= MAX_ROW_ID else 0


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "full_name": user.full_name, "role": user.role,
            "role_label": role_label(user.role), "area_code": user.area_code, "area_name": user.area.name,
            "unit": user.unit}


def household_json(h: Household) -> dict[str, Any]:
    """ID numbers masked, as in every list (POST /households/{id}/id-numbers reveals them, logged)."""
    return {"id": h.id, "household_no": h.household_no, "head_name": h.head_name,
            "head_id_number_masked": masked_id(h.head_id_number), "size": h.size, "kind": h.kind,
            "lifted_year": h.lifted_year,
            "village_code": h.village_code, "village_name": h.village.name, "town_code": h.town_code}


def task_json(task: Any) -> dict[str, Any]:
    """A ReadyTask, or a row of its table."""
    return {"id": task.id, "name": task.name, "title": task_title(task.context_name, task.name),
            "bpmn_id": task.bpmn_id, "form": task.form_key, "role": task.role, "village_code": task.village_code,
            "town_code": task.town_code, "assignee_id": task.assignee_id,
            "subject_kind": task.subject_kind, "subject_id": task.subject_id,
            # The two kinds every client has known by their own names.
            "case_id": task.subject_id if task.subject_kind == "case" else None,
            "screening_id": task.subject_id if task.subject_kind == "screening" else None,
            "subject": task.subject, "ready_since": _iso(task.ready_since),
            "due_on": task.due_on.isoformat() if task.due_on else None, "claimed_by_id": task.claimed_by_id,
            "claimed_at": _iso(task.claimed_at)}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


# A case's own records that a procedure's package adds to its detail (name -> the records as JSON): empty lists
# for a case with none.
CASE_RECORDS: dict[str, Callable[[Case], list[dict[str, Any]]]] = {}


def measure_json(m: Measure) -> dict[str, Any]:
    """One measure of a case's plan, as the case and the cadre's task carry it."""
    return {"id": m.id, "content": m.content, "measure_type": m.measure_type,
            "responsible_unit": m.responsible_unit, "deadline": m.deadline.isoformat(), "status": m.status,
            "completed_on": m.completed_on.isoformat() if m.completed_on else None, "result": m.result,
            "first_aid": m.first_aid}


def case_json(case: Case, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": case.id, "status": case.status, "current_step": case.current_step, "risk_type": case.risk_type,
        "risk_level": case.risk_level, "reason": case.reason, "village_code": case.village_code,
        "town_code": case.town_code, "cadre_id": case.cadre_id, "opened_at": _iso(case.opened_at),
        "closed_at": _iso(case.closed_at), "household": household_json(case.household),
        "procedure": case.procedure, "category": case.category, "channel": case.channel,
        "fast_path": case.fast_path, "discovered_on": _day(case.discovered_on),
        "decision_due_on": _day(case.decision_due_on), "identified_on": _day(case.identified_on),
        "eliminated_on": _day(case.eliminated_on),
    }
    if detail:
        tasks = case_ops.case_ready_tasks(case)
        body["current_tasks"] = [dict(task_json(t), holder=case_ops.holder_label(t, case)) for t in tasks]
        body["measures"] = [measure_json(m) for m in case.measures]
        for name, records in CASE_RECORDS.items():
            body[name] = records(case)
        body["history"] = [event_json(e) for e in case_ops.case_history(case)]
    return body


def event_json(e: Event) -> dict[str, Any]:
    return {"at": _iso(e.at), "kind": e.kind, "bpmn_id": e.bpmn_id, "task": e.task_name, "decision": e.decision,
            "opinion": e.opinion,
            "actor": e.actor.username if e.actor else None,
            "actor_name": e.actor.full_name if e.actor else None}


def screening_json(s: Screening) -> dict[str, Any]:
    return {"id": s.id, "month": s.month, "village_code": s.village_code, "village_name": s.village.name,
            "status": s.status, "households_total": s.households_total,
            "households_checked": s.households_checked,
            "registrations": [{"id": r.id, "household_id": r.household_id, "head_name": r.household.head_name,
                               "risk_type": r.risk_type, "reason": r.reason, "key_assistance": r.key_assistance,
                               "case_id": r.case_id} for r in s.registrations]}


# Each kind of subject as the API shows it (a package with its own API adds its kind: app/web/api_leads.py).
SUBJECT_JSON: dict[str, Callable[[Any], dict[str, Any]]] = {"case": case_json, "screening": screening_json}


def to_formdata(body: dict[str, Any]) -> MultiDict[str, str]:
    """JSON → the form encoding WTForms reads, so that the API and the web validate the same way."""
    pairs: list[tuple[str, str]] = []

    def add(name: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            if value:
                pairs.append((name, "y"))
        elif isinstance(value, dict):
            for key, sub in value.items():
                add(f"{name}-{key}", sub)
        elif isinstance(value, list):
            if value and all(isinstance(v, dict) for v in value):
                for index, item in enumerate(value):
                    add(f"{name}-{index}", item)
            else:
                for item in value:
                    pairs.append((name, str(item)))
        else:
            pairs.append((name, str(value)))

    for key, value in body.items():
        if key != "revision":
            add(key, value)
    return MultiDict(pairs)


@bp.route("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.route("/auth/token", methods=["POST"])
def token() -> tuple[Response, int]:
    body = _json_body()
    try:
        user = log_in(str(body.get("username", "")), str(body.get("password", "")), request.remote_addr,
                      via="api")
    except (LoginFailed, LoginLocked):
        db.session.commit()  # keep the attempt and its audit event; the error handler answers 401 or 429
        raise
    raw, record = issue_token(user, hours=int(current_app.config["API_TOKEN_HOURS"]))
    db.session.commit()
    return jsonify({"token": raw, "token_type": "Bearer", "expires_at": _iso(record.expires_at),
                    "user": user_json(user)}), 201


@bp.route("/auth/revoke", methods=["POST"])
@token_required
def revoke() -> Response:
    """End the presented token now; later requests with it get 401."""
    revoke_token(request.headers["Authorization"].partition(" ")[2].strip(), request.remote_addr)
    db.session.commit()
    return jsonify({"revoked": True})


@bp.route("/me")
@token_required
def me() -> Response:
    return jsonify(user_json(g.api_user))


@bp.route("/users")
@token_required
def users() -> Response:
    if not is_administrator(g.api_user):
        raise PermissionDenied("只有系统管理员可以查看用户列表")
    # The users of the administrator's area (a county's administrator lists the county's people).
    rows = db.session.scalars(select(User).where(below(User.area_code, g.api_user.area_code))
                              .order_by(User.username)).all()
    return jsonify({"users": [user_json(u) for u in rows]})


@bp.route("/households")
@token_required
def households() -> Response:
    rows = search_households(g.api_user, request.args.get("q", ""), request.args.get("village"),
                             limit=min(request.args.get("limit", 50, type=int), 200))
    return jsonify({"households": [household_json(h) for h in rows]})


@bp.route("/screenings", methods=["POST"])
@token_required
def start_screening() -> tuple[Response, int]:
    body = _json_body()
    created = screening_ops.start_monthly_screening(str(body.get("month", "")), g.api_user)
    db.session.commit()
    return jsonify({"month": body.get("month"), "created": len(created),
                    "screening_ids": [s.id for s in created]}), 201 if created else 200


@bp.route("/screenings")
@token_required
def list_screenings() -> Response:
    stmt = select(Screening).where(screening_clause(g.api_user))
    if request.args.get("month"):
        stmt = stmt.where(Screening.month == request.args["month"])
    rows = db.session.scalars(stmt.order_by(Screening.month.desc(), Screening.village_code).limit(500)).all()
    return jsonify({"screenings": [screening_json(s) for s in rows]})


@bp.route("/screenings/<int:screening_id>")
@token_required
def show_screening(screening_id: int) -> Response:
    screening = screening_ops.get_screening(screening_id)
    if not can_see_screening(g.api_user, screening):
        raise PermissionDenied("您无权查看该村的排查")
    return jsonify(screening_json(screening))


@bp.route("/screenings/<int:screening_id>/registrations", methods=["POST"])
@token_required
def register_household(screening_id: int) -> tuple[Response, int]:
    body = _json_body()
    screening = screening_ops.get_screening(screening_id)
    try:
        household_id = int(body.get("household_id") or 0)
    except (TypeError, ValueError, OverflowError):
        household_id = 0
    household_id = household_id if 0 < household_id <= MAX_ROW_ID else 0
    registration = screening_ops.register_household(screening, household_id, str(body.get("risk_type", "")),
                                                    str(body.get("reason", "")), g.api_user)
    db.session.commit()
    return jsonify({"id": registration.id, "screening_id": screening.id}), 201


@bp.route("/screenings/<int:screening_id>/checks")
@token_required
def screening_checks(screening_id: int) -> Response:
    """逐户排查: the village's households and each one's check this month, and the coverage counted from them."""
    from app.screenings import checks

    screening = screening_ops.get_screening(screening_id)
    if not can_see_screening(g.api_user, screening):
        raise PermissionDenied("您无权查看该村的排查")
    covered = checks.coverage(screening)
    rows = checks.village_households(screening, limit=100_000)
    return jsonify({"screening_id": screening.id, "month": screening.month,
                    "coverage": {"total": covered.total, "checked": covered.checked,
                                 "not_checked_with_reason": covered.with_reason, "unaccounted": covered.unaccounted},
                    "households": [{"household_id": r.household.id, "head_name": r.household.head_name,
                                    "household_no": r.household.household_no,
                                    "check": r.check.as_dict() if r.check else None} for r in rows]})


@bp.route("/screenings/<int:screening_id>/checks/<int:household_id>", methods=["PUT"])
@token_required
def record_screening_check(screening_id: int, household_id: int) -> Response:
    """One household's check (the phone form's fields, as JSON); a risk answered "yes" registers it in the roster."""
    from app.screenings import checks

    screening = screening_ops.get_screening(screening_id)
    if not can_see_screening(g.api_user, screening):
        raise PermissionDenied("您无权查看该村的排查")
    checks.ensure_may_record(screening, g.api_user)
    form = checks.check_form(screening, to_formdata(_json_body()))
    if not form.validate():
        raise InvalidInput("排查信息填写有误", errors={k: [str(m) for m in v] for k, v in form.errors.items()})
    check = checks.record_check(screening, household_id if 0 < household_id <= MAX_ROW_ID else 0,
                                form.check_data(), g.api_user)
    db.session.commit()
    return jsonify(check.as_dict())


@bp.route("/tasks")
@token_required
def tasks() -> Response:
    rows = db.session.scalars(select(ReadyTask).where(inbox_clause(g.api_user))
                              .order_by(ReadyTask.ready_since, ReadyTask.id).limit(500)).all()
    return jsonify({"tasks": [task_json(t) for t in rows]})


def _waiting_task(task_id: int) -> ReadyTask:
    """The task, if it still waits. A task that was completed is a conflict that says by whom and when (to those
    who may see its subject); only an id that never named a task is not found."""
    task = db.session.get(ReadyTask, task_id)
    if task is not None:
        return task
    done = runtime.task_completion(task_id) if 0 < task_id <= MAX_ROW_ID else None
    if done is None or done.subject_kind is None or done.subject_id is None:
        raise NotFound("任务不存在")
    hooks = runtime.hooks_for(done.subject_kind)
    visible = hooks.visible_to(g.api_user) if hooks.visible_to is not None else None
    if visible is None or db.session.scalar(select(hooks.model.id).where(hooks.model.id == done.subject_id, visible)) \
            is None:
        raise PermissionDenied("您无权查看此任务")
    actor = done.actor
    when = to_china(done.at).strftime("%Y-%m-%d %H:%M")
    raise TaskAlreadyDone(f"该任务已由{actor.full_name if actor else '系统'}于 {when} 办理，不能重复办理", {
        "task_id": task_id, "bpmn_id": done.bpmn_id, "completed_at": _iso(done.at),
        "completed_by": {"id": actor.id, "username": actor.username, "full_name": actor.full_name}
        if actor else None,
        "subject_kind": done.subject_kind, "subject_id": done.subject_id})


def _my_task(task_id: int) -> ReadyTask:
    task = _waiting_task(task_id)
    if not can_act_on(g.api_user, task):
        if task.claimed_by_id is not None and can_claim(g.api_user, task):
            raise Conflict("该任务已由他人认领，请联系其释放或由同组同事转办")
        raise PermissionDenied("您无权办理此任务")
    return task


@bp.route("/tasks/<int:task_id>")
@token_required
def show_task(task_id: int) -> Response:
    task = _my_task(task_id)
    form = runtime.build_form(task)
    instance = db.session.get(WorkflowInstance, task.instance_id)
    body = task_json(task)
    body["revision"] = instance.revision if instance else None
    body["form_title"] = form.title
    body["fields"] = type(form).describe(form.context)
    body["operations"] = task_operations(task)
    records: dict[str, Any] = {}
    for key in dict.fromkeys((task.subject_kind, task.form_key)):
        if key in TASK_RECORDS:
            records.update(TASK_RECORDS[key](task))
    body["records"] = records
    return jsonify(body)


def _link(rel: str, method: str, href: str, title: str) -> dict[str, str]:
    return {"rel": rel, "method": method, "href": href, "title": title}


# The operations that belong to a task beside its own (complete, claim, release), and the records they keep, by
# the task's subject kind or form key: a package with its own API adds its entries (app/web/api_leads.py).
TASK_LINKS: dict[str, Callable[[ReadyTask], list[dict[str, str]]]] = {}
TASK_RECORDS: dict[str, Callable[[ReadyTask], dict[str, Any]]] = {}


def task_operations(task: ReadyTask) -> list[dict[str, str]]:
    base = f"/api/v1/tasks/{task.id}"
    links = [_link("complete", "POST", f"{base}/complete", "提交表单（字段见 fields），流程流转到下一环节"),
             _link("claim", "POST", f"{base}/claim", "认领任务"),
             _link("release", "POST", f"{base}/release", "释放已认领的任务"),
             _link("reassign", "POST", f"{base}/reassign", "转办给本辖区同一角色的同事")]
    for key in dict.fromkeys((task.subject_kind, task.form_key)):  # a screening's own task is named "screening"
        if key in TASK_LINKS:
            links += TASK_LINKS[key](task)
    return links


def _case_links(task: ReadyTask) -> list[dict[str, str]]:
    base = f"/api/v1/cases/{task.subject_id}"
    return [_link("subject", "GET", base, "案件：户、当前环节、帮扶措施和全部历史"),
            _link("comments", "POST", f"{base}/comments", "对案件或本环节发表评论"),
            _link("attachments", "POST", f"{base}/attachments", "上传本环节的附件（照片、PDF）")]


def _screening_links(task: ReadyTask) -> list[dict[str, str]]:
    base = f"/api/v1/screenings/{task.subject_id}"
    links = [_link("subject", "GET", base, "本次排查及其登记的风险户（花名册）")]
    if task.form_key == "screening":
        links += [_link("checks", "GET", f"{base}/checks", "本村农户及其本月排查记录和覆盖情况"),
                  _link("check", "PUT", f"{base}/checks/{{household_id}}",
                        "登记一户的本月排查情况（有风险的户同时登记进花名册）"),
                  _link("registrations", "POST", f"{base}/registrations", "登记风险户（花名册，附件1）")]
    return links


def _screening_records(task: ReadyTask) -> dict[str, Any]:
    """The screening's registrations (the month's roster) and, while households are checked, the coverage."""
    screening = screening_ops.get_screening(task.subject_id)
    records: dict[str, Any] = {"registrations": screening_json(screening)["registrations"]}
    if task.form_key == "screening":
        from app.screenings import checks

        covered = checks.coverage(screening)
        records["coverage"] = {"total": covered.total, "checked": covered.checked,
                               "not_checked_with_reason": covered.with_reason, "unaccounted": covered.unaccounted}
    return records


TASK_LINKS.update(case=_case_links, screening=_screening_links)
TASK_RECORDS.update(screening=_screening_records)


# Rows of the table, not objects: the answer only reads their columns.
_READY_TASK_TABLE = table_of(ReadyTask)
_TASKS_OF_INSTANCES = (select(_READY_TASK_TABLE)
                       .where(_READY_TASK_TABLE.c.instance_id.in_(bindparam("instance_ids", expanding=True)))
                       .order_by(_READY_TASK_TABLE.c.id))


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@token_required
def complete_task(task_id: int) -> Response:
    body = _json_body()
    revision = body.get("revision")
    if revision is not None and not isinstance(revision, int):
        raise InvalidInput("revision 必须是整数", {"revision": ["revision 必须是整数"]})
    task = _waiting_task(task_id)  # held, so the runtime finds it in the session, not the database
    # complete_user_task checks who may act (role, area, stand-in, claim) with the same refusals as _my_task.
    done = runtime.complete_user_task(task_id, to_formdata(body), g.api_user, revision, request.remote_addr)
    kind = runtime.kind_of(done.subject)
    result: dict[str, Any] = {"completed": True, "subject_kind": kind, "subject_id": done.subject.id}
    # The subject as its own operations answer it, under its kind's name (case, screening, lead), before the
    # commit expires what the step just loaded.
    result[kind] = SUBJECT_JSON[kind](done.subject)
    # What the step led to, so a client goes on without asking again: the tasks now waiting (whoever holds
    # them), in this instance and in those the step started (the cases an assessment meeting opened), and the
    # revision to send with the next submit.
    result["next_tasks"] = [task_json(t) for t in table_connection().execute(
        _TASKS_OF_INSTANCES, {"instance_ids": [task.instance_id, *done.started]})]
    result["revision"] = done.revision
    db.session.commit()
    return jsonify(result)


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@token_required
def claim_task(task_id: int) -> Response:
    from app.tasks import operations as task_ops

    task = task_ops.claim(task_id, g.api_user)
    db.session.commit()
    return jsonify(task_json(task))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@token_required
def release_task(task_id: int) -> Response:
    from app.tasks import operations as task_ops

    task = task_ops.release(task_id, g.api_user)
    db.session.commit()
    return jsonify(task_json(task))


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@token_required
def reassign_task(task_id: int) -> Response:
    from app.tasks import operations as task_ops

    target = _row_id(_json_body().get("user_id"))
    if target is None:
        raise InvalidInput("请给出接手人 user_id（整数）", {"user_id": ["请给出接手人 user_id（整数）"]})
    task = task_ops.reassign(task_id, g.api_user, target)
    db.session.commit()
    return jsonify(task_json(task))


@bp.route("/cases")
@token_required
def cases() -> Response:
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", 50, type=int), 1), 200)
    total, rows = list_cases(g.api_user, request.args, page, per_page)
    waiting = current_tasks_of([c.id for c in rows])
    return jsonify({"total": total, "page": page, "per_page": per_page,
                    "cases": [dict(case_json(c), **waiting_json(waiting.get(c.id, []))) for c in rows]})


def waiting_json(tasks: list[Any]) -> dict[str, Any]:
    """Where a case waits, as the HTML case list shows it: whose move it is (role and holder), since when, by when
    (the earliest of its waiting tasks), and each waiting task."""
    today = china_today()
    dated = [t.due_on for t in tasks if t.due_on is not None]
    due = min(dated) if dated else None
    return {
        "owner_role": tasks[0].role if tasks else None,
        "owner_role_label": role_label(tasks[0].role) if tasks else None,
        "holder": "；".join(t.holder for t in tasks) or None,
        "waiting_since": _iso(min(t.ready_since for t in tasks)) if tasks else None,
        "due_on": _day(due), "days_overdue": days_overdue(due, today),
        "waiting": [{"task_id": t.task_id, "bpmn_id": t.bpmn_id, "title": t.title, "role": t.role,
                     "assignee_id": t.assignee_id, "holder": t.holder, "ready_since": _iso(t.ready_since),
                     "due_on": _day(t.due_on)} for t in tasks],
    }


@bp.route("/cases/<int:case_id>")
@token_required
def show_case(case_id: int) -> Response:
    case = case_ops.get_case(case_id)
    if not can_see_case(g.api_user, case):
        raise PermissionDenied("您无权查看该案件")
    return jsonify(case_json(case, detail=True))


# ---- process definitions (administrators) ---------------------------------------------------------------

def _administrator() -> User:
    if not is_administrator(g.api_user):
        raise PermissionDenied("只有系统管理员可以管理流程")
    return g.api_user  # type: ignore[no-any-return]


def _bpmn_body() -> str:
    from werkzeug.exceptions import RequestEntityTooLarge

    from app.processes.validation import MAX_BYTES

    # A diagram is at most MAX_BYTES: a longer body is refused before it is read into the worker's memory.
    request.max_content_length = MAX_BYTES
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise InvalidInput(f"文件过大（超过 {MAX_BYTES // 1024 // 1024} MB）") from exc
    if not data:
        raise InvalidInput("请求体应为 BPMN XML")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("请求体不是 UTF-8 编码的 XML") from exc


def _version_json(version: Any, running: int | None = None) -> dict[str, Any]:
    result = {"id": version.id, "process_key": version.process_key, "version": version.version,
              "name": version.name, "is_current": version.is_current, "deployed_at": _iso(version.deployed_at),
              "deployed_by": version.deployed_by.username if version.deployed_by else None,
              "dependencies": version.dependencies}
    if running is not None:
        result["running_instances"] = running
    return result


@bp.route("/processes/validate", methods=["POST"])
@token_required
def validate_process() -> tuple[Response, int]:
    from app.processes import admin
    from app.processes.validation import BpmnRefused

    _administrator()
    try:
        result = admin.validate_xml(_bpmn_body(), request.args.get("process_key") or None)
    except BpmnRefused as exc:
        return jsonify({"valid": False, "process_keys": [],
                        "problems": [{"element_id": None, "message": exc.message}]}), 422
    return jsonify(result.as_json()), 200


@bp.route("/processes")
@token_required
def list_processes() -> Response:
    from app.processes import admin

    _administrator()
    return jsonify({"processes": [
        {"process_key": d.process_key, "name": d.name, "current_version_id": d.current.id if d.current else None,
         "versions": [_version_json(v, d.running[v.id]) for v in d.versions]} for d in admin.definitions()]})


@bp.route("/processes/<process_key>/versions", methods=["POST"])
@token_required
def deploy_process(process_key: str) -> tuple[Response, int]:
    from app.processes import admin

    actor = _administrator()
    try:
        version = admin.deploy(_bpmn_body(), actor, process_key=process_key)
    except admin.DeployRefused as exc:
        db.session.rollback()
        return jsonify({"valid": False, "problems": [p.as_json() for p in exc.problems]}), 422
    db.session.commit()
    return jsonify(_version_json(version)), 201


@bp.route("/processes/versions/<int:version_id>/rollback", methods=["POST"])
@token_required
def rollback_process(version_id: int) -> Response:
    from app.processes import admin

    actor = _administrator()
    version = admin.get_version(version_id)
    admin.rollback(version, actor)
    db.session.commit()
    return jsonify(_version_json(version))


@bp.route("/cases/<int:case_id>/migrate", methods=["POST"])
@token_required
def migrate_case(case_id: int) -> Response:
    from app.processes import admin

    actor = _administrator()
    case = case_ops.get_case(case_id)
    target_id = _row_id(_json_body().get("version_id"))
    if target_id is None:
        raise InvalidInput("请给出目标版本 version_id（整数）", {"version_id": ["请给出目标版本 version_id（整数）"]})
    instance = db.session.get(WorkflowInstance, case.instance_id)
    assert instance is not None
    admin.migrate_case_instance(instance, admin.get_version(target_id), actor)
    db.session.commit()
    return jsonify({"case_id": case.id, "process_version_id": instance.process_version_id,
                    "current_tasks": [t.bpmn_id for t in case_ops.case_ready_tasks(case)]})


# ---- the household file (户档案) -------------------------------------------------------------------------

@bp.route("/households/<int:household_id>")
@token_required
def household_file(household_id: int) -> Response:
    from app.households.file import household_file as build_file
    from app.households.file import visible_household

    file = build_file(visible_household(g.api_user, household_id))
    h = file.household
    household = household_json(h)
    household.update(town_name=file.town.name if file.town else None, lifted_year_label=h.lifted_year_label)
    return jsonify({
        "household": household,
        "members": [{"name": m.name, "relation": m.relation, "id_number_masked": m.masked_id_number}
                    for m in file.members],
        "cases": [{"id": c.id, "status": c.status, "risk_type": c.risk_type, "risk_level": c.risk_level,
                   "current_step": c.current_step, "cadre_id": c.cadre_id,
                   "cadre_name": c.cadre.full_name if c.cadre else None, "opened_at": _iso(c.opened_at),
                   "closed_at": _iso(c.closed_at)} for c in file.cases],
        "measures": [{"id": m.id, "case_id": m.case_id, "content": m.content, "measure_type": m.measure_type,
                      "responsible_unit": m.responsible_unit, "deadline": m.deadline.isoformat(), "status": m.status,
                      "completed_on": m.completed_on.isoformat() if m.completed_on else None, "result": m.result}
                     for m in file.measures],
        "registrations": [{"screening_id": r.screening_id, "month": r.screening.month, "risk_type": r.risk_type,
                           "reason": r.reason, "key_assistance": r.key_assistance, "case_id": r.case_id,
                           "registered_at": _iso(r.registered_at)} for r in file.registrations],
        "history": [{"at": _iso(e.at), "kind": e.kind, "task": e.title, "decision": e.decision, "opinion": e.opinion,
                     "actor": e.actor.username if e.actor else None,
                     "actor_name": e.actor.full_name if e.actor else None, "case_id": e.case_id,
                     "screening_id": e.screening_id, "screening_month": e.screening_month} for e in file.history],
    })


@bp.route("/households/<int:household_id>/id-numbers", methods=["POST"])
@token_required
def reveal_id_numbers(household_id: int) -> Response:
    """The household's full ID numbers, for the roles that need them; each call is in the audit log."""
    from app.households.file import reveal_id_numbers as reveal
    from app.households.file import visible_household

    household = visible_household(g.api_user, household_id)
    reveal(g.api_user, household)
    db.session.commit()
    response = jsonify({"household_id": household.id, "head_id_number": household.head_id_number,
                        "members": [{"name": m.name, "relation": m.relation, "id_number": m.id_number}
                                    for m in household.members]})
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- comments and attachments of a case (issue 6) --------------------------------------------------------

def comment_json(c: Any) -> dict[str, Any]:
    return {"id": c.id, "case_id": c.case_id, "text": c.text, "task_uuid": c.task_uuid, "bpmn_id": c.bpmn_id,
            "task_name": c.task_name, "author": c.author.username, "author_name": c.author.full_name,
            "created_at": _iso(c.created_at)}


def attachment_json(a: Any) -> dict[str, Any]:
    from flask import url_for

    return {"id": a.id, "case_id": a.case_id, "file_name": a.file_name, "content_type": a.content_type,
            "size": a.size, "sha256": a.sha256, "task_uuid": a.task_uuid, "bpmn_id": a.bpmn_id,
            "task_name": a.task_name, "uploaded_by": a.uploaded_by.username,
            "uploaded_by_name": a.uploaded_by.full_name, "uploaded_at": _iso(a.uploaded_at),
            "download_url": url_for("api.download_attachment", attachment_id=a.id)}


@bp.route("/cases/<int:case_id>/comments")
@token_required
def case_comments(case_id: int) -> Response:
    from app.collab import operations as collab

    case = collab.visible_case(case_id, g.api_user)
    return jsonify({"comments": [comment_json(c) for c in collab.comments_for(case)]})


@bp.route("/cases/<int:case_id>/comments", methods=["POST"])
@token_required
def add_case_comment(case_id: int) -> tuple[Response, int]:
    from app.collab import operations as collab

    case = collab.writable_case(case_id, g.api_user)
    body = _json_body()
    text, task_id = body.get("text"), body.get("task_id")
    if not isinstance(text, str):
        raise InvalidInput("请给出评论内容 text（字符串）", {"text": ["请给出评论内容 text（字符串）"]})
    if task_id is not None and _row_id(task_id) is None:
        raise InvalidInput("task_id 必须是整数", {"task_id": ["task_id 必须是整数"]})
    task_id = _row_id(task_id)
    comment = collab.add_comment(case, text, g.api_user, task_id, request.remote_addr)
    db.session.commit()
    return jsonify(comment_json(comment)), 201


@bp.route("/cases/<int:case_id>/attachments")
@token_required
def case_attachments(case_id: int) -> Response:
    from app.collab import operations as collab

    case = collab.visible_case(case_id, g.api_user)
    return jsonify({"attachments": [attachment_json(a) for a in collab.attachments_for(case)],
                    "max_bytes": collab.max_bytes()})


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@token_required
def upload_case_attachment(case_id: int) -> tuple[Response, int]:
    from werkzeug.exceptions import RequestEntityTooLarge

    from app.collab import operations as collab
    from app.web.collab import FORM_OVERHEAD, too_large

    case = collab.visible_case(case_id, g.api_user)
    # A body far past the limit is refused before it is read (the stored copy is checked exactly as well).
    request.max_content_length = collab.max_bytes() + FORM_OVERHEAD
    try:
        upload = request.files.get("file")
        task_id = request.form.get("task_id")
    except RequestEntityTooLarge as exc:
        raise too_large() from exc
    attachment, created = collab.store_attachment(
        case, upload.stream if upload is not None else None, upload.filename if upload is not None else None,
        g.api_user, task_id, request.remote_addr)
    db.session.commit()
    return jsonify(dict(attachment_json(attachment), created=created)), 201 if created else 200


@bp.route("/attachments/<int:attachment_id>")
@token_required
def download_attachment(attachment_id: int) -> Response:
    from app.collab import operations as collab
    from app.web.collab import attachment_response

    return attachment_response(collab.get_attachment(attachment_id, g.api_user))
