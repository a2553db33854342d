"""What administrators do with process definitions: drafts, validation, deployment, rollback, the difference
between versions, and moving running cases to another version. Every deploy, rollback and migration is in the
audit history."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from app import engine
from app.audit.log import record
from app.clock import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import ProcessDraft, ProcessVersion, User, WorkflowInstance
from app.processes.operations import _sha256, add_version, current_version
from app.processes.validation import (
    BPMN_NS,
    BpmnRefused,
    Problem,
    Validation,
    read_bpmn,
    time_limit_problems,
    validate_bpmn,
)


class DeployRefused(InvalidInput):
    """The diagram has problems; `problems` names the elements."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("流程图校验未通过，不能部署")
        self.problems = problems


class DraftRefused(InvalidInput):
    """The draft carries a value the modeler's panel marks as wrong (a time limit outside 1–365): it is not
    stored, so nothing typed is silently dropped or kept as something else."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("草稿未保存：" + "；".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Definition:
    process_key: str
    name: str
    current: ProcessVersion | None
    versions: list[ProcessVersion]
    running: dict[int, int]  # version id → running instances
    offer: ProcessDraft | None = None  # an upgrade's shipped diagram, offered beside the county's version


def definitions() -> list[Definition]:
    versions = db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_key,
                                                                  ProcessVersion.version.desc())).all()
    running = dict(db.session.execute(
        select(WorkflowInstance.process_version_id, func.count()).where(WorkflowInstance.completed.is_(False))
        .group_by(WorkflowInstance.process_version_id)).all())
    offers = {d.process_key: d for d in db.session.scalars(
        select(ProcessDraft).where(ProcessDraft.is_open_offer).order_by(ProcessDraft.id))}
    by_key: dict[str, list[ProcessVersion]] = {}
    for version in versions:
        by_key.setdefault(version.process_key, []).append(version)
    return [Definition(key, next((v.name for v in items if v.is_current), items[0].name) or key,
                       next((v for v in items if v.is_current), None), items,
                       {v.id: running.get(v.id, 0) for v in items}, offers.get(key))
            for key, items in sorted(by_key.items())]


def get_offer(draft_id: int) -> ProcessDraft:
    draft = get_draft(draft_id)
    if draft.shipped_sha256 is None:
        raise NotFound("该草稿不是系统升级提供的内置流程图")
    if not draft.is_open_offer:
        raise Conflict("该内置流程图已部署或已忽略")
    return draft


def dismiss_offer(draft: ProcessDraft, actor: User) -> None:
    """Keep the county's version: the offer goes from the list (the same shipped file is not offered again)."""
    draft.dismissed_at = utcnow()
    db.session.flush()
    _audit("process_offer_dismissed", actor, f"保留本县流程，不采用系统升级提供的内置流程图：{draft.process_key}",
           {"process_key": draft.process_key, "draft_id": draft.id})


def get_version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound("流程版本不存在")
    return version


def get_draft(draft_id: int) -> ProcessDraft:
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound("草稿不存在")
    return draft


def _available(except_key: str) -> dict[str, str]:
    """The current XML of every other deployed process, so call activities to them resolve."""
    versions = db.session.scalars(select(ProcessVersion).options(undefer(ProcessVersion.bpmn_xml))
                                  .where(ProcessVersion.is_current)).all()
    return {v.process_key: v.bpmn_xml for v in versions if v.process_key != except_key}


def _key_of(xml: str, wanted: str | None) -> str:
    try:
        root = read_bpmn(xml)
    except BpmnRefused as exc:
        raise InvalidInput(exc.message) from exc
    if problems := time_limit_problems(root):
        raise DraftRefused(problems)
    ids = [p.get("id", "") for p in root.findall(f"{{{BPMN_NS}}}process")]
    if not ids:
        raise InvalidInput("文件中没有流程（bpmn:process）")
    if wanted and wanted in ids:
        return wanted
    if wanted and len(ids) == 1:
        raise InvalidInput(f"文件中的流程编号是“{ids[0]}”，不是“{wanted}”")
    return ids[0]


def save_draft(xml: str, actor: User, process_key: str | None = None, draft_id: int | None = None,
               based_on: ProcessVersion | None = None) -> ProcessDraft:
    key = _key_of(xml, process_key)
    if draft_id is not None:
        draft = get_draft(draft_id)
        if draft.deployed_version_id is not None:
            raise Conflict("该草稿已部署，请从新版本重新编辑")
        draft.bpmn_xml, draft.process_key, draft.updated_at = xml, key, utcnow()
    else:
        draft = ProcessDraft(process_key=key, bpmn_xml=xml, created_by_id=actor.id,
                             based_on_version_id=based_on.id if based_on else None)
        db.session.add(draft)
    db.session.flush()
    return draft


