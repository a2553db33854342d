"""Process definitions: deploy BPMN files as versions, check them, and hand the engine cached specs."""

from app.processes.operations import (
    UpgradeReport,
    bundle_for_version,
    check_diagrams,
    county_owns,
    current_version,
    deploy_directory,
    fields_read_by_conditions,
)

__all__ = ["UpgradeReport", "bundle_for_version", "check_diagrams", "county_owns", "current_version",
           "deploy_directory", "fields_read_by_conditions"]
