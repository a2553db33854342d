"""Operations on comments and attachments. They check that the actor may see the case, flush only (the
caller commits) and never read Flask's request state."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app
from sqlalchemy import func, select

from app.access import can_see_case, can_write_on_case
from app.clock import utcnow
from app.collab import filetypes
from app.errors import DomainError, NotFound, PermissionDenied
from app.extensions import db
from app.models import Attachment, Case, Comment, Event, ReadyTask, User

COMMENT_MAX_CHARS = 2000
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 1 << 16


class Refused(DomainError):
    """A comment or a file the user can correct and send again; nothing was stored."""

    status = 422


class TooLarge(Refused):
    status = 413


class WrongType(Refused):
    status = 415


# ---- where files live ----------------------------------------------------------------------------------

def attachments_dir() -> Path:
    """ATTACHMENTS_DIR, or <instance>/attachments."""
    return Path(current_app.config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments")


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES") or DEFAULT_ATTACHMENT_MAX_BYTES)


def max_label() -> str:
    return filetypes.size_label(max_bytes())


def stored_path(sha256: str) -> Path:
    return attachments_dir() / sha256[:2] / sha256


# ---- shared checks -------------------------------------------------------------------------------------

def _visible_case(case: Case, actor: User) -> Case:
    if not can_see_case(actor, case):
        raise PermissionDenied("您无权查看该案件")
    return case


def _writable_case(case: Case, actor: User) -> Case:
    _visible_case(case, actor)
    if not can_write_on_case(actor, case):
        raise PermissionDenied("督查人员只能查看案件，不能发表办理意见或上传附件")
    return case


def writable_case(case_id: int, actor: User) -> Case:
    """The case, when the actor may add remarks and files to it (see it, and not only supervise)."""
    return _writable_case(visible_case(case_id, actor), actor)


def visible_case(case_id: int, actor: User) -> Case:
    """The case, when the actor may see it (its area, or the cadre assigned to it)."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("案件不存在")
    return _visible_case(case, actor)


def _case_task(case: Case, task_id: int | str | None) -> ReadyTask | None:
    """The current task of the case a comment or a file is about; None for the case as a whole."""
    if task_id in (None, ""):
        return None
    try:
        number = int(str(task_id))
    except (TypeError, ValueError):
        number = 0
    task = db.session.get(ReadyTask, number) if number > 0 else None
    if task is None or not (task.is_about("case") and task.subject_id == case.id):
        raise Refused("所选环节不是该案件当前的办理环节（可能已办理完毕），请刷新页面后重新选择")
    return task


def _task_label(task: ReadyTask | None) -> str:
    return f"（{task.title}）"[:150] if task else ""


def _record(case: Case, kind: str, actor: User, at: datetime, title: str, bpmn_id: str | None, text: str,
            remote_addr: str | None, data: dict[str, Any]) -> None:
    """The case-history line: one list of events, comments and files among the task decisions."""
    db.session.add(Event(kind=kind, subject_kind="case", subject_id=case.id, actor_id=actor.id, at=at,
                         task_name=title[:160], bpmn_id=bpmn_id, opinion=text, remote_addr=remote_addr, data=data))


# ---- comments ------------------------------------------------------------------------------------------

def add_comment(case: Case, text: str, actor: User, task_id: int | str | None = None,
                remote_addr: str | None = None) -> Comment:
    """A remark on the case (or on one of its current tasks), recorded in the case history."""
    _writable_case(case, actor)
    text = (text or "").strip()
    if not text:
        raise Refused("备注内容不能为空")
    if len(text) > COMMENT_MAX_CHARS:
        raise Refused(f"备注不能超过 {COMMENT_MAX_CHARS} 字（现为 {len(text)} 字），请精简或分几条添加")
    task = _case_task(case, task_id)
    now = utcnow()
    comment = Comment(case_id=case.id, text=text, author_id=actor.id, created_at=now,
                      task_uuid=task.task_uuid if task else None, bpmn_id=task.bpmn_id if task else None,
                      task_name=task.title[:160] if task else None)
    db.session.add(comment)
    db.session.flush()
    _record(case, "comment_added", actor, now, "办理备注" + _task_label(task), comment.bpmn_id, text, remote_addr,
            {"comment_id": comment.id, "task_uuid": comment.task_uuid})
    return comment


def count_comments(case: Case) -> int:
    return db.session.scalar(select(func.count()).select_from(Comment).where(Comment.case_id == case.id)) or 0


def comments_for(case: Case) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.case_id == case.id)
                                   .order_by(Comment.created_at, Comment.id)))


