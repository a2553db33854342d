"""The authorisation matrix (issue 7): every route of the app × every role × own area / other area × own county /
another county of the city.

The routes come from `app.url_map`, so a new route without a line in ROUTES below fails
`test_every_route_has_an_expectation`. Each line says who may use the route — nobody needs to log in (PUBLIC),
any logged-in user (LOGGED_IN), a set of users whatever the area, or per area ("cg" = 城关镇, "rf" = 饶峰镇) the
users allowed on that area's object — and how to call it with real ids. The expectations are written out by
hand, never computed from app.access, so a loosened check shows up as a refused user let in.

The county axis: the deployment is a city of two counties (石泉县, whose objects the requests are about, and 汉滨区).
汉滨区's users may use every route their 石泉县 counterpart may use for their own county (lists, forms, their own
exports), and no route about one of 石泉县's objects (a route whose address names one); the city's supervisor may
do whatever 石泉县's supervisor may, on 石泉县's objects too.

Allowed users must get the page (200, or the status named on the line); refused users must get 403 or 404;
anonymous users are sent to the log-in page (web) or get 401 (API). POST routes are called with a request that
an allowed user would get through where that is cheap and changes nothing (an idempotent call or one that
fails validation after the access check); lines marked `probe=False` would change state, so only refused users
send them — and a snapshot of the rows such calls would touch must be unchanged afterwards."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from tests.collab.conftest import JPEG
from tests.conftest import CSRF_RE, DEMO_PASSWORD, DEMO_SIZE, _clear, today
from tests.helpers import approve_case, open_case, plan_measures, user

# ---- who ------------------------------------------------------------------------------------------------

PERSONAS = (
    None,  # anonymous
    "admin", "county_office", "supervisor", "department_yibao",
    "chengguan_certifier", "chengguan_leader", "chengguan01_team", "chengguan02_team",
    "chengguan01_cadre1", "chengguan01_cadre2",
    "raofeng_certifier", "raofeng01_team",
    "city_supervisor",
    "hanbin_county_office", "hanbin_supervisor", "hanbin_department_yibao", "hanbin_t01_certifier",
    "hanbin_t0101_team",
)
USERS = frozenset(p for p in PERSONAS if p)
# Each persona of the county axis and the 石泉县 persona whose routes it may use (in its own area).
COUNTERPARTS = {"city_supervisor": "supervisor", "hanbin_county_office": "county_office",
                "hanbin_supervisor": "supervisor", "hanbin_department_yibao": "department_yibao",
                "hanbin_t01_certifier": "chengguan_certifier", "hanbin_t0101_team": "chengguan01_team"}
OTHER_COUNTY = frozenset(p for p in COUNTERPARTS if p.startswith("hanbin_"))
# Fields of an address that name something of the deployment as a whole (the diagrams), not of a county.
DEPLOYMENT_WIDE = frozenset({"version", "draft", "process_key"})
COUNTY = frozenset({"admin", "county_office", "supervisor", "department_yibao"})
CG_TOWN = frozenset({"chengguan_certifier", "chengguan_leader"})
RF_TOWN = frozenset({"raofeng_certifier"})

PUBLIC = "public"  # no log-in needed, by design
LOGGED_IN = "logged_in"  # any logged-in user (lists and pages scope their rows to the user's area)

# The subjects: "cg" objects lie in 城关镇 village 610922100001 (case A, cadre chengguan01_cadre1), "rf" objects in
# 饶峰镇 village 610922101001 (case B). Screening registrations are in each town's village 002.
CASE = {"cg": COUNTY | CG_TOWN | {"chengguan01_team", "chengguan01_cadre1"},
        "rf": COUNTY | RF_TOWN | {"raofeng01_team"}}
# Remarks and files on a case: whoever may see it, except the supervisors, who only watch.
CASE_WRITERS = {area: users - {"supervisor"} for area, users in CASE.items()}
VILLAGE_WORK = {"cg": COUNTY | CG_TOWN | {"chengguan01_team"}, "rf": COUNTY | RF_TOWN | {"raofeng01_team"}}
TOWN_WORK = {"cg": COUNTY | CG_TOWN, "rf": COUNTY | RF_TOWN}
SCREENING = {"cg": COUNTY | CG_TOWN | {"chengguan01_team"}, "rf": COUNTY | RF_TOWN | {"raofeng01_team"}}
SCREENING_TEAM = {"cg": frozenset({"chengguan02_team"}), "rf": frozenset()}  # raofeng02_team is no persona
TASK_DOER = {"cg": frozenset({"chengguan01_cadre1"}), "rf": frozenset({"raofeng_certifier"})}
# Recording a measure done: the cadre of case cg, on its 落实帮扶措施 (task cg); task rf is no such task.
MEASURE_RECORDER = frozenset({"chengguan01_cadre1"})
TASK_CLAIMER = {"rf": frozenset({"raofeng_certifier"})}  # release needs a claimed task: task rf is claimed
TASK_REASSIGNER = {"cg": frozenset(), "rf": frozenset({"raofeng_certifier"})}  # cadre tasks are not handed over
CADRE_CHANGER = {"cg": frozenset({"county_office"}) | CG_TOWN, "rf": frozenset({"county_office"}) | RF_TOWN}
ADMIN = frozenset({"admin"})
IMPORTERS = frozenset({"admin", "county_office"})
# Declarations made by telephone, in writing or in person: recorded by village teams, towns and the county office.
LEAD_RECORDERS = frozenset({"county_office", "chengguan_certifier", "chengguan_leader", "chengguan01_team",
                            "chengguan02_team", "raofeng_certifier", "raofeng01_team"})
LEAD_RECORDER = {"cg": frozenset({"county_office", "chengguan01_team"}) | CG_TOWN,
                 "rf": frozenset({"county_office", "raofeng01_team"}) | RF_TOWN}
COUNTY_OFFICE = frozenset({"county_office"})
BATCH_APPROVER = {"cg": COUNTY_OFFICE, "rf": COUNTY_OFFICE}  # a town's cases at the county's decision steps
DEPARTMENT = frozenset({"department_yibao"})  # the medical-insurance bureau: its own lists and measures
NOT_CADRES = USERS - {"chengguan01_cadre1", "chengguan01_cadre2"}
STAND_IN_OWNER = frozenset({"chengguan01_cadre1"})
AUDIT_READERS = frozenset({"admin", "supervisor"})
# Full ID numbers: those who register, certify and approve, on households of their own area.
ID_REVEALERS = {"cg": frozenset({"county_office", "chengguan_certifier", "chengguan_leader", "chengguan01_team"}),
                "rf": frozenset({"county_office", "raofeng_certifier", "raofeng01_team"})}


# ---- the world the requests are about, built once for the module ------------------------------------------

@dataclass
class World:
    app: Flask
    ids: dict[str, Any] = field(default_factory=dict)
    web: dict[str | None, FlaskClient] = field(default_factory=dict)
    csrf: dict[str | None, str] = field(default_factory=dict)
    tokens: dict[str | None, dict[str, str]] = field(default_factory=dict)

    def id(self, name: str, subject: str | None = None) -> Any:
        return self.ids[f"{name}_{subject}" if subject else name]


@pytest.fixture(scope="module")
def world(_migrated: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from app.demo import load_demo
    from app.households import operations as household_ops
    from app.models import (
        Attachment,
        Case,
        ImportJob,
        ProcessVersion,
        ReadyTask,
        RiskRegistration,
        Screening,
        StandIn,
    )
    from app.processes import admin as process_admin
    from app.screenings.operations import register_household
    from app.tasks.operations import claim

    app = _migrated
    folder = tmp_path_factory.mktemp("matrix")
    saved = {key: app.config.get(key) for key in ("ATTACHMENTS_DIR", "IMPORTS_FOLDER")}
    app.config.update(ATTACHMENTS_DIR=str(folder / "attachments"), IMPORTS_FOLDER=str(folder / "imports"))
    _clear(app)
    with app.app_context():
        load_demo(DEMO_PASSWORD, counties=2, **DEMO_SIZE)
        db.session.commit()
    case_cg = open_case(app, "610922100001")
    case_rf = open_case(app, "610922101001")
    world = World(app)
    with app.app_context():
        from app.collab.operations import store_attachment

        approve_case(case_cg)
        plan_measures(case_cg, [{"content": "协助办理慢病卡", "measure_type": "health",
                                 "responsible_unit": "县医保局", "deadline": "2027-01-31"}])
        ids = world.ids
        ids.update(case_cg=case_cg, case_rf=case_rf)
        for subject, case_id in (("cg", case_cg), ("rf", case_rf)):
            case = db.session.get(Case, case_id)
            assert case is not None
            ids[f"household_{subject}"] = case.household_id
            attachment, _ = store_attachment(case, io.BytesIO(JPEG), "现场照片.jpg", user("county_office"))
            ids[f"attachment_{subject}"] = attachment.id
            # A 12317 call for the household (it joins the open case) and a paper of it (its file not stored).
            from app.leads.operations import DeclarationInput, record_declaration
            from app.models import LeadDocument

            lead = record_declaration(user("county_office"), case.household_id, "hotline_12317", DeclarationInput(
                "户主", "13800138000", "住院费用增加", ["illness"]), today())
            document = LeadDocument(lead_id=lead.id, kind="authorisation", file_name="授权书.jpg",
                                    content_type="image/jpeg", size=1, sha256="0" * 64,
                                    uploaded_by_id=user("county_office").id)
            db.session.add(document)
            db.session.flush()
            ids[f"lead_{subject}"], ids[f"lead_document_{subject}"] = lead.id, document.id
            db.session.commit()
        ids["task_cg"] = db.session.scalar(select(ReadyTask.id).where(
            ReadyTask.about("case", case_cg), ReadyTask.bpmn_id == "Task_CarryOutMeasures"))
        ids["task_rf"] = db.session.scalar(select(ReadyTask.id).where(
            ReadyTask.about("case", case_rf), ReadyTask.bpmn_id == "Task_TownCertify"))
        assert ids["task_cg"] and ids["task_rf"]
        claim(ids["task_rf"], user("raofeng_certifier"))  # a claimed task, so that release means something
        month = today().strftime("%Y-%m")
        from app.screenings.operations import start_monthly_screening

        start_monthly_screening(month, user("hanbin_county_office"))  # so that starting it again creates nothing
        for subject, town in (("cg", "610922100"), ("rf", "610922101")):
            seen = db.session.scalar(select(Screening).where(Screening.month == month,
                                                             Screening.village_code == f"{town}001"))
            open_one = db.session.scalar(select(Screening).where(Screening.month == month,
                                                                 Screening.village_code == f"{town}002"))
            assert seen is not None and open_one is not None
            ids[f"screening_{subject}"], ids[f"open_screening_{subject}"] = seen.id, open_one.id
            team = f"{'chengguan' if subject == 'cg' else 'raofeng'}02_team"
            from app.models import Household

            household = db.session.scalars(select(Household).where(Household.village_code == f"{town}002")
                                           .order_by(Household.id)).first()
            assert household is not None
            registration = register_household(open_one, household.id, "accident", "慢性病支出大", user(team))
            db.session.flush()
            ids[f"registration_{subject}"] = registration.id
            ids[f"village_{subject}"], ids[f"town_{subject}"] = f"{town}001", town
        # A list the medical-insurance bureau uploaded, and the measure of case cg it leads (县医保局).
        from app.models import DepartmentUpload, Measure

        department_list = DepartmentUpload(department="yibao", month=today().strftime("%Y-%m"), file_name="名单.xlsx",
                                           sha256="1" * 64, size=1, uploaded_by_id=user("department_yibao").id)
        db.session.add(department_list)
        db.session.flush()
        ids["department_list"] = department_list.id
        ids["measure"] = db.session.scalar(select(Measure.id).where(Measure.case_id == case_cg,
                                                                    Measure.department == "yibao"))
        assert ids["measure"]
        stand_in = StandIn(user_id=user("chengguan01_cadre1").id, stand_in_id=user("chengguan01_cadre2").id,
                           starts_on=today() + timedelta(days=30), ends_on=today() + timedelta(days=40))
        db.session.add(stand_in)
        db.session.flush()
        ids["stand_in"] = stand_in.id
        version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "household_case",
                                                                ProcessVersion.is_current))
        assert version is not None
        ids["version"], ids["process_key"] = version.id, version.process_key
        ids["draft"] = process_admin.save_draft(version.bpmn_xml, user("admin"), process_key=version.process_key).id
        data = (Path(__file__).resolve().parent.parent / "data" / "template_errors.xlsx").read_bytes()
        job = household_ops.create_import_job(io.BytesIO(data), "农户.xlsx", False, user("county_office"))
        db.session.commit()
        ids["job"] = job.id
        household_ops.run_import_job(job.id)
        db.session.expire_all()
        job = db.session.get(ImportJob, ids["job"])
        assert job is not None and job.has_error_workbook, job.status if job else None
        db.session.commit()
        from app.exchange import operations as exchange_ops

        reconciliation = exchange_ops.create_reconciliation(io.BytesIO(data), "国家系统导出.xlsx",
                                                            user("county_office"))
        db.session.commit()
        ids["reconciliation"] = reconciliation.id
        exchange_ops.run_reconciliation(reconciliation.id)
        db.session.expire_all()
        reconciliation = db.session.get(ImportJob, ids["reconciliation"])
        assert reconciliation is not None and reconciliation.has_error_workbook, reconciliation.status
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 4
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 2

    for persona in PERSONAS:
        client = app.test_client()
        page = client.get("/login")
        token = CSRF_RE.search(page.get_data(as_text=True))
        assert token, "the log-in page has no CSRF token"
        if persona:
            response = client.post("/login", data={"username": persona, "password": DEMO_PASSWORD,
                                                   "csrf_token": token.group(1)})
            assert response.status_code == 302, f"log-in failed for {persona}"
            token = CSRF_RE.search(client.get("/account/stand-ins").get_data(as_text=True))
            assert token
            api = client.post("/api/v1/auth/token", json={"username": persona, "password": DEMO_PASSWORD})
            assert api.status_code == 201, api.get_json()
            world.tokens[persona] = {"Authorization": "Bearer " + api.get_json()["token"]}
        else:
            world.tokens[persona] = {}
        world.web[persona], world.csrf[persona] = client, token.group(1)
    yield world
    app.config.update(saved)
    with app.app_context():
        db.session.remove()


# ---- what each route is and how to call it ---------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    method: str
    url: str
    data: dict[str, Any] | None = None  # a form (web) — the CSRF token is added
    json: Any = None
    body: bytes | None = None
    files: bool = False  # multipart form


Who = str | frozenset[str] | dict[str, frozenset[str]]
Make = Callable[[World, str], Call]


@dataclass(frozen=True)
class Route:
    who: Who
    call: Make | None = None  # None: listed, not exercised (log-out, token)
    ok: int = 200  # what an allowed user gets
    probe: bool = True  # False: allowed users are not sent the request (it would change state)


def get(url: str) -> Make:
    def make(w: World, s: str) -> Call:
        return Call("GET", url.format(**{k: w.id(k, s) if k in _PER_SUBJECT else w.id(k) for k in _fields(url)}))

    make.template = url  # type: ignore[attr-defined]
    return make


def post(url: str, method: str = "POST", **kwargs: Any) -> Make:
    def make(w: World, s: str) -> Call:
        base = get(url)(w, s)
        extra = {k: v(w, s) if callable(v) else v for k, v in kwargs.items()}
        return Call(method, base.url, **extra)

    make.template = url  # type: ignore[attr-defined]
    return make


def names_an_object(route: Route) -> bool:
    """Whether the route's address names one of 石泉县's objects (a case, a task, a village …)."""
    template = getattr(route.call, "template", "")
    return bool(set(_fields(template)) - DEPLOYMENT_WIDE)


_PER_SUBJECT = {"case", "household", "attachment", "lead", "lead_document", "task", "screening", "open_screening",
                "registration", "village", "town"}


def _fields(url: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(url) if name]


def _upload() -> dict[str, Any]:
    return {"file": (io.BytesIO(b"not a workbook"), "x.xlsx")}


ROUTES: dict[str, Route] = {
    # public by design
    "static": Route(PUBLIC, get("/static/app.css")),
    "auth.login": Route(PUBLIC, get("/login")),
    "auth.logout": Route(PUBLIC),
    "api.openapi": Route(PUBLIC, get("/api/v1/openapi.json")),
    "api.token": Route(PUBLIC),
    # 农户自主申报: the public page and the declarant's own status (tests/leads/test_declarations.py posts them)
    "declare.form": Route(PUBLIC, get("/declare")),
    "declare.submit": Route(PUBLIC),
    "declare.status": Route(PUBLIC, get("/declare/status")),
    # every logged-in user; the rows shown are scoped (see test_lists_show_only_the_users_own_rows)
    "tasks.inbox": Route(LOGGED_IN, get("/")),
    "cases.index": Route(LOGGED_IN, get("/cases/")),
    "cases.export": Route(LOGGED_IN, get("/cases/export.xlsx")),
    "screenings.index": Route(LOGGED_IN, get("/screenings/")),
    "account.stand_ins": Route(LOGGED_IN, get("/account/stand-ins")),
    "account.add_stand_in": Route(LOGGED_IN, post("/account/stand-ins", data={"stand_in_id": "0"}), ok=422),
    "account.end_stand_in": Route(STAND_IN_OWNER, post("/account/stand-ins/{stand_in}/end", data={}),
                                  probe=False),
    "supervision.diagram_xml": Route(LOGGED_IN, get("/supervision/diagrams/{version}.bpmn")),
    "api.me": Route(LOGGED_IN, get("/api/v1/me")),
    "api.revoke": Route(LOGGED_IN, post("/api/v1/auth/revoke", json={}), probe=False),  # ends one's own token
    "api.tasks": Route(LOGGED_IN, get("/api/v1/tasks")),
    "api.cases": Route(LOGGED_IN, get("/api/v1/cases")),
    "api.households": Route(LOGGED_IN, get("/api/v1/households")),
    "api.list_screenings": Route(LOGGED_IN, get("/api/v1/screenings")),
    # cases, their files and comments, the household file: the case's area, or its cadre
    "cases.show": Route(CASE, get("/cases/{case}")),
    "cases.diagram": Route(CASE, get("/cases/{case}/diagram")),
    "cases.change_cadre": Route(CADRE_CHANGER, post("/cases/{case}/cadre", data={"user_id": "0"}), ok=422),
    "collab.attachments": Route(CASE, get("/cases/{case}/attachments")),
    "collab.download": Route(CASE, get("/attachments/{attachment}")),
    "collab.add_comment": Route(CASE_WRITERS, post("/cases/{case}/comments", data={"text": ""}), ok=422),
    "collab.upload": Route(CASE_WRITERS, post("/cases/{case}/attachments", data={}, files=True), ok=422),
    "household_file.show": Route(CASE, get("/households/{household}")),
    "household_file.reveal": Route(ID_REVEALERS, post("/households/{household}/reveal-id-numbers", data={})),
    "api.reveal_id_numbers": Route(ID_REVEALERS, post("/api/v1/households/{household}/id-numbers", json={})),
    "api.show_case": Route(CASE, get("/api/v1/cases/{case}")),
    "api.case_comments": Route(CASE, get("/api/v1/cases/{case}/comments")),
    "api.add_case_comment": Route(CASE_WRITERS, post("/api/v1/cases/{case}/comments", json={"text": 1}), ok=422),
    "api.case_attachments": Route(CASE, get("/api/v1/cases/{case}/attachments")),
    "api.upload_case_attachment": Route(CASE_WRITERS, post("/api/v1/cases/{case}/attachments", data={},
                                                           files=True), ok=422),
    "api.download_attachment": Route(CASE, get("/api/v1/attachments/{attachment}")),
    "api.household_file": Route(CASE, get("/api/v1/households/{household}")),
    # village work: notices and the monthly annexes of a village
    "notices.show": Route(VILLAGE_WORK, get("/notices/{village}")),
    "notices.pdf": Route(VILLAGE_WORK, get("/notices/{village}.pdf")),
    "reports.show": Route(VILLAGE_WORK, get("/reports/roster?area={village}")),
    "reports.download": Route(VILLAGE_WORK, get("/reports/ledger.xlsx?area={village}")),
    # supervision of a town
    "scoreboard.scoreboard": Route(TOWN_WORK, get("/supervision/scoreboard?town={town}")),
    "scoreboard.annual_review": Route(TOWN_WORK, get("/supervision/annual-review?town={town}")),
    "scoreboard.annual_review_export": Route(TOWN_WORK, get("/supervision/annual-review.xlsx?town={town}")),
    "supervision.heatmap_page": Route(NOT_CADRES, get("/supervision/heatmap")),
    "supervision.warnings_page": Route(frozenset({"county_office", "supervisor"}), get("/supervision/warnings")),
    # screenings: seen by the village's area; registrations only by the village's team while it screens
    "screenings.show": Route(SCREENING, get("/screenings/{screening}")),
    "api.show_screening": Route(SCREENING, get("/api/v1/screenings/{screening}")),
    "screenings.start": Route(COUNTY_OFFICE, post("/screenings/start", data=lambda w, s: {"month": _month()}),
                              ok=302),
    "api.start_screening": Route(COUNTY_OFFICE, post("/api/v1/screenings", json=lambda w, s: {"month": _month()})),
    "screenings.register": Route(SCREENING_TEAM, post("/screenings/{open_screening}/registrations",
                                                      data={"household_id": "0", "risk_type": "accident",
                                                            "reason": "x"}), ok=302),  # refused on the task
    "api.register_household": Route(SCREENING_TEAM, post("/api/v1/screenings/{open_screening}/registrations",
                                                         json={"household_id": 0, "risk_type": "accident",
                                                               "reason": "x"}), ok=422),
    # 逐户排查: the records are read by who sees the screening, written by the village's team while it is open
    "screenings.households": Route(SCREENING, get("/screenings/{screening}/households")),
    "screenings.check": Route(SCREENING, get("/screenings/{screening}/households/{household}")),
    "screenings.check_photo": Route(SCREENING, get("/screenings/{screening}/households/{household}/photo"),
                                    ok=404),  # permission first; the case's household has no photo
    "api.screening_checks": Route(SCREENING, get("/api/v1/screenings/{screening}/checks")),
    "api.record_screening_check": Route(SCREENING_TEAM, post("/api/v1/screenings/{open_screening}/checks/0",
                                                             method="PUT", json={}), ok=422),
    "screenings.unregister": Route(SCREENING_TEAM, post(
        "/screenings/{open_screening}/registrations/{registration}/delete", data={}), probe=False),
    "screenings.upload_roster": Route(SCREENING_TEAM, post("/screenings/{open_screening}/roster",
                                                           data=lambda w, s: _upload(), files=True), ok=422),
    # tasks: the user the task waits for (its role in its area, or its cadre); hand-over within the group
    "tasks.show": Route(TASK_DOER, get("/tasks/{task}")),
    "tasks.complete": Route(TASK_DOER, post("/tasks/{task}", data={}), ok=422),
    "tasks.save_draft": Route(TASK_DOER, post("/tasks/{task}/draft", data={"x": "y"}), probe=False),
    "tasks.claim": Route(TASK_DOER, post("/tasks/{task}/claim", data={}), probe=False),
    "tasks.release": Route(TASK_CLAIMER, post("/tasks/{task}/release", data={}), probe=False),
    "tasks.reassign": Route(TASK_REASSIGNER, post("/tasks/{task}/reassign", data={"user_id": "0"}), ok=422),
    # 落实帮扶措施 one measure at a time: the case's cadre, on their task (an empty record is refused after the check)
    "tasks.record_measure": Route(MEASURE_RECORDER, post("/tasks/{task}/measures/{measure}", data={}), ok=422),
    "api.record_task_measure": Route(MEASURE_RECORDER, post("/api/v1/tasks/{task}/measures/{measure}", json={}),
                                     ok=422),
    # 批量审批: the county office, on a town of its own county (the opinion left blank is refused after the check)
    "tasks.batch": Route(BATCH_APPROVER, get("/tasks/batch?step=Task_CountyApprove&town={town}")),
    "tasks.approve_batch": Route(BATCH_APPROVER, post("/tasks/batch", data=lambda w, s: {
        "step": "Task_CountyApprove", "town": w.id("town", s), "opinion": ""}), ok=422),
    "api.show_task": Route(TASK_DOER, get("/api/v1/tasks/{task}")),
    "api.complete_task": Route(TASK_DOER, post("/api/v1/tasks/{task}/complete", json={}), ok=422),
    "api.claim_task": Route(TASK_DOER, post("/api/v1/tasks/{task}/claim", json={}), probe=False),
    "api.release_task": Route(TASK_CLAIMER, post("/api/v1/tasks/{task}/release", json={}), probe=False),
    "api.reassign_task": Route(TASK_REASSIGNER, post("/api/v1/tasks/{task}/reassign", json={"user_id": 0}),
                               ok=422),
    # household registry import: county office and administrators
    "households.import_page": Route(IMPORTERS, get("/households/import")),
    "households.template": Route(IMPORTERS, get("/households/import/template.xlsx")),
    "households.job": Route(IMPORTERS, get("/households/import/jobs/{job}")),
    "households.error_workbook": Route(IMPORTERS, get("/households/import/jobs/{job}/errors.xlsx")),
    "households.upload": Route(IMPORTERS, post("/households/import", data={}, files=True), ok=422),
    # 县级设置: area workers read the rules, the county office records them (an empty form is refused after the check)
    "settings.index": Route(NOT_CADRES, get("/settings")),
    "settings.change_rule": Route(COUNTY_OFFICE, post("/settings/rules/lead_verification_working_days", data={}),
                                  ok=422),
    "settings.add_line": Route(COUNTY_OFFICE, post("/settings/monitoring-lines", data={}), ok=422),
    # 风险线索: area workers list their area's leads; recorders record for a household of their area
    "leads.index": Route(NOT_CADRES, get("/leads")),
    "leads.new": Route(LEAD_RECORDERS, get("/leads/new")),
    "leads.create": Route(LEAD_RECORDER, post("/leads/new", data=lambda w, s: {
        "household_id": str(w.id("household", s)), "discovered_on": "2026-12-01"}), ok=422),
    "leads.qr_sheet": Route(VILLAGE_WORK, get("/leads/qr/{village}")),
    "leads.show": Route(VILLAGE_WORK, get("/leads/{lead}")),
    "api.list_leads": Route(LOGGED_IN, get("/api/v1/leads")),
    "api.get_lead": Route(VILLAGE_WORK, get("/api/v1/leads/{lead}")),
    "api.download_lead_document": Route(VILLAGE_WORK, get("/api/v1/lead-documents/{lead_document}"), ok=404),
    "api.record_lead": Route(LEAD_RECORDERS, post("/api/v1/leads", json={}), ok=422),
    "api.upload_lead_authorisation": Route(LEAD_RECORDER, post("/api/v1/leads/{lead}/authorisation", data={},
                                                               files=True), probe=False),
    "leads.document": Route(VILLAGE_WORK, get("/leads/documents/{lead_document}"), ok=404),  # its file: not stored
    "leads.upload_authorisation": Route(LEAD_RECORDER, post("/leads/{lead}/authorisation", data={}, files=True),
                                        probe=False),
    # 防止返贫监测: the rosters of an area for who works it; 回退 of a risk elimination by the county office (an empty
    # reason is refused after the check)
    "monitoring.roster": Route(VILLAGE_WORK, get("/monitoring/roster?area={village}")),
    "monitoring.roster_xlsx": Route(VILLAGE_WORK, get("/monitoring/roster.xlsx?area={village}")),
    "monitoring.eliminations": Route(VILLAGE_WORK, get("/monitoring/eliminations?area={village}")),
    "monitoring.eliminations_xlsx": Route(VILLAGE_WORK, get("/monitoring/eliminations.xlsx?area={village}")),
    "monitoring.revert": Route(COUNTY_OFFICE, post("/cases/{case}/elimination-reversal", data={"reason": ""}),
                               ok=422),
    "api.monitoring_roster": Route(VILLAGE_WORK, get("/api/v1/monitoring/roster?area={village}")),
    "api.annex_rows": Route(VILLAGE_WORK, get("/api/v1/reports/roster?area={village}")),
    "api.annex_workbook": Route(VILLAGE_WORK, get("/api/v1/reports/ledger.xlsx?area={village}")),
    "api.monitoring_eliminations": Route(VILLAGE_WORK, get("/api/v1/monitoring/eliminations?area={village}")),
    "api.revert_case_elimination": Route(COUNTY_OFFICE, post("/api/v1/cases/{case}/elimination-reversal",
                                                             json={"reason": ""}), ok=422),
    # 部门筛查预警: a department sends and sees its own lists and maps its columns; the county office sets the rules
    # (an empty form is refused after the check); the county's roles read; a department records its own measures
    "departments.index": Route(COUNTY, get("/departments")),
    "departments.upload": Route(DEPARTMENT, post("/departments/uploads", data={"month": ""}), ok=422),
    "departments.show_upload": Route(COUNTY, get("/departments/uploads/{department_list}")),
    "departments.mapping": Route(DEPARTMENT, get("/departments/mapping")),
    "departments.save_mapping": Route(DEPARTMENT, post("/departments/mapping", data={}), ok=422),
    "departments.template": Route(DEPARTMENT, get("/departments/template.xlsx")),
    "departments.rules": Route(COUNTY, get("/departments/rules")),
    "departments.change_rule": Route(COUNTY_OFFICE, post("/departments/rules/yibao_out_of_pocket_year", data={}),
                                     ok=422),
    "departments.add_rule": Route(COUNTY_OFFICE, post("/departments/rules", data={}), ok=422),
    "departments.measures": Route(DEPARTMENT, get("/departments/measures")),
    "departments.record_progress": Route(DEPARTMENT, post("/departments/measures/{measure}/progress", data={}),
                                         ok=422),
    "api.department_lists": Route(COUNTY, get("/api/v1/department-lists")),
    "api.upload_department_list": Route(DEPARTMENT, post("/api/v1/department-lists", data={}, files=True), ok=422),
    "api.department_list": Route(COUNTY, get("/api/v1/department-lists/{department_list}")),
    "api.warning_rules": Route(COUNTY, get("/api/v1/warning-rules")),
    "api.my_department_measures": Route(DEPARTMENT, get("/api/v1/department-measures")),
    "api.record_measure_progress": Route(DEPARTMENT, post("/api/v1/department-measures/{measure}/progress", data={},
                                                          files=True), ok=422),
    # the national system's data: the county office (and the administrator), who keep the registry
    "exchange.index": Route(IMPORTERS, get("/exchange")),
    "exchange.reconcile": Route(IMPORTERS, post("/exchange/reconciliations", data={}, files=True), ok=422),
    "exchange.job": Route(IMPORTERS, get("/exchange/reconciliations/{reconciliation}")),
    "exchange.report_workbook": Route(IMPORTERS, get("/exchange/reconciliations/{reconciliation}/report.xlsx")),
    "exchange.error_workbook": Route(IMPORTERS, get("/exchange/reconciliations/{reconciliation}/errors.xlsx")),
    "exchange.apply": Route(IMPORTERS, post("/exchange/reconciliations/{reconciliation}/apply", data={}), ok=422),
    "exchange.roster_workbook": Route(IMPORTERS, get("/exchange/roster.xlsx")),
    "exchange.changes_workbook": Route(IMPORTERS, get("/exchange/changes.xlsx")),
    "api.start_reconciliation": Route(IMPORTERS, post("/api/v1/national-reconciliations", data={}, files=True),
                                      ok=422),
    "api.reconciliation": Route(IMPORTERS, get("/api/v1/national-reconciliations/{reconciliation}")),
    "api.apply_reconciliation": Route(IMPORTERS, post("/api/v1/national-reconciliations/{reconciliation}/apply",
                                                      data={}), ok=422),
    "api.household_import": Route(IMPORTERS, get("/api/v1/household-imports/{job}")),
    "api.national_roster": Route(IMPORTERS, get("/api/v1/national-exports/roster")),
    "api.national_changes": Route(IMPORTERS, get("/api/v1/national-exports/changes")),
    # the audit log: administrators and the county's supervisors
    "audit.index": Route(AUDIT_READERS, get("/audit")),
    "audit.export": Route(AUDIT_READERS, get("/audit/export.xlsx")),
    # process administration: administrators only
    "admin.index": Route(ADMIN, get("/admin/processes/")),
    "admin.version": Route(ADMIN, get("/admin/processes/versions/{version}")),
    "admin.version_xml": Route(ADMIN, get("/admin/processes/versions/{version}.bpmn")),
    "admin.diff": Route(ADMIN, get("/admin/processes/diff?from={version}&to={version}")),
    "admin.modeler": Route(ADMIN, get("/admin/processes/modeler?version={version}")),
    "admin.draft_xml": Route(ADMIN, get("/admin/processes/drafts/{draft}.bpmn")),
    "admin.rollback": Route(ADMIN, post("/admin/processes/versions/{version}/rollback", data={}), probe=False),
    "admin.migrate": Route(ADMIN, post("/admin/processes/versions/{version}/migrate",
                                       data=lambda w, s: {"target": str(w.id("version"))})),
    "admin.upload": Route(ADMIN, post("/admin/processes/upload", data={}, files=True), ok=302),
    "admin.save_draft": Route(ADMIN, post("/admin/processes/drafts", json={"xml": 1}), ok=422),
    "admin.validate_draft": Route(ADMIN, post("/admin/processes/drafts/{draft}/validate", json={})),
    "admin.deploy_draft": Route(ADMIN, post("/admin/processes/drafts/{draft}/deploy", json={}), probe=False),
    "admin.deploy_offer": Route(ADMIN, post("/admin/processes/offers/{draft}/deploy", data={}), probe=False),
    "admin.dismiss_offer": Route(ADMIN, post("/admin/processes/offers/{draft}/dismiss", data={}), probe=False),
    "api.users": Route(ADMIN, get("/api/v1/users")),
    "api.list_processes": Route(ADMIN, get("/api/v1/processes")),
    "api.validate_process": Route(ADMIN, post("/api/v1/processes/validate", body=b""), ok=422),
    "api.deploy_process": Route(ADMIN, post("/api/v1/processes/{process_key}/versions", body=b""), ok=422),
    "api.rollback_process": Route(ADMIN, post("/api/v1/processes/versions/{version}/rollback", json={}),
                                  probe=False),
    "api.migrate_case": Route(ADMIN, post("/api/v1/cases/{case}/migrate", json={}), ok=422),
}


def _month() -> str:
    return today().strftime("%Y-%m")  # already started: starting it again creates nothing


def test_every_route_has_an_expectation(_migrated: Flask) -> None:
    endpoints = {rule.endpoint for rule in _migrated.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, f"routes without a line in the authorisation matrix: {missing}"
    stale = sorted(ROUTES.keys() - endpoints)
    assert not stale, f"matrix lines for routes that no longer exist: {stale}"


# ---- running the matrix --------------------------------------------------------------------------------

def _send(world: World, persona: str | None, call: Call, api: bool) -> Any:
    client = world.web[persona]
    headers = dict(world.tokens[persona]) if api else {"X-CSRFToken": world.csrf[persona]}
    if call.method == "GET":
        response = client.get(call.url, headers=headers)
    elif call.json is not None or (call.data is None and call.body is None):
        response = client.open(call.url, method=call.method, headers=headers,
                               json=call.json if call.json is not None else {})
    elif call.body is not None:
        response = client.post(call.url, headers=headers, data=call.body, content_type="application/xml")
    else:
        data = dict(call.data or {})
        if not api:
            data["csrf_token"] = world.csrf[persona]
        response = client.post(call.url, headers=headers, data=data,
                               content_type="multipart/form-data" if call.files else None)
    response.get_data()
    response.close()
    return response


def _allowed(who: Who, persona: str | None, subject: str, about_an_object: bool = True) -> bool:
    if who == PUBLIC:
        return True
    if persona is None:
        return False
    if who == LOGGED_IN:
        return True
    if persona in OTHER_COUNTY and (about_an_object or isinstance(who, dict)):
        return False  # 石泉县's objects are not 汉滨区's to see or touch
    if persona in COUNTERPARTS:
        return _allowed(who, COUNTERPARTS[persona], subject, about_an_object)
    if isinstance(who, dict):
        return persona in who[subject]
    assert isinstance(who, frozenset)
    return persona in who


def _subjects(who: Who) -> tuple[str, ...]:
    return tuple(who) if isinstance(who, dict) else ("cg",)


CHECKS = {"count": 0, "skipped_allowed": 0}  # tallies, for a look with a debugger or print


def check_route(world: World, endpoint: str) -> list[str]:
    route = ROUTES[endpoint]
    if route.call is None:
        return []
    api = endpoint.startswith("api.")
    problems = []
    for subject in _subjects(route.who):
        for persona in PERSONAS:
            call = route.call(world, subject)  # afresh: an upload's file is read once
            allowed = _allowed(route.who, persona, subject, names_an_object(route))
            if allowed and not route.probe:
                CHECKS["skipped_allowed"] += 1
                continue
            response = _send(world, persona, call, api)
            CHECKS["count"] += 1
            status, where = response.status_code, response.headers.get("Location", "")
            label = f"{endpoint} {call.method} {call.url} as {persona or 'anonymous'} ({subject}): {status}"
            if allowed:
                if status != route.ok:
                    problems.append(f"{label}, expected {route.ok}")
            elif persona is None and route.who != PUBLIC:
                expected = "401" if api else "redirect to /login"
                if (api and status != 401) or (not api and not (status == 302 and "/login" in where)):
                    problems.append(f"{label} {where}, expected {expected}")
            elif status not in (403, 404):
                problems.append(f"{label}, expected 403 or 404")
    return problems


def _snapshot(app: Flask) -> dict[str, Any]:
    """The rows the exercised POST routes could touch."""
    from app.models import (
        Attachment,
        Case,
        Comment,
        CountySetting,
        DepartmentMapping,
        DepartmentRecord,
        DepartmentUpload,
        EliminationReversal,
        Event,
        LeadDocument,
        Measure,
        MeasureProgress,
        MonitoringLine,
        ProcessDraft,
        ProcessVersion,
        ReadyTask,
        RiskLead,
        RiskRegistration,
        Screening,
        StandIn,
        TaskDraft,
        WarningRule,
    )

    with app.app_context():
        counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Attachment, Comment, ProcessDraft, ProcessVersion, RiskRegistration, Screening,
                                StandIn, TaskDraft, ReadyTask, RiskLead, LeadDocument, CountySetting, MonitoringLine,
                                DepartmentMapping, DepartmentRecord, DepartmentUpload, WarningRule, MeasureProgress,
                                EliminationReversal)}
        counts["measures"] = sorted(db.session.execute(select(Measure.id, Measure.status)).all())
        counts["events"] = db.session.scalar(select(func.count()).select_from(Event).where(
            Event.kind.notin_(READ_AUDIT_KINDS)))
        counts["claims"] = sorted(db.session.execute(select(ReadyTask.id, ReadyTask.claimed_by_id)
                                                     .where(ReadyTask.claimed_by_id.isnot(None))).all())
        counts["cadres"] = sorted(db.session.execute(select(Case.id, Case.cadre_id)).all())
        counts["current"] = sorted(db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.is_current)))
        counts["revisions"] = sorted(db.session.execute(select(Case.id, Case.status, Case.current_step)).all())
        db.session.remove()
        return counts


# Reading is audited too (exports, full ID numbers): allowed reads add these and nothing else. That a refused
# reveal logs nothing is checked in tests/trust/test_audit_log.py.
READ_AUDIT_KINDS = ("annex_exported", "annual_review_exported", "case_list_exported", "audit_exported",
                    "import_errors_exported", "id_number_revealed")
GETS = sorted(e for e, r in ROUTES.items() if r.call is not None and r.call.__qualname__.startswith("get"))
POSTS = sorted(e for e, r in ROUTES.items() if r.call is not None and e not in GETS)


@pytest.mark.parametrize("endpoint", GETS)
def test_get_routes(world: World, endpoint: str) -> None:
    problems = check_route(world, endpoint)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_routes_change_nothing_when_refused(world: World, endpoint: str) -> None:
    before = _snapshot(world.app)
    problems = check_route(world, endpoint)
    assert not problems, "\n".join(problems)
    assert _snapshot(world.app) == before, f"{endpoint}: a refused or probing request changed stored data"


def test_lists_show_only_the_users_own_rows(world: World) -> None:
    """The routes open to every user scope their rows: a case, household or task of another area never shows."""
    ids = world.ids
    problems = []
    for persona in USERS:
        headers = world.tokens[persona]
        client = world.web[persona]
        cases = {c["id"] for c in client.get("/api/v1/cases?per_page=200", headers=headers).get_json()["cases"]}
        households = {h["id"] for h in client.get("/api/v1/households?limit=200",
                                                  headers=headers).get_json()["households"]}
        tasks = {t["id"] for t in client.get("/api/v1/tasks", headers=headers).get_json()["tasks"]}
        page = client.get("/cases/").get_data(as_text=True)
        exported = _exported_case_ids(client.get("/cases/export.xlsx").get_data())
        for subject in ("cg", "rf"):
            sees = _allowed(CASE, persona, subject)
            if (ids[f"case_{subject}"] in cases) != sees:
                problems.append(f"{persona}: case {subject} in the case list: {not sees}")
            if (f'href="/cases/{ids[f"case_{subject}"]}"' in page) != sees:
                problems.append(f"{persona}: case {subject} on the case list page: {not sees}")
            if (ids[f"case_{subject}"] in exported) != sees:
                problems.append(f"{persona}: case {subject} in the case list export: {not sees}")
            if (ids[f"household_{subject}"] in households) != sees:
                problems.append(f"{persona}: household {subject} in the household search: {not sees}")
            does = _allowed(TASK_DOER, persona, subject)
            if (ids[f"task_{subject}"] in tasks) != does:
                problems.append(f"{persona}: task {subject} in the inbox: {not does}")
    assert not problems, "\n".join(problems)


def _exported_case_ids(content: bytes) -> set[int]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return {row[0] for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)}
