"""Comments and attachments on the case page: post a comment, upload a photo or a scan, download a file."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.cases import operations as case_ops
from app.collab import operations
from app.collab.filetypes import size_label
from app.errors import DomainError
from app.extensions import db
from app.models import Attachment, Case
from app.web.errors import MESSAGES

bp = Blueprint("collab", __name__)

# Room for the form's other fields and the multipart framing around the file itself.
FORM_OVERHEAD = 64 * 1024


def too_large() -> operations.TooLarge:
    return operations.TooLarge(f"附件不能超过 {operations.max_label()}，请压缩照片或分开上传")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # URL preprocessors run before any before_request function, so before CSRF reads the form: a body far past
    # the attachment limit is refused unread instead of being spooled up to MAX_CONTENT_LENGTH.
    if endpoint == "collab.upload":
        request.max_content_length = operations.max_bytes() + FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    """Cut off before the view ran: the case page with the limit named, for those who may see the case."""
    case_id = (request.view_args or {}).get("case_id")
    if request.endpoint != "collab.upload" or not isinstance(case_id, int):
        return render_template("error.html", status=413, message=MESSAGES[413]), 413
    error = too_large()
    if current_user.is_authenticated:
        try:
            operations.visible_case(case_id, current_user)
        except DomainError:
            pass
        else:
            return _case_page(case_id, error, "attachment")
    return render_template("error.html", status=error.status, message=error.message), error.status


@bp.app_template_global()
def case_attachments(case: Case) -> list[Attachment]:
    """The case's attachments, for the panel on the case page."""
    return operations.attachments_for(case)


@bp.app_template_global()
def case_comment_count(case: Case) -> int:
    """How many comments the case has, for the folded panel's summary."""
    return operations.count_comments(case)


@bp.app_template_global()
def attachment_limit() -> str:
    return operations.max_label()


bp.add_app_template_filter(size_label, "filesize")


def _case_page(case_id: int, error: operations.Refused, form: str, text: str = "") -> tuple[str, int]:
    """The case page again, with the refusal above the form it concerns and the comment's text kept."""
    from app.web.cases import show

    db.session.rollback()
    g.collab_error, g.collab_form, g.collab_text = error.message, form, text
    g.collab_task = request.form.get("task_id") if form == "comment" else None
    return show(case_id), error.status


@bp.route("/cases/<int:case_id>/comments", methods=["POST"])
@login_required
def add_comment(case_id: int) -> Response | tuple[str, int]:
    case = case_ops.get_case(case_id)
    text = request.form.get("text", "")
    try:
        operations.add_comment(case, text, current_user, request.form.get("task_id"), request.remote_addr)
    except operations.Refused as exc:
        return _case_page(case_id, exc, "comment", text)
    db.session.commit()
    flash("备注已添加，已记入办理记录", "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="collab"), code=303)


@bp.route("/cases/<int:case_id>/attachments")
@login_required
def attachments(case_id: int) -> str:
    case = operations.visible_case(case_id, current_user)
    return render_template("collab/attachments.html", case=case, tasks=case_ops.case_ready_tasks(case))


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(case_id: int) -> Response | tuple[str, int]:
    case = case_ops.get_case(case_id)
    upload = request.files.get("file")
    try:
        attachment, created = operations.store_attachment(
            case, upload.stream if upload and upload.filename else None, upload.filename if upload else None,
            current_user, request.form.get("task_id"), request.remote_addr)
    except operations.Refused as exc:
        return _case_page(case_id, exc, "attachment")
    db.session.commit()
    if created:
        flash(f"已上传附件：{attachment.file_name}（{size_label(attachment.size)}）", "success")
    else:
        flash(f"该文件此前已上传（{attachment.file_name}），未重复保存", "info")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="attachments"), code=303)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    return attachment_response(operations.get_attachment(attachment_id, current_user))


def attachment_response(attachment: operations.StoredFile) -> Response:
    """The file, always as a download under its original name, never rendered by the browser."""
    response = send_file(operations.open_attachment(attachment), mimetype=attachment.content_type,
                         as_attachment=True, download_name=operations.download_name(attachment), max_age=0,
                         etag=attachment.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    return response