# ---- attachments ---------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def clean_file_name(name: str | None) -> str:
    """The name without any folder part (C:\\fakepath\\… included) or control characters, at most 255 long."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _UNSAFE_NAME.sub("", base).strip().lstrip(".")
    if not base:
        return "附件"
    if len(base) > 255:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: 254 - len(suffix)] + dot + suffix) if dot and len(suffix) <= 16 else base[:255]
    return base


class StoredFile(Protocol):
    """A kept upload as a download needs it: a case's attachment, a lead's paper."""

    file_name: str
    content_type: str
    sha256: str


def download_name(attachment: StoredFile) -> str:
    """The original name, with the suffix of the real type added when the name does not carry one: a PNG
    uploaded as "notice.html" downloads as "notice.html.png", never as a page."""
    kind = filetypes.by_content_type(attachment.content_type)
    name = attachment.file_name
    if kind and not name.lower().endswith(kind.suffixes):
        name = name + kind.suffixes[0]
    return name


def store_attachment(case: Case, stream: IO[bytes] | None, file_name: str | None, actor: User,
                     task_id: int | str | None = None,
                     remote_addr: str | None = None) -> tuple[Attachment, bool]:
    """Check and keep an uploaded file for the case. Returns the attachment and whether it is new: the same
    content sent again for the same case and task (a retry over a weak signal) gives back the first one.
    Refused files leave nothing behind, neither row nor file."""
    _writable_case(case, actor)
    task = _case_task(case, task_id)
    head = _read_head(stream) if stream is not None else b""
    if stream is None or not head:
        raise Refused("请选择要上传的文件（文件不能为空）")
    kind = filetypes.detect(head)
    if kind is None:
        raise WrongType(f"只能上传{filetypes.ACCEPTED_LABEL}；该文件的内容不是这些格式"
                        "（按文件内容判断，与文件名无关）")
    sha256, size = _keep(head, stream, max_bytes())
    task_uuid = task.task_uuid if task else None
    same = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id, Attachment.sha256 == sha256,
                                                      (Attachment.task_uuid == task_uuid) if task_uuid
                                                      else Attachment.task_uuid.is_(None))
                             .order_by(Attachment.id).limit(1))
    if same is not None:
        return same, False
    now = utcnow()
    attachment = Attachment(case_id=case.id, task_uuid=task_uuid, bpmn_id=task.bpmn_id if task else None,
                            task_name=task.title[:160] if task else None, file_name=clean_file_name(file_name),
                            content_type=kind.content_type, size=size, sha256=sha256, uploaded_by_id=actor.id,
                            uploaded_at=now)
    db.session.add(attachment)
    db.session.flush()
    _record(case, "attachment_added", actor, now, "上传附件" + _task_label(task), attachment.bpmn_id,
            f"{attachment.file_name}（{kind.label}，{filetypes.size_label(size)}）", remote_addr,
            {"attachment_id": attachment.id, "sha256": sha256, "size": size, "task_uuid": task_uuid})
    return attachment, True


def keep_image(stream: IO[bytes]) -> tuple[filetypes.FileType, str, int]:
    """Check and keep an uploaded photo (a household check's) in the attachments' store, by its checksum: its
    type is told from its first bytes, images only, within the attachments' size limit. Raises Refused."""
    head = _read_head(stream)
    if not head:
        raise Refused("照片文件为空，请重新选择")
    kind = filetypes.detect(head)
    if kind is None or not kind.content_type.startswith("image/"):
        raise WrongType("照片只能是 JPEG、PNG、WebP 或 HEIC 图片（按文件内容判断，与文件名无关）")
    sha256, size = _keep(head, stream, max_bytes())
    return kind, sha256, size


def keep_document(stream: IO[bytes]) -> tuple[filetypes.FileType, str, int]:
    """Check and keep an uploaded photo or PDF of a signed paper (a lead's 承诺授权书) in the attachments' store,
    by its checksum, within the attachments' size limit. Raises Refused."""
    head = _read_head(stream)
    if not head:
        raise Refused("请选择要上传的文件（文件不能为空）")
    kind = filetypes.detect(head)
    if kind is None:
        raise WrongType(f"只能上传{filetypes.ACCEPTED_LABEL}；该文件的内容不是这些格式（按文件内容判断，与文件名无关）")
    sha256, size = _keep(head, stream, max_bytes())
    return kind, sha256, size


def _read_head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < filetypes.HEAD_BYTES:
        chunk = stream.read(filetypes.HEAD_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _keep(head: bytes, stream: IO[bytes], limit: int) -> tuple[str, int]:
    """Copy the upload to a temporary file beside the store while hashing it, then move it to its checksum's
    place (unless that content is there already). Past `limit` the copy is removed and the file refused."""
    root = attachments_dir()
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=root)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"附件不能超过 {filetypes.size_label(limit)}，请压缩照片或分开上传")
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(CHUNK)
        sha256 = digest.hexdigest()
        target = stored_path(sha256)
        if target.exists():
            temp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return sha256, size


def attachments_for(case: Case) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                   .order_by(Attachment.uploaded_at, Attachment.id)))


def get_attachment(attachment_id: int, actor: User) -> Attachment:
    """An attachment the actor may see (the case's area rules); 404 and 403 otherwise."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("附件不存在")
    case = db.session.get(Case, attachment.case_id)
    assert case is not None
    _visible_case(case, actor)
    return attachment


def open_attachment(attachment: StoredFile) -> Path:
    """The stored file of an attachment the caller has already been allowed to see."""
    path = stored_path(attachment.sha256)
    if not path.is_file():
        raise NotFound("附件文件已丢失，请联系系统管理员")
    return path

