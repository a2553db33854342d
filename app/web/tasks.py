"""The inbox and the task pages: each user's ready tasks, a form per task, submit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.access import can_act_on, can_claim, can_reassign
from app.cases.measures import record_measure_result
from app.clock import china_today
from app.deadlines.calendar import uncovered_years
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Area, ReadyTask, WorkflowInstance
from app.tasks import batch as batch_ops
from app.tasks import operations as task_ops
from app.tasks.inbox import inbox_page, inbox_steps
from app.workflow import runtime
from app.workflow.runtime import TaskFormInvalid

bp = Blueprint("tasks", __name__)


@bp.route("/")
@login_required
def inbox() -> str:
    today = china_today()
    step = request.args.get("step", "")
    page = inbox_page(current_user, step=step or None, overdue_before=today if request.args.get("overdue") else None,
                      oldest_first=request.args.get("sort") == "oldest",
                      page=max(request.args.get("page", 1, type=int) or 1, 1))
    tasks = page.tasks
    codes = {t.village_code for t in tasks}
    villages = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all()) if codes else {}
    from app.departments.measures import department_measures, pending_count

    # A department's work is the measures it leads (no workflow task is its): they head its inbox.
    pending = pending_count(current_user)
    measures = department_measures(current_user, limit=20) if pending else []
    return render_template("tasks/inbox.html", tasks=tasks, page=page, today=today, steps=inbox_steps(current_user),
                           args=request.args, villages=villages, department_pending=pending,
                           department_measures=measures,
                           uncovered=uncovered_years(*(t.due_on for t in tasks if t.due_on)))


def _task_page(task: ReadyTask, form: object, status: int = 200, draft: object = None,
               **more: object) -> tuple[str, int]:
    subject = runtime.subject_of(task)
    instance = db.session.get(WorkflowInstance, task.instance_id)
    hooks = runtime.hooks_for(task.subject_kind)
    extra = hooks.page_context(subject, task, request.args)
    may_reassign = can_reassign(current_user, task)
    return render_template("tasks/task.html", task=task, form=form, subject=subject, hooks=hooks, draft=draft,
                           revision=instance.revision if instance else 0, may_reassign=may_reassign,
                           people=task_ops.handover_targets(task, current_user) if may_reassign else [],
                           **extra, **more), status


@bp.route("/tasks/<int:task_id>")
@login_required
def show(task_id: int) -> Response | tuple[str, int]:
    task = db.session.get(ReadyTask, task_id)
    if task is None:
        flash("该任务已办理或已不存在", "warning")
        return redirect(url_for("tasks.inbox"))
    if not (can_act_on(current_user, task) or can_claim(current_user, task)):
        abort(403)
    draft = task_ops.draft_for(task, current_user)
    formdata: MultiDict[str, str] | None = MultiDict([(name, value) for name, value in draft.fields]) if draft else None
    return _task_page(task, runtime.build_form(task, formdata=formdata), draft=draft)


def _back(task_id: int) -> Response:
    return redirect(url_for("tasks.show", task_id=task_id) if db.session.get(ReadyTask, task_id)
                    else url_for("tasks.inbox"), code=303)


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int) -> Response:
    try:
        task_ops.claim(task_id, current_user)
    except Conflict as exc:
        flash(exc.message, "warning")
        return _back(task_id)
    db.session.commit()
    flash("已认领：同事将看到由您办理", "success")
    return _back(task_id)


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int) -> Response:
    task_ops.release(task_id, current_user)
    db.session.commit()
    flash("已释放：本组其他人可以认领办理", "info")
    return _back(task_id)


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@login_required
def reassign(task_id: int) -> Response:
    task_ops.reassign(task_id, current_user, request.form.get("user_id", type=int) or 0)
    db.session.commit()
    flash("已转办", "success")
    return _back(task_id)


@bp.route("/tasks/<int:task_id>/draft", methods=["POST"])
@login_required
def save_draft(task_id: int) -> Response | tuple[str, int]:
    task = runtime.get_ready_task(task_id)
    if not can_act_on(current_user, task):
        abort(403)
    task_ops.save_draft(task, current_user, list(request.form.items(multi=True)))
    db.session.commit()
    if request.form.get("action") == "draft":
        flash("草稿已保存，下次打开时会自动载入", "success")
        return redirect(url_for("tasks.show", task_id=task_id), code=303)
    return "", 204


@bp.route("/tasks/<int:task_id>", methods=["POST"])
@login_required
def complete(task_id: int) -> Response | tuple[str, int]:
    revision = request.form.get("revision", type=int)
    try:
        runtime.complete_user_task(task_id, request.form, current_user, revision, request.remote_addr)
    except TaskFormInvalid as exc:
        db.session.rollback()
        task = runtime.get_ready_task(task_id)
        return _task_page(task, exc.form, 422)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("tasks.inbox"), code=303)
    db.session.commit()
    flash("已提交，流程已流转到下一环节", "success")
    return redirect(url_for("tasks.inbox"))


@bp.route("/tasks/<int:task_id>/measures/<int:measure_id>", methods=["POST"])
@login_required
def record_measure(task_id: int, measure_id: int) -> Response | tuple[str, int]:
    """One measure of the plan recorded as done (落实日期, 落实情况), saved at once; the task stays open."""
    try:
        measure = record_measure_result(task_id, measure_id, current_user, request.form.get("completed_on", ""),
                                        request.form.get("result", ""))
    except InvalidInput as exc:
        db.session.rollback()
        task = runtime.get_ready_task(task_id)
        typed = {"completed_on": request.form.get("completed_on", ""), "result": request.form.get("result", "")}
        return _task_page(task, runtime.build_form(task), 422, measure_errors={measure_id: exc.errors},
                          measure_values={measure_id: typed})
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _back(task_id)
    db.session.commit()
    flash(f"已登记“{measure.content[:40]}”的落实情况", "success")
    return redirect(url_for("tasks.show", task_id=task_id, _anchor="measure-records"), code=303)


# ---- 批量审批: several cases of one town at once, each its own step (app/tasks/batch.py) ---------------------

def _batch_page(step: str, town: str, status: int = 200, **extra: object) -> tuple[str, int]:
    overview = batch_ops.batch_overview(current_user, step, town)
    return render_template("tasks/batch.html", overview=overview, limit=batch_ops.BATCH_LIMIT, **extra), status


@bp.route("/tasks/batch")
@login_required
def batch() -> tuple[str, int]:
    return _batch_page(request.args.get("step", ""), request.args.get("town", ""))


def _chosen(values: list[str]) -> list[tuple[int, int | None]]:
    """The ticked tasks, each "task id:revision seen"."""
    chosen = []
    for value in values:
        task_id, _, revision = value.partition(":")
        if task_id.isdigit():
            chosen.append((int(task_id), int(revision) if revision.isdigit() else None))
    return chosen


@bp.route("/tasks/batch", methods=["POST"])
@login_required
def approve_batch() -> tuple[str, int]:
    step, town = request.form.get("step", ""), request.form.get("town", "")
    opinion = request.form.get("opinion", "")
    try:
        result = batch_ops.approve_in_batch(current_user, step, town, _chosen(request.form.getlist("task")),
                                            opinion, request.remote_addr)
    except InvalidInput as exc:
        db.session.rollback()
        return _batch_page(step, town, 422, error=exc, opinion=opinion)
    return _batch_page(step, town, result=result)
