from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select

from app import engine
from app.errors import NotFound
from app.extensions import db
from app.models import ProcessDraft, ProcessVersion


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


def fields_read_by_conditions(version_id: int | None) -> frozenset[str]:
    """The task-data names the gateways of a deployed version (and the processes it calls) read: what a form may
    offer because the diagram acts on it."""
    if version_id is None:
        return frozenset()
    sha256 = db.session.scalar(select(ProcessVersion.sha256).where(ProcessVersion.id == version_id))
    return _condition_names(version_id, sha256) if sha256 else frozenset()


@lru_cache(maxsize=64)
def _condition_names(version_id: int, sha256: str) -> frozenset[str]:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        return frozenset()
    description = engine.describe_process(bundle_for_version(version))
    return frozenset().union(*(c.names for c in description.conditions))


def _process_key_of(path: Path, xml: str) -> str:
    # One executable process per file, named as the file.
    return path.stem


@dataclass
class UpgradeReport:
    """What init-db did with the shipped diagrams: deployed them, kept the county's version (and offered the
    shipped one beside it), or found nothing changed."""

    deployed: list[ProcessVersion] = field(default_factory=list)
    offered: list[tuple[ProcessVersion, ProcessDraft]] = field(default_factory=list)  # (county's current, offer)
    kept: list[ProcessVersion] = field(default_factory=list)  # county's current; its shipped file offered before
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"deployed {v.process_key} v{v.version} ({v.origin})" for v in self.deployed]
        lines += [f"kept {v.process_key} v{v.version}: deployed by the county's administrator; the new shipped "
                  f"diagram is offered as draft #{d.id} for an administrator to compare and deploy"
                  for v, d in self.offered]
        lines += [f"kept {v.process_key} v{v.version}: deployed by the county's administrator (the shipped "
                  f"diagram was offered before)" for v in self.kept]
        lines += [f"unchanged {key}" for key in self.unchanged]
        return lines


def county_owns(current: ProcessVersion) -> bool:
    """Has the county taken this procedure over? It has once an administrator deployed a diagram of its own or
    made an earlier version current again: from then on an upgrade offers and never replaces."""
    if current.origin != "shipped":
        return True
    newest = db.session.scalar(select(func.max(ProcessVersion.version))
                               .where(ProcessVersion.process_key == current.process_key))
    return current.version != newest


def deploy_directory(directory: str | Path, deployed_by_id: int | None = None) -> UpgradeReport:
    """Deploy the repository's diagrams of `directory` (init-db, after every upgrade). Flushes, never commits.

    A changed diagram becomes the new current version, unless the county owns the procedure (county_owns): then
    its version stays current and the shipped diagram is offered as a draft, once. Called processes are deployed
    first, and a caller gets a new version pinned to a callee's new version (the county's caller keeps its own
    diagram), so a new case always runs on the current version of everything it calls.
    """
    files = {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(directory).glob("*.bpmn"))}
    problems = check_diagrams(files)
    if problems:
        raise ValueError("diagram check failed:\n" + "\n".join(problems))
    all_sources = {f"{key}.bpmn": xml for key, xml in files.items()}
    deps = {key: engine.process_dependencies(engine.parse_bundle(key, all_sources)) for key in files}
    report = UpgradeReport()
    for key in _callee_first(deps):
        xml = files[key]
        pinned = {dep: current_version(dep).id for dep in deps[key]}
        current = db.session.scalar(
            select(ProcessVersion).where(ProcessVersion.process_key == key, ProcessVersion.is_current)
        )
        if current is None or not county_owns(current):
            if current is not None and current.sha256 == _sha256(xml) and current.dependencies == pinned:
                report.unchanged.append(key)
                continue
            name = engine.parse_bundle(key, all_sources).spec.description
            report.deployed.append(add_version(key, xml, name, pinned, "shipped", deployed_by_id))
            continue
        own_pins = {dep: current_version(dep).id for dep in current.dependencies}
        if own_pins != current.dependencies:  # a callee it calls was upgraded: the county's diagram, pinned anew
            current = add_version(key, current.bpmn_xml, current.name, own_pins, current.origin, deployed_by_id)
            report.deployed.append(current)
        if _sha256(xml) == current.sha256:
            report.unchanged.append(key)
        elif (offer := _offer(key, xml, current)) is not None:
            report.offered.append((current, offer))
        else:
            report.kept.append(current)
    return report


def add_version(key: str, xml: str, name: str, pinned: dict[str, int], origin: str,
                deployed_by_id: int | None) -> ProcessVersion:
    """The next version of `key`, current from now on (new cases start on it). Flushes."""
    last = db.session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == key))
    for previous in db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == key,
                                                                    ProcessVersion.is_current)):
        previous.is_current = False
    db.session.flush()
    version = ProcessVersion(process_key=key, version=(last or 0) + 1, name=name or key, bpmn_xml=xml,
                             sha256=_sha256(xml), dependencies=pinned, is_current=True, origin=origin,
                             deployed_by_id=deployed_by_id)
    db.session.add(version)
    db.session.flush()
    return version


def _offer(key: str, xml: str, current: ProcessVersion) -> ProcessDraft | None:
    """The shipped diagram as a draft beside the county's version, unless this very file was offered before
    (deployed, dismissed or still open) or is already one of the versions."""
    sha = _sha256(xml)
    offered = db.session.scalar(select(ProcessDraft.id).where(ProcessDraft.process_key == key,
                                                              ProcessDraft.shipped_sha256 == sha).limit(1))
    deployed = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == key,
                                                                 ProcessVersion.sha256 == sha).limit(1))
    if offered is not None or deployed is not None:
        return None
    draft = ProcessDraft(process_key=key, bpmn_xml=xml, based_on_version_id=current.id, shipped_sha256=sha)
    db.session.add(draft)
    db.session.flush()
    from app.audit.log import record

    record("process_offered", None, f"系统升级提供新的内置流程图：{current.name or key}（本县当前第 {current.version} "
                                    f"版保持不变，待管理员比较后决定是否部署）",
           {"process_key": key, "draft_id": draft.id, "current_version_id": current.id})
    return draft


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
    """The product's rules (app/processes/validation.py) over a set of diagrams (process key → XML), as lines
    for the command line: every user task in a lane that is a known role with a registered form and a usable
    time limit; conditions, timers and scripts in the sandbox's subset, reading fields the forms define."""
    from app.processes.validation import process_problems

    sources = {f"{key}.bpmn": xml for key, xml in files.items()}
    lines = []
    for key in sorted(files):
        for problem in process_problems(key, sources):
            lines.append(f"{key}: {problem.element_id or '-'}: {problem.message}")
    return lines
