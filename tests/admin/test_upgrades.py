"""An upgrade never reverts what the county's administrator deployed: init-db deploys a changed shipped diagram
only while the county runs the shipped procedure; once the county owns it, the shipped diagram is offered beside
the county's version, compared in the diff view and deployed only when an administrator chooses to."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, ProcessDraft, ProcessVersion
from tests.admin.test_process_admin import CASE_XML, LONGER_CERTIFY, Modeler, current, version_of
from tests.conftest import PROCESSES
from tests.helpers import open_case

# The next release renames the town leadership's step.
SHIPPED_UPGRADE = CASE_XML.replace('name="镇领导小组会议审议"', 'name="镇党委政府会议审定"', 1)


@pytest.fixture()
def release(app, tmp_path: Path) -> Iterator[Path]:
    """A copy of processes/ as the next release ships it; init-db reads it for the test's duration."""
    directory = tmp_path / "processes"
    shutil.copytree(PROCESSES, directory)
    before = app.config["PROCESSES_DIR"]
    app.config["PROCESSES_DIR"] = str(directory)
    yield directory
    app.config["PROCESSES_DIR"] = before


def _ship(release: Path, xml: str) -> None:
    assert xml != CASE_XML
    (release / "household_case.bpmn").write_text(xml, encoding="utf-8")


def test_an_upgrade_deploys_a_changed_shipped_diagram_while_the_county_runs_the_shipped_one(app, runner, release):
    assert "unchanged household_case" in runner.invoke(args=["init-db"]).output
    _ship(release, SHIPPED_UPGRADE)
    output = runner.invoke(args=["init-db"]).output
    assert "deployed household_case v2 (shipped)" in output
    upgraded = current(app)
    assert upgraded.version == 2 and upgraded.origin == "shipped"


def test_an_upgrade_after_a_web_deployment_keeps_the_countys_version_and_offers_the_shipped_one(
        app, runner, release, login_as):
    admin = login_as("admin")
    modeler = Modeler(admin, current(app).id)
    draft = modeler.save(LONGER_CERTIFY)
    assert modeler.post(f"/admin/processes/drafts/{draft}/deploy").status_code == 201
    county = current(app)
    assert county.version == 2 and county.origin == "county"

    _ship(release, SHIPPED_UPGRADE)
    output = runner.invoke(args=["init-db"]).output
    assert "kept household_case v2: deployed by the county's administrator" in output
    assert "deployed household_case" not in output
    assert current(app).id == county.id  # new cases still get the county's procedure
    assert version_of(app, open_case(app)) == county.id
    # A second upgrade run offers nothing twice.
    again = runner.invoke(args=["init-db"]).output
    assert "the shipped diagram was offered before" in again
    with app.app_context():
        offers = db.session.scalars(select(ProcessDraft).where(ProcessDraft.shipped_sha256.is_not(None))).all()
        assert len(offers) == 1 and offers[0].bpmn_xml == SHIPPED_UPGRADE
        offer_id = offers[0].id
        assert db.session.scalar(select(func.count()).select_from(Event)
                                 .where(Event.kind == "process_offered")) == 1

    # The administrator sees the offer beside the county's version, in the diff view.
    listing = admin.get("/admin/processes/").get_data(as_text=True)
    assert "系统升级提供了新的内置流程图" in listing and "本县部署" in listing
    link = f"/admin/processes/diff?from={county.id}&amp;offer={offer_id}"
    assert link in listing
    diff = admin.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "本县当前第 2 版" in diff and "系统升级提供的内置版本" in diff
    assert "镇领导小组会议审议 → 镇党委政府会议审定" in diff  # the shipped change
    assert "7 → 5" in diff  # and the county's own time limit, which taking it would lose

    # …and deploys it only when choosing to.
    page = admin.get(link.replace("&amp;", "&")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    deployed = admin.client.post(f"/admin/processes/offers/{offer_id}/deploy", data={"csrf_token": token})
    assert deployed.status_code == 302
    taken = current(app)
    assert taken.version == 3 and taken.origin == "shipped" and taken.sha256 == offers[0].shipped_sha256
    assert "系统升级提供了新的内置流程图" not in admin.get("/admin/processes/").get_data(as_text=True)
    assert "unchanged household_case" in runner.invoke(args=["init-db"]).output


def test_an_administrator_may_keep_the_countys_version_and_is_not_asked_again(app, runner, release, login_as):
    admin = login_as("admin")
    modeler = Modeler(admin, current(app).id)
    assert modeler.post(f"/admin/processes/drafts/{modeler.save(LONGER_CERTIFY)}/deploy").status_code == 201
    _ship(release, SHIPPED_UPGRADE)
    runner.invoke(args=["init-db"])
    with app.app_context():
        offer_id = db.session.scalar(select(ProcessDraft.id).where(ProcessDraft.shipped_sha256.is_not(None)))
    page = admin.get("/admin/processes/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert admin.client.post(f"/admin/processes/offers/{offer_id}/dismiss",
                             data={"csrf_token": token}).status_code == 302
    assert "系统升级提供了新的内置流程图" not in admin.get("/admin/processes/").get_data(as_text=True)
    assert "offered before" in runner.invoke(args=["init-db"]).output
    assert current(app).version == 2
    # A dismissed offer cannot be deployed by replaying its form.
    refused = admin.client.post(f"/admin/processes/offers/{offer_id}/deploy", data={"csrf_token": token})
    assert refused.status_code == 409 and current(app).version == 2


def test_a_rollback_is_the_countys_choice_too(app, runner, release, login_as):
    """Made current again by an administrator, the shipped first version is the county's choice: an upgrade
    offers the new one instead of replacing the choice."""
    admin = login_as("admin")
    modeler = Modeler(admin, current(app).id)
    assert modeler.post(f"/admin/processes/drafts/{modeler.save(LONGER_CERTIFY)}/deploy").status_code == 201
    with app.app_context():
        first = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "household_case",
                                                                  ProcessVersion.version == 1))
    page = admin.get("/admin/processes/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert admin.client.post(f"/admin/processes/versions/{first}/rollback",
                             data={"csrf_token": token}).status_code == 302
    _ship(release, SHIPPED_UPGRADE)
    assert "kept household_case v1" in runner.invoke(args=["init-db"]).output
    assert current(app).id == first
