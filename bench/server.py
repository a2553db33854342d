"""The app as production runs it (gunicorn workers and a timer worker, on 127.0.0.1), and keep-alive clients.

    with Server(database) as server:
        web = WebClient(server.port, "supervisor")           # a logged-in browser session
        api = ApiClient(server.port)                         # bearer tokens, JSON
        server.peak_rss_mb                                   # all gunicorn processes together, sampled
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import psutil

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-2026"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerFailed(SystemExit):
    pass


class Server:
    """gunicorn -w WORKERS --threads THREADS 'app.wsgi:application' plus `flask timers run`, on a fresh port."""

    def __init__(self, database: Path | str, workers: int = 2, threads: int = 1, timers: bool | int = True,
                 timer_interval: int = 1, server: str = "gunicorn", wsgi_app: str = "app.wsgi:application",
                 log_dir: Path | None = None) -> None:
        """`database`: a SQLite file, or a database URL (PostgreSQL); `timers`: how many timer workers (True: one)."""
        self.database = database
        self.wsgi_app = wsgi_app  # what gunicorn serves: the app, or a floor's bare Flask app
        self.workers, self.threads = workers, threads
        self.server = server
        self.timers, self.timer_interval = timers, timer_interval
        self.port = free_port()
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        folder = log_dir or (database.parent if isinstance(database, Path) else ROOT / "instance")
        self.log = folder / f"bench-server-{self.port}.log"
        self.env = {**os.environ, "DATABASE_URL": url, "DEMO_PASSWORD": PASSWORD, "SECRET_KEY": "bench"}
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.timer_workers: list[subprocess.Popen[bytes]] = []
        self.peak_rss = 0  # bytes, all gunicorn processes together
        self.peak_worker_rss = 0  # bytes, the largest single worker
        self._sampling = False
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> Server:
        sink = self.log.open("ab")
        self.gunicorn = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, stdout=sink, stderr=sink)
        for _ in range(int(self.timers)):
            self.timer_workers.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "timers", "run",
                 "--interval", str(self.timer_interval)], cwd=ROOT, env=self.env, stdout=sink, stderr=sink))
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/login")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if time.monotonic() > deadline or self.gunicorn.poll() is not None:
                    self.__exit__(None, None, None)
                    raise ServerFailed(f"the server did not start:\n{self.tail()}") from None
                time.sleep(0.2)
        # Every worker answers once before anything is timed (imports, the first connection, spec parsing).
        for _ in range(self.workers * 4):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/login")
            connection.getresponse().read()
            connection.close()
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def command(self) -> list[str]:
        worker_class = ["-k", "gthread"] if self.server == "gunicorn-gthread" else []
        return [str(BIN / "gunicorn"), *worker_class, "-w", str(self.workers), "--threads", str(self.threads),
                "-b", f"127.0.0.1:{self.port}", "--timeout", "300", "--log-level", "warning", self.wsgi_app]

    def _processes(self) -> list[psutil.Process]:
        assert self.gunicorn is not None
        try:
            master = psutil.Process(self.gunicorn.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _sample(self) -> None:
        while self._sampling:
            total, largest = 0, 0
            for process in self._processes():
                try:
                    rss = process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                total += rss
                if process.pid != self.gunicorn.pid:  # type: ignore[union-attr]
                    largest = max(largest, rss)
            self.peak_rss = max(self.peak_rss, total)
            self.peak_worker_rss = max(self.peak_worker_rss, largest)
            time.sleep(0.05)

    @property
    def peak_rss_mb(self) -> float:
        return round(self.peak_rss / 2**20, 1)

    @property
    def peak_worker_rss_mb(self) -> float:
        return round(self.peak_worker_rss / 2**20, 1)

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self._processes() if p.pid != self.gunicorn.pid]  # type: ignore[union-attr]

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._sampling = False
        if self._sampler is not None:
            self._sampler.join(timeout=2)
        for process in (*self.timer_workers, self.gunicorn):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class HttpError(Exception):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {body[:300]}")
        self.status = status


class _Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> http.client.HTTPResponse:
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                return self.connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closed an idle keep-alive connection: reconnect once (never for a lost answer).
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                if attempt:
                    raise
        raise AssertionError("unreachable")


class WebClient(_Connection):
    """A keep-alive browser session: logged in with the form, cookies kept."""

    def __init__(self, port: int, username: str) -> None:
        super().__init__(port)
        self.cookies: dict[str, str] = {}
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        status, _ = self.request("POST", "/login", urlencode({"username": username, "password": PASSWORD,
                                                              "csrf_token": token}))
        if status != 302:
            raise SystemExit(f"login failed for {username}")

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self.send(method, path, body.encode() if body is not None else None, headers)
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, text

    def get(self, path: str) -> str:
        status, text = self.request("GET", path)
        if status != 200:
            raise HttpError("GET", path, status, text)
        return text


class ApiClient(_Connection):
    """A keep-alive JSON API client; each call names the bearer token it acts with."""

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        response = self.send(method, path, data, headers)
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        return response.status, payload

    def ok(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        status, payload = self.call(method, path, token, body)
        if not 200 <= status < 300:
            raise HttpError(method, path, status, json.dumps(payload, ensure_ascii=False))
        return payload

    def token(self, username: str) -> str:
        body = self.ok("POST", "/api/v1/auth/token", body={"username": username, "password": PASSWORD})
        return str(body["token"])
