"""The app as `make run` serves it: migrated and loaded by the flask commands, served by waitress on a free
loopback port, on a database of its own (a fresh SQLite file, or a fresh PostgreSQL database beside the one
TEST_DATABASE_URL names, so that the suite's PostgreSQL run drives the browser against PostgreSQL too)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "E2E-Demo-2026"
# 2 towns × 2 villages × 6 households: 城关镇 (610922100) and 饶峰镇 (610922101), villages …001 and …002.
HOUSEHOLDS_PER_VILLAGE = 6
DEMO_SIZE = ("--towns", "2", "--villages-per-town", "2", "--households-per-village", str(HOUSEHOLDS_PER_VILLAGE))
COMMAND_TIMEOUT = 120
START_TIMEOUT = 30.0


@dataclass
class LiveServer:
    url: str
    database_url: str
    env: dict[str, str]
    log: Path
    commands: list[str] = field(default_factory=list)

    def flask(self, *args: str) -> str:
        """Run `flask --app app ARGS` against the server's database (as an operator would); returns stdout."""
        return run_flask(self.env, *args)

    def move_time(self, days: int) -> str:
        """Fire every BPMN timer due `days` from now (`flask timers run --once --now …`), as a drill does."""
        moment = (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")
        output = self.flask("timers", "run", "--once", "--now", moment)
        self.commands.append(f"timers run --once --now {moment}: {output.strip()}")
        return output


def run_flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT, check=False)
    if done.returncode != 0:
        raise AssertionError(f"flask {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+", "postgres:"))


@contextmanager
def postgres_database(test_url: str) -> Iterator[str]:
    """A fresh database `<name>_e2e` on the server of `test_url`, dropped again afterwards."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(test_url)
    name = f"{url.database or 'rpm_test'}_e2e"
    params = {"host": url.host or "127.0.0.1", "port": url.port or 5432, "user": url.username or "postgres",
              "dbname": "postgres", "connect_timeout": 5}
    if url.password:
        params["password"] = url.password

    def recreate(create: bool) -> None:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if create:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    recreate(create=True)
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        recreate(create=False)


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise AssertionError(f"waitress exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the app did not answer on {url} within {START_TIMEOUT:.0f} s:\n"
                                 f"{log.read_text(errors='replace')}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End waitress and anything it started: the whole process group, politely first."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


@contextmanager
def serve(database_url: str, workdir: Path) -> Iterator[LiveServer]:
    """init-db, load-demo, then waitress-serve on 127.0.0.1:<free port> until the block ends."""
    env = dict(os.environ)
    for name in ("SESSION_COOKIE_SECURE", "FLASK_APP", "FLASK_DEBUG"):
        env.pop(name, None)
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32), "DEMO_PASSWORD": PASSWORD,
                "PYTHONUNBUFFERED": "1"})
    run_flask(env, "init-db")
    run_flask(env, "load-demo", "--empty", *DEMO_SIZE)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "waitress.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{port}", "--threads=8", "app.wsgi:application"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        try:
            _wait_until_serving(process, url, log)
            yield LiveServer(url=url, database_url=database_url, env=env, log=log)
        finally:
            _stop(process)


@contextmanager
def serve_for_the_suite(workdir: Path) -> Iterator[LiveServer]:
    """`serve` on the suite's database kind: a fresh PostgreSQL database when TEST_DATABASE_URL names one, else a
    fresh SQLite file in `workdir`."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if is_postgres(test_url):
        with postgres_database(test_url) as database_url, serve(database_url, workdir) as server:
            yield server
    else:
        with serve("sqlite:///" + str(workdir / "e2e.sqlite3"), workdir) as server:
            yield server
