"""Administrators revise the process diagrams: versions, the web modeler, validation, deployment, diffs,
rollback and moving running cases to another version. Only administrators reach these pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select, true
from werkzeug.wrappers import Response

from app.access import is_administrator
from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.models import ProcessVersion, WorkflowInstance
from app.processes import admin
from app.processes.validation import BpmnRefused
from app.roles import ROLES
from app.workflow import runtime
from forms import REGISTRY

bp = Blueprint("admin", __name__, url_prefix="/admin/processes")
MAX_UPLOAD = 5 * 1024 * 1024


@bp.before_request
@login_required
def _only_administrators() -> None:
    if not is_administrator(current_user):
        abort(403)


@bp.route("/")
def index() -> str:
    return render_template("admin/processes.html", definitions=admin.definitions())


def _instances(version: ProcessVersion, limit: int = 200) -> list[tuple[WorkflowInstance, str, str]]:
    """Running instances of a version with a label and a link for each, whatever kind of subject each is about; of
    the administrator's own area (a county's administrator does not read another county's cases)."""
    instances = db.session.scalars(select(WorkflowInstance).where(WorkflowInstance.process_version_id == version.id,
                                                                  WorkflowInstance.completed.is_(False))
                                   .order_by(WorkflowInstance.id).limit(limit)).all()
    subjects: dict[int, Any] = {}
    for kind in {instance.kind for instance in instances}:
        hooks = runtime.hooks_for(kind)
        model = hooks.model
        ids = [instance.id for instance in instances if instance.kind == kind]
        visible = hooks.visible_to(current_user) if hooks.visible_to is not None else true()
        subjects.update((subject.instance_id, subject)
                        for subject in db.session.scalars(select(model).where(model.instance_id.in_(ids), visible)))
    result = []
    for instance in instances:
        subject = subjects.get(instance.id)
        if subject is not None:
            hooks = runtime.hooks_for(instance.kind)
            result.append((instance, f"{hooks.noun} #{subject.id} {hooks.label(subject)}",
                           hooks.show_url(subject) if hooks.show_url else ""))
    return result


@bp.route("/versions/<int:version_id>")
def version(version_id: int) -> str:
    chosen = admin.get_version(version_id)
    others = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == chosen.process_key,
                                                             ProcessVersion.id != chosen.id)
                                .order_by(ProcessVersion.version.desc())).all()
    return render_template("admin/version.html", version=chosen, others=others, instances=_instances(chosen))