def validate_xml(xml: str, process_key: str | None = None) -> Validation:
    """Validation of an uploaded or edited diagram. Raises BpmnRefused if it is not readable BPMN at all."""
    result = validate_bpmn(xml, _available(process_key or ""))
    if process_key and result.process_keys and process_key not in result.process_keys:
        result.problems.append(Problem(None, f"文件中没有流程“{process_key}”"))
    return result


def deploy(xml: str, actor: User | None, process_key: str | None = None,
           draft: ProcessDraft | None = None) -> ProcessVersion:
    """Deploy a valid diagram as the new current version. New cases start on it; running ones stay where they
    are. Processes that call it get a new version pinned to it, so their new cases use it too."""
    try:
        result = validate_xml(xml, process_key)
    except BpmnRefused as exc:
        raise DeployRefused([Problem(None, exc.message)]) from exc
    if not result.valid:
        raise DeployRefused(result.problems)
    key = process_key if process_key in result.process_keys else result.process_keys[0]
    # The upgrade's shipped diagram deployed as it came is the shipped procedure again (later upgrades apply).
    shipped = draft is not None and draft.shipped_sha256 == _sha256(xml)
    version = _new_version(key, xml, result.names.get(key, key), actor, note="部署内置版本" if shipped else "部署",
                           origin="shipped" if shipped else "county")
    if draft is not None:
        draft.deployed_version_id = version.id
    for caller in db.session.scalars(select(ProcessVersion).where(ProcessVersion.is_current,
                                                                  ProcessVersion.process_key != key)).all():
        if key in caller.dependencies:
            _new_version(caller.process_key, caller.bpmn_xml, caller.name, actor,
                         note=f"重新绑定所调用的 {key} 第 {version.version} 版", origin=caller.origin)
    return version


def _new_version(key: str, xml: str, name: str, actor: User | None, note: str, origin: str) -> ProcessVersion:
    own = {p.get("id", "") for p in read_bpmn(xml).findall(f"{{{BPMN_NS}}}process")}
    sources = {f"{k}.bpmn": x for k, x in _available(key).items() if k not in own}
    sources[f"{key}.bpmn"] = xml
    bundle = engine.parse_bundle(key, sources)
    pinned = {dep: current_version(dep).id for dep in engine.process_dependencies(bundle)}
    version = add_version(key, xml, name, pinned, origin, actor.id if actor else None)
    _audit("process_deployed", actor, f"{note}：{name or key} 第 {version.version} 版",
           {"process_key": key, "version": version.version, "version_id": version.id, "dependencies": pinned})
    return version


def rollback(version: ProcessVersion, actor: User) -> None:
    """Make an earlier version current again: new cases start on it; running cases are not touched."""
    if version.is_current:
        raise Conflict("该版本已是当前版本")
    for current in db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == version.process_key,
                                                                   ProcessVersion.is_current)):
        current.is_current = False
    db.session.flush()
    version.is_current = True
    db.session.flush()
    _audit("process_rolled_back", actor, f"回退：{version.name or version.process_key} 恢复为第 {version.version} 版",
           {"process_key": version.process_key, "version": version.version, "version_id": version.id})


def migrate_case_instance(instance: WorkflowInstance, target: ProcessVersion, actor: User) -> None:
    from app.workflow.runtime import migrate_instance

    if instance.process_version.process_key != target.process_key:
        raise Conflict("只能迁移到同一流程的其他版本")
    migrate_instance(instance, target, actor)  # recorded in the case's own history


def _audit(kind: str, actor: User | None, text: str, data: dict[str, object]) -> None:
    record(kind, actor, text, data)


# ---- differences between two versions ---------------------------------------------------------------

@dataclass
class VersionDiff:
    added: list[tuple[str, str]] = field(default_factory=list)  # (element id, label)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (id, label, what changed)

    def as_json(self) -> dict[str, object]:
        return {"added": [i for i, _ in self.added], "removed": [i for i, _ in self.removed],
                "changed": [i for i, _, _ in self.changed]}


