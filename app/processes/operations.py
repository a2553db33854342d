from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from app import engine
from app.deadlines.policy import TIME_LIMIT_PROPERTY, time_limit_problem
from app.errors import NotFound
from app.extensions import db
from app.models import ProcessVersion
from app.roles import role_for_lane
from forms import REGISTRY, field_names


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_version(process_key: str) -> ProcessVersion:
    version = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_key == process_key, ProcessVersion.is_current)
    )
    if version is None:
        raise NotFound(f"流程“{process_key}”尚未部署，请先运行 flask --app app init-db")
    return version


def _sources(version: ProcessVersion) -> dict[str, str]:
    sources = {f"{version.process_key}.bpmn": version.bpmn_xml}
    for dep_id in version.dependencies.values():
        dep = db.session.get(ProcessVersion, dep_id)
        if dep is None:
            raise NotFound(f"流程版本 {dep_id} 不存在")
        sources.update(_sources(dep))
    return sources


def bundle_for_version(version: ProcessVersion) -> engine.ProcessBundle:
    cache_key = f"{version.id}:{version.sha256}:{sorted(version.dependencies.items())}"
    return engine.bundle_for(version.process_key, lambda: _sources(version), cache_key)


def _process_key_of(path: Path, xml: str) -> str:
    # One executable process per file, named as the file.
    return path.stem


def deploy_directory(directory: str | Path, deployed_by_id: int | None = None) -> list[ProcessVersion]:
    """Deploy every changed diagram of `directory` as a new current version. Flushes, never commits.

    Called processes are deployed first; a caller is redeployed when a process it calls changes, so a
    new case always runs on the current version of everything it calls.
    """
    files = {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(directory).glob("*.bpmn"))}
    problems = check_diagrams(files)
    if problems:
        raise ValueError("diagram check failed:\n" + "\n".join(problems))
    all_sources = {f"{key}.bpmn": xml for key, xml in files.items()}
    deps = {key: engine.process_dependencies(engine.parse_bundle(key, all_sources)) for key in files}
    created: list[ProcessVersion] = []
    for key in _callee_first(deps):
        xml = files[key]
        pinned = {dep: current_version(dep).id for dep in deps[key]}
        current = db.session.scalar(
            select(ProcessVersion).where(ProcessVersion.process_key == key, ProcessVersion.is_current)
        )
        if current is not None and current.sha256 == _sha256(xml) and current.dependencies == pinned:
            continue
        last = db.session.scalar(
            select(ProcessVersion.version).where(ProcessVersion.process_key == key)
            .order_by(ProcessVersion.version.desc()).limit(1)
        )
        if current is not None:
            current.is_current = False
        version = ProcessVersion(
            process_key=key, version=(last or 0) + 1, name=engine.parse_bundle(key, all_sources).spec.description,
            bpmn_xml=xml, sha256=_sha256(xml), dependencies=pinned, is_current=True,
            deployed_by_id=deployed_by_id,
        )
        db.session.add(version)
        db.session.flush()
        created.append(version)
    return created


def _callee_first(deps: dict[str, list[str]]) -> list[str]:
    order: list[str] = []

    def visit(key: str, path: tuple[str, ...]) -> None:
        if key in order:
            return
        if key in path:
            raise ValueError(f"call activities form a cycle: {' → '.join(path + (key,))}")
        for dep in deps.get(key, []):
            visit(dep, path + (key,))
        order.append(key)

    for key in sorted(deps):
        visit(key, ())
    return order


def check_diagrams(files: dict[str, str]) -> list[str]:
    """The product's own rules over a set of diagrams (process key → XML). Returns problems, in Chinese.

    Every user task sits in a lane that is a known role, names a registered form and, if it has a time limit,
    gives it in working days; every gateway
    condition reads only fields that the process's forms define.
    """
    problems: list[str] = []
    sources = {f"{key}.bpmn": xml for key, xml in files.items()}
    for key in sorted(files):
        try:
            bundle = engine.parse_bundle(key, sources)
        except engine.EngineError as exc:
            problems.append(f"{key}: 无法解析：{exc}")
            continue
        description = engine.describe_process(bundle)
        problems += [f"{key}: {p.element_id}: {p.message}" for p in description.problems]
        known_fields: set[str] = set()
        for task in description.user_tasks:
            where = f"{task.process_key}: {task.bpmn_id}（{task.name}）"
            if role_for_lane(task.lane) is None:
                problems.append(f"{where}: 所在泳道“{task.lane or '无'}”不是已知角色")
            if task.form_key is None:
                problems.append(f"{where}: 未指定表单（扩展属性 form）")
            elif task.form_key not in REGISTRY:
                problems.append(f"{where}: 表单“{task.form_key}”不存在")
            else:
                known_fields |= field_names(task.form_key)
            limit = task.properties.get(TIME_LIMIT_PROPERTY)
            if limit is not None and (problem := time_limit_problem(limit)):
                problems.append(f"{where}: {problem}")
        for condition in description.conditions:
            unknown = condition.names - known_fields
            if unknown:
                problems.append(
                    f"{condition.process_key}: {condition.gateway_id}: 条件“{condition.expression}”"
                    f"读取了表单中没有的字段：{'、'.join(sorted(unknown))}"
                )
    return problems
