"""A real streaming replica of the test database's server (made by `make test`: .ci/replica, a second PostgreSQL
cluster from pg_basebackup), and an app that reads its marked pages there.

TEST_REPLICA_DATABASE_URL names the replica (its database is taken from TEST_DATABASE_URL: a physical replica holds
every database of its primary); TEST_REPLICA_CLUSTER ("15/replica") lets the tests stop and start it. The tests on
the replica are collected in the PostgreSQL run that has one (and under CI=true in every PostgreSQL run, where a
missing replica fails them: CI must test it); the SQLite run does not collect them."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.replica import Replica
from tests.conftest import DEMO_PASSWORD

WAIT_SECONDS = 60
ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
WITH_REPLICA = bool(os.environ.get("TEST_REPLICA_DATABASE_URL")) or os.environ.get("CI") == "true"
collect_ignore = [] if ON_POSTGRESQL and WITH_REPLICA else ["test_streaming_replica.py"]


def _dsn(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def replica_url(database_url: str) -> str:
    assert database_url.startswith("postgresql"), "the replica's tests are collected in the PostgreSQL run only"
    raw = os.environ.get("TEST_REPLICA_DATABASE_URL")
    if not raw:
        pytest.fail("TEST_REPLICA_DATABASE_URL is not set: `make test` starts the replica (.ci/replica) and sets it")
    return make_url(raw).set(database=make_url(database_url).database).render_as_string(hide_password=False)


class Servers:
    """Superuser connections to both servers (autocommit), to watch and steer replication."""

    def __init__(self, primary_url: str, replica_url: str) -> None:
        self.primary_dsn, self.replica_dsn = _dsn(primary_url), _dsn(replica_url)

    def primary(self, sql: str) -> object:
        with psycopg.connect(self.primary_dsn, autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

    def replica(self, sql: str) -> object:
        with psycopg.connect(self.replica_dsn, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

    def wait_replayed(self) -> None:
        """Until the replica has replayed everything the primary wrote so far."""
        lsn = self.primary("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + WAIT_SECONDS
        while self.replica(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") is not True:
            assert time.monotonic() < deadline, f"the replica has not replayed {lsn} in {WAIT_SECONDS} s"
            time.sleep(0.05)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica keeps receiving the primary's WAL but applies none of it until the block ends."""
        self.replica("SELECT pg_wal_replay_pause()")
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while self.replica("SELECT pg_get_wal_replay_pause_state()") == "not paused":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            yield
        finally:
            self.replica("SELECT pg_wal_replay_resume()")

    @contextmanager
    def replica_stopped(self) -> Iterator[None]:
        cluster = os.environ.get("TEST_REPLICA_CLUSTER", "")
        if "/" not in cluster:
            pytest.fail("TEST_REPLICA_CLUSTER (e.g. 15/replica) is not set: the replica cannot be stopped "
                        "(`make test` sets it with TEST_REPLICA_DATABASE_URL)")
        version, name = cluster.split("/", 1)
        subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True, capture_output=True)
        try:
            yield
        finally:
            subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, capture_output=True)
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                try:
                    if self.replica("SELECT pg_is_in_recovery()") is True:
                        break
                except psycopg.OperationalError:
                    pass
                assert time.monotonic() < deadline, f"{cluster} did not come back"
                time.sleep(0.2)
            self.wait_replayed()


@pytest.fixture(scope="session")
def _replica_app(database_url: str, replica_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                      "DEMO_PASSWORD": DEMO_PASSWORD, "REPLICA_DATABASE_URL": replica_url,
                      # a loaded CI machine must not turn a paused replica's few seconds into "too far behind"
                      "REPLICA_MAX_LAG_SECONDS": 3600})
    yield app
    with app.app_context():
        db.engine.dispose()
    replica_of(app).engine.dispose()


# Pausing replay or stopping the replica holds up every database on it: test suites of other checkouts sharing this
# server and its replica take turns, by this advisory lock of the server's `postgres` database.
REPLICA_TURN = 22_03


@pytest.fixture()
def servers(database_url: str, replica_url: str) -> Iterator[Servers]:
    found = Servers(database_url, replica_url)
    turn = make_url(database_url).set(database="postgres")
    with psycopg.connect(_dsn(turn.render_as_string(hide_password=False)), autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (REPLICA_TURN,))
        assert found.replica("SELECT pg_is_in_recovery()") is True, "TEST_REPLICA_DATABASE_URL is not a standby"
        found.replica("SELECT pg_wal_replay_resume() WHERE pg_is_wal_replay_paused()")
        yield found


@pytest.fixture()
def replica_app(app: Flask, _replica_app: Flask, servers: Servers) -> Iterator[Flask]:
    """The same database as `app` (the demo county just loaded on the primary, now replayed on the replica),
    served by an app whose marked pages read from the replica."""
    servers.wait_replayed()
    replica = replica_of(_replica_app)
    replica.down_until, replica.asked = 0.0, 0
    yield _replica_app
    with _replica_app.app_context():
        db.session.remove()


def replica_of(app: Flask) -> Replica:
    replica = app.extensions["replica"]
    assert isinstance(replica, Replica)
    return replica
