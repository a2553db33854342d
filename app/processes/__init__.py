"""Process definitions: deploy BPMN files as versions, check them, and hand the engine cached specs."""

from app.processes.operations import (
    bundle_for_version,
    check_diagrams,
    current_version,
    deploy_directory,
)

__all__ = ["bundle_for_version", "check_diagrams", "current_version", "deploy_directory"]
