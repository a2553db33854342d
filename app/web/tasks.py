"""The inbox and the task pages: each user's ready tasks, a form per task, submit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import can_act_on, inbox_clause
from app.clock import china_today
from app.deadlines.calendar import uncovered_years
from app.errors import Conflict
from app.extensions import db
from app.models import ReadyTask, WorkflowInstance
from app.workflow import runtime
from app.workflow.runtime import TaskFormInvalid

bp = Blueprint("tasks", __name__)


@bp.route("/")
@login_required
def inbox() -> str:
    # Due soonest first; tasks without a time limit after them, oldest first.
    tasks = db.session.scalars(
        select(ReadyTask).where(inbox_clause(current_user))
        .order_by(ReadyTask.due_on.is_(None), ReadyTask.due_on, ReadyTask.ready_since, ReadyTask.id).limit(500)
    ).all()
    return render_template("tasks/inbox.html", tasks=tasks, today=china_today(),
                           uncovered=uncovered_years(*(t.due_on for t in tasks if t.due_on)))


def _task_page(task: ReadyTask, form: object, status: int = 200) -> tuple[str, int]:
    subject = runtime.subject_of(task)
    instance = db.session.get(WorkflowInstance, task.instance_id)
    extra: dict[str, object] = {}
    if task.screening_id is not None and task.form_key == "screening":
        from app.screenings.operations import search_village_households

        query = request.args.get("q", "")
        extra["query"] = query
        extra["found"] = search_village_households(subject.village_code, query) if query else []
    return render_template("tasks/task.html", task=task, form=form, subject=subject,
                           revision=instance.revision if instance else 0, **extra), status


@bp.route("/tasks/<int:task_id>")
@login_required
def show(task_id: int) -> Response | tuple[str, int]:
    task = db.session.get(ReadyTask, task_id)
    if task is None:
        flash("该任务已办理或已不存在", "warning")
        return redirect(url_for("tasks.inbox"))
    if not can_act_on(current_user, task):
        abort(403)
    return _task_page(task, runtime.build_form(task))


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
