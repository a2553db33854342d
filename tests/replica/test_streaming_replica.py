"""The read-only pages on a real streaming replica: they read there (a change the replica has not replayed yet is not
on them, and they say how old their data is), what they write lands on the primary, nothing is ever written to the
replica, and with the replica stopped they are served from the primary."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import event, func, select
from sqlalchemy.sql.selectable import GenerativeSelect

from app import create_app
from app.accounts.operations import hash_password
from app.extensions import db
from app.models import Case, Event, Household, User
from app.replica import FRESHNESS, RoutingSession
from tests.conftest import DEMO_PASSWORD, Browser, today
from tests.helpers import open_case
from tests.replica.conftest import replica_of

MONTH = f"{today():%Y-%m}"
DAY = today().isoformat()
# Every page and export that reads from the replica, with a user who may see it.
SUPERVISOR_PAGES = [
    "/supervision/heatmap", "/supervision/warnings", f"/supervision/scoreboard?month={MONTH}",
    "/supervision/annual-review", "/supervision/annual-review.xlsx",
    f"/reports/roster?month={MONTH}", f"/reports/ledger?month={MONTH}", f"/reports/roster.xlsx?month={MONTH}",
    f"/reports/ledger.xlsx?month={MONTH}", "/monitoring/roster", "/monitoring/roster.xlsx",
    "/monitoring/eliminations", "/monitoring/eliminations.xlsx",
    f"/audit?start={DAY}&end={DAY}", f"/audit/export.xlsx?start={DAY}&end={DAY}",
]
COUNTY_OFFICE_PAGES = ["/exchange/roster.xlsx", f"/exchange/changes.xlsx?month={MONTH}"]
API_PAGES = ["/api/v1/monitoring/roster", "/api/v1/monitoring/eliminations", "/api/v1/national-exports/roster",
             f"/api/v1/national-exports/changes?month={MONTH}"]


def freshness_note(page: str) -> str:
    match = re.search(r'<p class="freshness (\w+)" role="note">(.*?)</p>', page)
    assert match, "the page does not say where its data comes from"
    return f"{match.group(1)}: {html.unescape(match.group(2))}"


def roster_heads(browser: Browser) -> str:
    response = browser.get(f"/reports/roster?month={MONTH}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def heat_cells(page: str) -> dict[str, int]:
    import json

    block = re.search(r'<script type="application/json" id="heat-data">(.*?)</script>', page, re.S)
    assert block
    return {c["bpmn_id"]: c["waiting"] for c in json.loads(block.group(1))["cells"]}


def scoreboard_row(page: str, unit: str) -> str:
    match = re.search(rf'<tr[^>]*data-unit="{unit}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {unit}"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))).strip()


def audit_kinds(response: Any) -> list[str]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [r[2] for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None]


def events_on_primary(app: Flask, kind: str) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind)) or 0)


@contextmanager
def statements_on(app: Flask) -> Iterator[list[str]]:
    """Every statement the app sends to the replica while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = replica_of(app).engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_pages_read_the_replica_and_say_how_old_their_data_is(app, replica_app, servers):
    primary_view, replica_view = Browser(app, "supervisor"), Browser(replica_app, "supervisor")
    servers.wait_replayed()
    board_before = scoreboard_row(replica_view.get(f"/supervision/scoreboard?month={MONTH}").get_data(as_text=True),
                                  "610922100")
    with servers.replay_paused():
        case_id = open_case(app)  # this month's screening, a household registered, its case at the town
        with app.app_context():
            head = db.session.scalars(select(Household.head_name).join(Case, Case.household_id == Household.id)).one()
        assert head in roster_heads(primary_view)

        page = roster_heads(replica_view)
        assert head not in page
        note = freshness_note(page)
        assert note.startswith("replica: 本页数据来自只读副本，截至 ") and "秒前" in note
        response = replica_view.get(f"/reports/roster?month={MONTH}")
        source, lag = response.headers["X-Data-Source"].split("; lag=")
        assert source == "replica" and float(lag) > 0

        heatmap = "/supervision/heatmap"
        assert heat_cells(primary_view.get(heatmap).get_data(as_text=True)).get("Task_TownCertify") == 1
        assert "Task_TownCertify" not in heat_cells(replica_view.get(heatmap).get_data(as_text=True))

        board = f"/supervision/scoreboard?month={MONTH}"
        assert scoreboard_row(replica_view.get(board).get_data(as_text=True), "610922100") == board_before
        assert scoreboard_row(primary_view.get(board).get_data(as_text=True), "610922100") != board_before

        export = f"/audit/export.xlsx?start={DAY}&end={DAY}"
        assert "建立案件" in audit_kinds(primary_view.get(export))
        assert "建立案件" not in audit_kinds(replica_view.get(export))

    servers.wait_replayed()
    page = roster_heads(replica_view)
    assert head in page and freshness_note(page).startswith("replica: 本页数据来自只读副本")
    assert heat_cells(replica_view.get(heatmap).get_data(as_text=True))["Task_TownCertify"] == 1
    assert scoreboard_row(replica_view.get(board).get_data(as_text=True), "610922100") != board_before
    assert "建立案件" in audit_kinds(replica_view.get(export))
    assert case_id


