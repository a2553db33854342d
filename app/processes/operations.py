from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from app import engine
from app.errors import NotFound
from app.extensions import db
from app.models import ProcessVersion


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
