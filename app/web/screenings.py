"""Monthly screening: the county starts it; village teams register risk households (附件1 rows)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.access import can_see_screening, can_start_screening
from app.clock import china_today
from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.models import Household, ReadyTask, Screening
from app.screenings import checks, operations
from app.screenings.overview import screening_overview
from forms.screening import HouseholdCheckForm

bp = Blueprint("screenings", __name__, url_prefix="/screenings")


@bp.route("/")
@login_required
def index() -> str:
    month = request.args.get("month") or china_today().strftime("%Y-%m")
    overview = screening_overview(current_user, month, request.args.get("area", ""), request.args.get("status", ""))
    return render_template("screenings/index.html", overview=overview, month=month,
                           can_start=can_start_screening(current_user))


@bp.route("/start", methods=["POST"])
@login_required
def start() -> Response:
    if not can_start_screening(current_user):
        abort(403)
    month = request.form.get("month", "")
    created = operations.start_monthly_screening(month, current_user)
    db.session.commit()
    if created:
        flash(f"已启动 {month} 月度排查：{len(created)} 个村", "success")
    else:
        flash(f"{month} 月度排查此前已启动，未重复创建", "info")
    return redirect(url_for("screenings.index", month=month))


@bp.route("/<int:screening_id>")
@login_required
def show(screening_id: int) -> str:
    screening = operations.get_screening(screening_id)
    if not can_see_screening(current_user, screening):
        abort(403)
    tasks = db.session.scalars(select(ReadyTask).where(ReadyTask.about("screening", screening.id))).all()
    return render_template("screenings/show.html", screening=screening, tasks=tasks,
                           coverage=checks.coverage(screening))


def _back_to_task(screening_id: int, query: str = "") -> Response:
    task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("screening", screening_id),
                                                     ReadyTask.form_key == "screening"))
    if task is None:
        return redirect(url_for("screenings.show", screening_id=screening_id))
    return redirect(url_for("tasks.show", task_id=task.id, q=query or None, _anchor="register" if query else None))


@bp.route("/<int:screening_id>/registrations", methods=["POST"])
@login_required
def register(screening_id: int) -> Response:
    screening = operations.get_screening(screening_id)
    query = request.form.get("q", "").strip()[:64]
    try:
        operations.register_household(screening, request.form.get("household_id", type=int) or 0,
                                      request.form.get("risk_type", ""), request.form.get("reason", ""), current_user)
    except (InvalidInput, Conflict) as refused:
        # Said on the task's own page, above the search the team came from, not on a bare error page.
        db.session.rollback()
        flash(f"未登记：{refused.message}", "error")
        return _back_to_task(screening_id, query)
    db.session.commit()
    flash("已登记为风险户", "success")
    return _back_to_task(screening_id)


@bp.route("/<int:screening_id>/registrations/<int:registration_id>/delete", methods=["POST"])
@login_required
def unregister(screening_id: int, registration_id: int) -> Response:
    screening = operations.get_screening(screening_id)
    operations.remove_registration(screening, registration_id, current_user)
    db.session.commit()
    flash("已撤销登记", "info")
    return _back_to_task(screening_id)


@bp.route("/<int:screening_id>/roster", methods=["POST"])
@login_required
def upload_roster(screening_id: int) -> Response | tuple[str, int]:
    """A filled 附件1 from the team: all its rows registered, or none and the errors per row."""
    from app.excel.reading import SpreadsheetRefused
    from app.screenings.roster_import import RosterRejected, import_roster_upload

    screening = operations.get_screening(screening_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择已填写的花名册文件（.xlsx）", "warning")
        return _back_to_task(screening_id)
    try:
        outcome = import_roster_upload(screening, upload.stream, current_user)
    except (RosterRejected, SpreadsheetRefused) as exc:
        db.session.rollback()
        errors = exc.row_errors if isinstance(exc, RosterRejected) else []
        return render_template("screenings/roster_errors.html", screening=screening, message=exc.message,
                               errors=errors, file_name=upload.filename), exc.status
    db.session.commit()
    skipped = f"；{len(outcome.skipped)} 户本月已按相同内容登记，未重复登记" if outcome.skipped else ""
    flash(f"已从花名册登记 {len(outcome.registered)} 户风险户{skipped}", "success")
    return _back_to_task(screening_id)


# ---- 逐户排查: the village's households and each one's check this month (a phone page) -----------------------

def _visible(screening_id: int) -> Screening:
    screening = operations.get_screening(screening_id)
    if not can_see_screening(current_user, screening):
        abort(403)
    return screening


@bp.route("/<int:screening_id>/households")
@login_required
def households(screening_id: int) -> str:
    screening = _visible(screening_id)
    query = request.args.get("q", "")
    return render_template("screenings/households.html", screening=screening, query=query,
                           rows=checks.village_households(screening, query), coverage=checks.coverage(screening),
                           saved=request.args.get("saved", type=int))


@bp.route("/<int:screening_id>/households/<int:household_id>", methods=["GET", "POST"])
@login_required
def check(screening_id: int, household_id: int) -> Response | str | tuple[str, int]:
    screening = _visible(screening_id)
    household = db.session.get(Household, household_id)
    if household is None or household.village_code != screening.village_code:
        abort(404)
    existing = checks.get_check(screening, household_id)

    def page(form: HouseholdCheckForm, status: int = 200, photo_error: str | None = None) -> tuple[str, int]:
        return render_template("screenings/check.html", screening=screening, household=household, form=form,
                               check=existing, can_record=checks.may_record(screening, current_user),
                               photo_error=photo_error), status

    if request.method == "GET":
        form = checks.check_form(screening, check=existing)
        if existing is None:
            form.visited_on.data = china_today()
            form.visitors.data = current_user.full_name
        return page(form)
    checks.ensure_may_record(screening, current_user)
    form = checks.check_form(screening, request.form)
    if not form.validate():
        return page(form, 422)
    photo = None
    upload = request.files.get("photo")
    if upload is not None and upload.filename:
        from app.collab.operations import keep_image

        try:
            kind, sha256, _size = keep_image(upload.stream)
        except DomainError as exc:  # the photo refused: nothing of the check is saved either
            return page(form, 422, exc.message)
        photo = (sha256, kind.content_type)
    checks.record_check(screening, household_id, form.check_data(), current_user, photo=photo)
    db.session.commit()
    flash(f"已保存{household.head_name}户的排查情况", "success")
    after = url_for("screenings.households", screening_id=screening_id, saved=household_id)
    if request.headers.get("X-Check-Save") == "fetch":  # the phone page's own save: it goes on to the list itself
        return jsonify({"saved": True, "next": after})
    return redirect(after)


@bp.route("/<int:screening_id>/households/<int:household_id>/photo")
@login_required
def check_photo(screening_id: int, household_id: int) -> Response:
    from flask import send_file

    from app.collab.operations import stored_path

    screening = _visible(screening_id)
    found = checks.get_check(screening, household_id)
    if found is None or found.photo_sha256 is None:
        abort(404)
    response = send_file(stored_path(found.photo_sha256), mimetype=found.photo_type or "application/octet-stream")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