def test_what_a_replica_page_writes_lands_on_the_primary_and_who_asks_is_checked_there(app, replica_app, servers):
    supervisor = Browser(replica_app, "supervisor")
    with servers.replay_paused():
        # a user the replica does not know yet: log-in and the user behind the session are read from the primary
        with app.app_context():
            db.session.add(User(username="new_supervisor", password_hash=hash_password(DEMO_PASSWORD),
                                full_name="新督查员", role="supervisor", area_code="610922"))
            db.session.commit()
        newcomer = Browser(replica_app, "new_supervisor").get("/supervision/heatmap")
        assert newcomer.status_code == 200 and newcomer.headers["X-Data-Source"].startswith("replica")
        assert "新督查员" in newcomer.get_data(as_text=True)
        # a token made while the replica replays nothing: the API's token check reads the primary
        token = supervisor.client.post("/api/v1/auth/token", json={"username": "county_office",
                                                                   "password": DEMO_PASSWORD})
        assert token.status_code == 201
        answer = supervisor.client.get("/api/v1/monitoring/roster",
                                       headers={"Authorization": f"Bearer {token.get_json()['token']}"})
        assert answer.status_code == 200 and answer.headers["X-Data-Source"].startswith("replica")

        before = events_on_primary(app, "audit_exported")
        response = supervisor.get(f"/audit/export.xlsx?start={DAY}&end={DAY}")
        assert response.status_code == 200 and response.headers["X-Data-Source"].startswith("replica")
        assert events_on_primary(app, "audit_exported") == before + 1
        assert servers.replica("SELECT count(*) FROM event WHERE kind = 'audit_exported'") == before
    servers.wait_replayed()
    assert servers.replica("SELECT count(*) FROM event WHERE kind = 'audit_exported'") == before + 1