@bp.route("/versions/<int:version_id>.bpmn")
def version_xml(version_id: int) -> Response:
    chosen = admin.get_version(version_id)
    return Response(chosen.bpmn_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{chosen.process_key}-v{chosen.version}.bpmn"'})


@bp.route("/versions/<int:version_id>/rollback", methods=["POST"])
def rollback(version_id: int) -> Response:
    chosen = admin.get_version(version_id)
    admin.rollback(chosen, current_user)
    db.session.commit()
    flash(f"已将第 {chosen.version} 版设为当前版本：新案件将按此版本运行，已在办案件不受影响", "success")
    return redirect(url_for("admin.index"))


@bp.route("/versions/<int:version_id>/migrate", methods=["POST"])
def migrate(version_id: int) -> str:
    source = admin.get_version(version_id)
    target = admin.get_version(request.form.get("target", type=int) or 0)
    results = []
    for instance_id in request.form.getlist("instance", type=int):
        instance = db.session.get(WorkflowInstance, instance_id)
        if instance is None or instance.process_version_id != source.id:
            results.append((instance_id, False, "该流程实例不在此版本上"))
            continue
        try:
            admin.migrate_case_instance(instance, target, current_user)
            db.session.commit()
            results.append((instance_id, True, f"已迁移到第 {target.version} 版"))
        except DomainError as exc:
            db.session.rollback()
            results.append((instance_id, False, exc.message))
    if not results:
        flash("请至少选择一个案件", "warning")
    return render_template("admin/migrated.html", source=source, target=target, results=results)


@bp.route("/diff")
def diff() -> str:
    old = admin.get_version(request.args.get("from", type=int) or 0)
    offer_id = request.args.get("offer", type=int)
    if offer_id:  # the county's version beside the shipped diagram an upgrade offers
        offer = admin.get_draft(offer_id)
        if offer.process_key != old.process_key:
            raise InvalidInput("只能比较同一流程的两个版本")
        sides = [(f"本县当前第 {old.version} 版", url_for("supervision.diagram_xml", version_id=old.id)),
                 ("系统升级提供的内置版本", url_for("admin.draft_xml", draft_id=offer.id))]
        return render_template("admin/diff.html", title=old.name or old.process_key, sides=sides,
                               offer=offer if offer.is_open_offer else None, diff=admin.diff_versions(old, offer))
    new = admin.get_version(request.args.get("to", type=int) or 0)
    if old.process_key != new.process_key:
        raise InvalidInput("只能比较同一流程的两个版本")
    sides = [(f"第 {v.version} 版", url_for("supervision.diagram_xml", version_id=v.id)) for v in (old, new)]
    return render_template("admin/diff.html", title=new.name or new.process_key, sides=sides, offer=None,
                           diff=admin.diff_versions(old, new))


@bp.route("/offers/<int:draft_id>/deploy", methods=["POST"])
def deploy_offer(draft_id: int) -> Response:
    """The administrator takes the upgrade's shipped diagram: it is validated and deployed like any other."""
    offer = admin.get_offer(draft_id)
    try:
        version = admin.deploy(offer.bpmn_xml, current_user, process_key=offer.process_key, draft=offer)
    except admin.DeployRefused as exc:
        db.session.rollback()
        flash("内置流程图校验未通过，未部署：" + "；".join(p.message for p in exc.problems[:5]), "error")
        return redirect(url_for("admin.index"))
    db.session.commit()
    flash(f"已部署系统内置版本为第 {version.version} 版：新案件将按此版本运行，已在办案件不受影响", "success")
    return redirect(url_for("admin.index"))


@bp.route("/offers/<int:draft_id>/dismiss", methods=["POST"])
def dismiss_offer(draft_id: int) -> Response:
    admin.dismiss_offer(admin.get_offer(draft_id), current_user)
    db.session.commit()
    flash("已保留本县当前流程；该内置版本不再提示", "info")
    return redirect(url_for("admin.index"))


def _modeler_config(process_key: str, xml_url: str | None, draft_id: int | None) -> dict[str, object]:
    return {
        "xml_url": xml_url, "xml": None, "process_key": process_key, "draft_id": draft_id,
        "save_url": url_for("admin.save_draft"),
        "validate_url_template": url_for("admin.validate_draft", draft_id=0).replace("/0/", "/{draft_id}/"),
        "deploy_url_template": url_for("admin.deploy_draft", draft_id=0).replace("/0/", "/{draft_id}/"),
        "csrf_token": generate_csrf(), "versions_url": url_for("admin.index"),
        "forms": [{"key": key, "title": cls.title} for key, cls in sorted(REGISTRY.items())],
        "roles": [{"code": role.code, "label": role.label} for role in ROLES.values()
                  if role.code not in ("supervisor", "admin")],
    }


@bp.route("/modeler")
def modeler() -> str:
    draft_id = request.args.get("draft", type=int)
    if draft_id:
        draft = admin.get_draft(draft_id)
        config = _modeler_config(draft.process_key, url_for("admin.draft_xml", draft_id=draft.id), draft.id)
        title = f"编辑流程草稿：{draft.process_key}"
    else:
        base = admin.get_version(request.args.get("version", type=int) or 0)
        config = _modeler_config(base.process_key, url_for("admin.version_xml", version_id=base.id), None)
        title = f"编辑流程：{base.name or base.process_key}（基于第 {base.version} 版）"
    return render_template("admin/modeler.html", config=config, title=title)


@bp.route("/upload", methods=["POST"])
def upload() -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择 .bpmn 文件", "warning")
        return redirect(url_for("admin.index"))
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("文件过大（超过 5 MB）")
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("文件不是 UTF-8 编码的 BPMN XML") from exc
    draft = admin.save_draft(xml, current_user)
    db.session.commit()
    flash(f"已上传为草稿（流程 {draft.process_key}），请校验后部署", "info")
    return redirect(url_for("admin.modeler", draft=draft.id))


# ---- the modeler's JSON endpoints (CSRF token in the X-CSRFToken header) --------------------------------

@bp.route("/drafts", methods=["POST"])
def save_draft() -> Response | tuple[Response, int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise InvalidInput("请求体应为 JSON：{\"process_key\", \"xml\", \"draft_id\"}")
    try:
        draft = admin.save_draft(body["xml"], current_user, process_key=body.get("process_key") or None,
                                 draft_id=body.get("draft_id") or None)
    except admin.DraftRefused as exc:
        return jsonify({"error": exc.message, "problems": [p.as_json() for p in exc.problems]}), 422
    db.session.commit()
    return jsonify({"draft_id": draft.id, "process_key": draft.process_key, "saved_at": draft.updated_at.isoformat()})


@bp.route("/drafts/<int:draft_id>.bpmn")
def draft_xml(draft_id: int) -> Response:
    return Response(admin.get_draft(draft_id).bpmn_xml, mimetype="application/xml")


@bp.route("/drafts/<int:draft_id>/validate", methods=["POST"])
def validate_draft(draft_id: int) -> tuple[Response, int]:
    draft = admin.get_draft(draft_id)
    try:
        result = admin.validate_xml(draft.bpmn_xml, draft.process_key)
    except BpmnRefused as exc:
        return jsonify({"valid": False, "problems": [{"element_id": None, "message": exc.message}]}), 422
    return jsonify(result.as_json()), 200


@bp.route("/drafts/<int:draft_id>/deploy", methods=["POST"])
def deploy_draft(draft_id: int) -> tuple[Response, int]:
    draft = admin.get_draft(draft_id)
    if draft.deployed_version_id is not None:
        raise Conflict("该草稿已部署")
    try:
        version = admin.deploy(draft.bpmn_xml, current_user, process_key=draft.process_key, draft=draft)
    except admin.DeployRefused as exc:
        db.session.rollback()
        return jsonify({"valid": False, "problems": [p.as_json() for p in exc.problems]}), 422
    db.session.commit()
    return jsonify({"version_id": version.id, "version": version.version, "process_key": version.process_key}), 201
