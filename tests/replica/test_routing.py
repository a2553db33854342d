"""Which views read from a replica, and what the routing session gives one: these need no replica (they run on
SQLite too); tests/replica/test_streaming_replica.py drives a real one."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine, delete, insert, select, text, union, update

from app import create_app
from app.audit import log as audit
from app.extensions import db
from app.models import Event, User
from app.replica import Freshness, is_marked, reads_go_to
from tests.conftest import DEMO_PASSWORD, Browser
from tests.replica.conftest import replica_of

READ_ONLY_PAGES = {
    "supervision.heatmap_page", "supervision.warnings_page",
    "scoreboard.scoreboard", "scoreboard.annual_review", "scoreboard.annual_review_export",
    "reports.show", "reports.download",
    "monitoring.roster", "monitoring.roster_xlsx", "monitoring.eliminations", "monitoring.eliminations_xlsx",
    "exchange.roster_workbook", "exchange.changes_workbook",
    "audit.index", "audit.export",
    "api.monitoring_roster", "api.monitoring_eliminations", "api.national_roster", "api.national_changes",
    "api.annex_rows", "api.annex_workbook",
}


def test_the_marked_views_are_the_read_only_pages_and_answer_only_gets(app):
    marked = {endpoint for endpoint, view in app.view_functions.items() if is_marked(view)}
    assert marked == READ_ONLY_PAGES
    for rule in app.url_map.iter_rules():
        if rule.endpoint in marked:
            assert rule.methods is not None and rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_the_session_gives_a_replica_only_the_plain_selects_of_a_marked_view(app):
    replica = create_engine("sqlite://")  # no tables: whatever reaches it fails
    with app.app_context():
        session = db.session()
        primary = db.engine
        plain, locking = select(User.id), select(User.id).with_for_update()
        with reads_go_to(replica):
            assert session.get_bind(clause=plain) is replica
            assert session.get_bind(clause=union(select(User.id), select(User.id))) is replica
            for clause in (locking, insert(Event), update(User).values(active=True), delete(Event),
                           text("SELECT 1"), None):
                assert session.get_bind(clause=clause) is primary, clause
            assert session.connection() is session.connection(bind_arguments={"clause": plain.with_for_update()})
            # a flush in the middle of a marked view (an export's audit event) goes to the primary
            audit.record("audit_exported", None, "审计日志.xlsx")
            db.session.flush()
        assert session.get_bind(clause=plain) is primary
        db.session.rollback()
    replica.dispose()


def test_without_a_replica_the_pages_are_as_ever(app):
    response = Browser(app, "supervisor").get("/supervision/heatmap")
    assert response.status_code == 200 and "X-Data-Source" not in response.headers
    assert 'class="freshness' not in response.get_data(as_text=True)


def test_a_replica_is_a_postgresql_server(database_url):
    with pytest.raises(ValueError, match="REPLICA_DATABASE_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                    "REPLICA_DATABASE_URL": "sqlite:///replica.sqlite3"})


def test_a_replica_that_does_not_answer_is_asked_once_and_the_primary_serves(app, database_url):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                        "DEMO_PASSWORD": DEMO_PASSWORD,
                        "REPLICA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/rpm"})
    replica = replica_of(other)
    supervisor = Browser(other, "supervisor")
    for url in ("/supervision/heatmap", "/supervision/scoreboard", "/audit"):
        response = supervisor.get(url)
        assert response.status_code == 200, url
        assert response.headers["X-Data-Source"] == "primary; reason=unreachable"
        assert "只读副本暂不可用，本页数据直接读自主库" in response.get_data(as_text=True)
    assert replica.asked == 1
    with other.app_context():
        db.engine.dispose()
    replica.engine.dispose()


@pytest.mark.parametrize(("freshness", "said"), [
    (Freshness("replica", lag=0.0), "本页数据来自只读副本，已与主库同步。"),
    (Freshness("replica", lag=3.4), "本页数据来自只读副本，截至 3 秒前（此后办理的事项稍后显示）。"),
    (Freshness("replica", lag=0.2), "本页数据来自只读副本，截至 1 秒前（此后办理的事项稍后显示）。"),
    (Freshness("replica", lag=150), "本页数据来自只读副本，截至 2 分钟前（此后办理的事项稍后显示）。"),
    (Freshness("primary", lag=7300, reason="lagging"),
     "只读副本滞后 2 小时 1 分钟，本页数据直接读自主库，为最新数据。"),
    (Freshness("primary", reason="not-standby"), "本页数据直接读自主库，为最新数据。"),
])
def test_a_page_says_how_fresh_it_is_in_chinese(freshness, said):
    assert freshness.text == said