@pytest.fixture()
def binds(monkeypatch) -> list[tuple[bool, Any, Any]]:
    """Every bind the routing session picks: (flushing, statement, engine)."""
    picked: list[tuple[bool, Any, Any]] = []
    original: Callable[..., Any] = RoutingSession.get_bind

    def spy(self: RoutingSession, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        clause = kwargs.get("clause", args[1] if len(args) > 1 else None)
        picked.append((self._flushing, clause, found))
        return found

    monkeypatch.setattr(RoutingSession, "get_bind", spy)
    return picked


def test_every_marked_page_reads_there_and_nothing_is_ever_written_to_the_replica(app, replica_app, servers, binds):
    open_case(app)
    servers.wait_replayed()
    replica = replica_of(replica_app).engine
    supervisor, county = Browser(replica_app, "supervisor"), Browser(replica_app, "county_office")
    token = county.client.post("/api/v1/auth/token", json={"username": "county_office", "password": DEMO_PASSWORD})
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    with statements_on(replica_app) as statements:
        for browser, url in [(supervisor, u) for u in SUPERVISOR_PAGES] + [(county, u) for u in COUNTY_OFFICE_PAGES]:
            count = len(statements)
            response = browser.get(url)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
            assert response.headers["X-Data-Source"].startswith("replica"), url
            assert len(statements) > count + 1, f"{url} read nothing from the replica"
        for url in API_PAGES:
            response = county.client.get(url, headers=bearer)
            assert response.status_code == 200 and response.headers["X-Data-Source"].startswith("replica"), url
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), [
        s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    # the replica is given plain SELECTs (and the question how fresh it is), never a flush
    assert not [b for b in binds if b[2] is replica and (b[0] or not (b[1] is FRESHNESS or (
        isinstance(b[1], GenerativeSelect) and b[1]._for_update_arg is None)))]
    assert [b for b in binds if b[2] is replica and isinstance(b[1], GenerativeSelect)]
    assert [b for b in binds if b[0]], "the exports' audit events were flushed (to the primary)"
    assert servers.replica("SELECT pg_is_in_recovery()") is True


def test_pages_that_decide_or_write_never_touch_the_replica(app, replica_app, servers):
    case_id = open_case(app)
    servers.wait_replayed()
    certifier = Browser(replica_app, "chengguan_certifier")
    with statements_on(replica_app) as statements:
        for url in ("/", "/cases/", f"/cases/{case_id}", "/screenings/", "/leads"):
            response = certifier.get(url)
            assert response.status_code == 200, url
            assert "X-Data-Source" not in response.headers and 'class="freshness' not in response.get_data(as_text=True)
        certifier.complete("Task_TownCertify", {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"},
                           case_id)
    assert statements == []


def test_a_stopped_replica_leaves_the_pages_to_the_primary(app, replica_app, servers):
    supervisor = Browser(replica_app, "supervisor")
    replica = replica_of(replica_app)
    assert supervisor.get("/supervision/heatmap").headers["X-Data-Source"].startswith("replica")
    with servers.replica_stopped():
        open_case(app)
        asked = replica.asked
        for url in SUPERVISOR_PAGES:
            response = supervisor.get(url)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
            assert response.headers["X-Data-Source"] == "primary; reason=unreachable", url
        # asked once, found dead, then left alone for REPLICA_RETRY_SECONDS: a dead replica does not slow every page
        assert replica.asked == asked + 1
        page = supervisor.get("/supervision/heatmap").get_data(as_text=True)
        assert heat_cells(page)["Task_TownCertify"] == 1
        assert freshness_note(page) == "primary: 只读副本暂不可用，本页数据直接读自主库，为最新数据。"
        # writes go on as ever
        Browser(replica_app, "chengguan_certifier").complete(
            "Task_TownCertify", {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"})
    replica.down_until = 0.0  # the retry interval, passed
    assert supervisor.get("/supervision/heatmap").headers["X-Data-Source"].startswith("replica")


def test_a_replica_too_far_behind_leaves_the_pages_to_the_primary(app, replica_app, servers):
    supervisor = Browser(replica_app, "supervisor")
    replica = replica_of(replica_app)
    with servers.replay_paused():
        open_case(app)
        replica.max_lag = 0.0
        try:
            response = supervisor.get("/supervision/heatmap")
        finally:
            replica.max_lag = 3600.0
    assert response.headers["X-Data-Source"].startswith("primary; reason=lagging; lag=")
    assert heat_cells(response.get_data(as_text=True))["Task_TownCertify"] == 1
    assert "只读副本滞后" in freshness_note(response.get_data(as_text=True))


def test_a_query_the_replica_refuses_is_read_again_from_the_primary(app, replica_app, servers, monkeypatch):
    """txid_current() needs a transaction id, which a server in recovery cannot give: the page fails on the
    replica, and is read again from the primary, which stays in use for the next page."""
    from app.web import supervision

    original = supervision.heatmap_versions

    def needs_a_transaction_id() -> Any:
        db.session.execute(select(func.txid_current()))
        return original()

    monkeypatch.setattr(supervision, "heatmap_versions", needs_a_transaction_id)
    supervisor = Browser(replica_app, "supervisor")
    response = supervisor.get("/supervision/heatmap")
    assert response.status_code == 200
    assert response.headers["X-Data-Source"] == "primary; reason=failed"
    assert freshness_note(response.get_data(as_text=True)) == (
        "primary: 只读副本读取失败，本页数据改为直接读自主库，为最新数据。")
    assert replica_of(replica_app).down_until == 0.0


def test_a_server_not_in_recovery_is_not_taken_for_a_replica(app, database_url):
    """The primary itself, or a former replica promoted: it no longer follows the primary, so it is not read."""
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                        "DEMO_PASSWORD": DEMO_PASSWORD, "REPLICA_DATABASE_URL": database_url})
    supervisor = Browser(other, "supervisor")
    for _ in range(2):
        response = supervisor.get("/supervision/heatmap")
        assert response.status_code == 200
        assert response.headers["X-Data-Source"] == "primary; reason=not-standby"
        assert "本页数据直接读自主库，为最新数据。" in response.get_data(as_text=True)
    assert replica_of(other).asked == 1
    with other.app_context():
        db.engine.dispose()
    replica_of(other).engine.dispose()