def _elements(xml: str) -> dict[str, etree._Element]:
    root = read_bpmn(xml)
    found = {}
    for container in root:
        if etree.QName(container).namespace != BPMN_NS:
            continue  # diagram interchange (layout) is not part of the process
        for element in container.iter():
            element_id = element.get("id")
            if element_id and isinstance(element.tag, str):
                found[element_id] = element
    return found


def _signature(element: etree._Element) -> dict[str, str]:
    """What matters of an element: its kind, attributes, texts and extension properties."""
    signature = {"kind": etree.QName(element).localname}
    signature.update({f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()})
    for child in element:
        if not isinstance(child.tag, str) or child.get("id"):
            continue
        name = etree.QName(child).localname
        if name in ("incoming", "outgoing"):
            continue
        for node in child.iter():
            if isinstance(node.tag, str) and not node.get("id"):
                key = f"{name}/{etree.QName(node).localname}"
                if node.get("name") is not None:
                    key += f"[{node.get('name')}]"
                signature[key] = " ".join((node.get("value") or node.text or "").split())
    return signature


CHANGE_LABELS = {"@name": "名称", "@sourceRef": "起点", "@targetRef": "终点", "kind": "类型",
                 "conditionExpression/conditionExpression": "条件", "@calledElement": "调用的流程",
                 "@default": "默认流", "documentation/documentation": "说明",
                 "timerEventDefinition/timeDate": "定时", "timerEventDefinition/timeDuration": "定时",
                 "@processRef": "流程", "flowNodeRef/flowNodeRef": "泳道中的环节"}
# The properties this project's diagrams carry (app/deadlines, the forms, the notices, the heatmap's phases).
PROPERTY_LABELS = {"time_limit_days": "办理时限（天）", "form": "表单", "phase": "阶段", "notice_kind": "公示公告类别"}
ELEMENT_KINDS = {"userTask": "办理环节", "sequenceFlow": "连线", "exclusiveGateway": "判断", "parallelGateway": "并行",
                 "startEvent": "开始", "endEvent": "结束", "callActivity": "子流程", "lane": "泳道（角色）",
                 "intermediateCatchEvent": "等待", "boundaryEvent": "边界事件", "scriptTask": "自动环节",
                 "serviceTask": "自动环节", "subProcess": "子流程", "process": "流程", "laneSet": "泳道",
                 "participant": "参与者"}


def diff_versions(old: ProcessVersion | ProcessDraft, new: ProcessVersion | ProcessDraft) -> VersionDiff:
    """What was added, removed and changed, each element named as an administrator knows it (its name, or its kind
    and for a flow its two ends), never by its id alone."""
    before, after = _elements(old.bpmn_xml), _elements(new.bpmn_xml)
    result = VersionDiff()

    def named(elements: dict[str, etree._Element], element_id: str | None) -> str:
        element = elements.get(element_id or "")
        if element is None:
            return element_id or "（无）"
        return element.get("name") or ELEMENT_KINDS.get(etree.QName(element).localname, "元素")

    def label(element: etree._Element, elements: dict[str, etree._Element]) -> str:
        if element.get("name"):
            return str(element.get("name"))
        kind = ELEMENT_KINDS.get(etree.QName(element).localname, "元素")
        if element.get("sourceRef"):
            return f"{kind}：{named(elements, element.get('sourceRef'))} → {named(elements, element.get('targetRef'))}"
        return kind

    def value(key: str, text: str | None, elements: dict[str, etree._Element]) -> str:
        if text is None:
            return "（无）"
        if key in ("@sourceRef", "@targetRef", "@default"):
            return named(elements, text)
        if key == "kind":
            return ELEMENT_KINDS.get(text, text)
        return text

    for element_id, element in after.items():
        if element_id not in before:
            result.added.append((element_id, label(element, after)))
    for element_id, element in before.items():
        if element_id not in after:
            result.removed.append((element_id, label(element, before)))
            continue
        old_sig, new_sig = _signature(element), _signature(after[element_id])
        if old_sig != new_sig:
            keys = sorted(k for k in old_sig.keys() | new_sig.keys() if old_sig.get(k) != new_sig.get(k))
            what = []
            for key in keys:
                prop = key.split("[")[-1].rstrip("]") if "[" in key else None
                name = PROPERTY_LABELS.get(prop, prop) if prop else CHANGE_LABELS.get(key, "其他设置")
                what.append(f"{name}：{value(key, old_sig.get(key), before)} → {value(key, new_sig.get(key), after)}")
            result.changed.append((element_id, label(after[element_id], after), what))
    return result
