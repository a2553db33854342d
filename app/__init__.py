"""返贫监测认定和帮扶 — the case-workflow system of 《石泉县返贫监测认定和帮扶办法》."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
# Settings the environment may set as well as instance/config.py: the limits of an uploaded workbook
# (app/excel/reading.py Limits, app/excel/bounded.py Budget) and of a registry file.
UPLOAD_LIMITS = ("EXCEL_MAX_ROWS", "EXCEL_MAX_COLUMNS", "EXCEL_MAX_UNCOMPRESSED", "EXCEL_MAX_RATIO",
                 "EXCEL_MAX_SHARED_STRINGS_BYTES", "EXCEL_MAX_SHARED_STRINGS", "EXCEL_MAX_SHEET_BYTES",
                 "EXCEL_MAX_PART_BYTES", "EXCEL_READ_MEMORY_BYTES", "EXCEL_READ_SECONDS", "HOUSEHOLD_IMPORT_MAX_BYTES")


def create_app(test_config: Mapping[str, Any] | None = None, *, commands: bool = True) -> Flask:
    """The app. `commands=False` leaves out the command-line tools (Alembic's migrations, the importers'
    commands): what a web server's workers run (app/wsgi.py), about 10 MB smaller each. Flask and the extensions
    are imported here, not by `import app`: the upload reader's child process (app.excel.bounded) starts without
    them."""
    from flask import Flask

    from app.extensions import csrf, db, login_manager
    from app.replica import init_replica

    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True)
    app.config.from_object("app.config")
    app.config["PROCESSES_DIR"] = str(ROOT / "processes")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "rpm.sqlite3")
    app.config.from_pyfile("config.py", silent=True)
    for name in ("DATABASE_URL", "REPLICA_DATABASE_URL", "SECRET_KEY", "DEMO_PASSWORD", "NOTICE_FONT_FILE"):
        if os.environ.get(name):
            key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
            app.config[key] = os.environ[name]
    # The upload limits, for a county whose registry is larger than the defaults allow (README, Production).
    for name in UPLOAD_LIMITS:
        if os.environ.get(name):
            if not os.environ[name].isdigit():
                raise RuntimeError(f"{name} must be a whole number, not {os.environ[name]!r}")
            app.config[name] = int(os.environ[name])
    if os.environ.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = os.environ["SESSION_COOKIE_SECURE"].lower() in ("1", "true", "yes")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("REPLICA_DATABASE_URL"):
        app.config["REPLICA_DATABASE_URL"] = _normalise_db_url(app.config["REPLICA_DATABASE_URL"])

    db.init_app(app)
    init_replica(app)
    login_manager.init_app(app)
    csrf.init_app(app)

    from app import models  # noqa: F401  (register the tables)
    from app.audit.log import guard_append_only
    from app.cases.operations import CASE_SUBJECT
    from app.households.registered import keep_registered_counts
    from app.leads.workflow import LEAD_SUBJECT
    from app.screenings.operations import SCREENING_SUBJECT
    from app.web import register_web
    from app.workflow.runtime import register_subject

    guard_append_only()
    keep_registered_counts()
    # What workflow instances may be about: each kind's domain package gives the runtime its hooks.
    for subject in (CASE_SUBJECT, SCREENING_SUBJECT, LEAD_SUBJECT):
        register_subject(subject)
    # The national procedure's screenings hand their risk households to the leads package.
    from app.leads.operations import leads_from_screening
    from app.screenings.operations import ON_COMPLETED

    if leads_from_screening not in ON_COMPLETED:
        ON_COMPLETED.append(leads_from_screening)
    # The national procedure's case: a confirmed lead opens it; its forms record meetings, checks and measures.
    from app.eliminations.operations import register as register_eliminations
    from app.identification.operations import register as register_identification

    register_identification()
    register_eliminations()
    register_web(app)
    if commands:
        from app.cli import register_cli

        register_cli(app, migrations=ROOT / "migrations")
    _behind_proxies(app)
    if not app.config.get("TESTING"):
        # The app's long-lived objects (diagram specs, forms, routes) leave the collector's view: without this a
        # full collection every few dozen requests walks them all (80 ms at county scale). In gunicorn's master,
        # before the fork, it also keeps those pages shared between workers.
        gc.collect()
        gc.freeze()
    _configure_sqlite(app)
    _security_headers(app)
    return app


def _behind_proxies(app: Flask) -> None:
    """Behind N trusted reverse proxies (nginx in production), the client's address and scheme come from their
    X-Forwarded-* headers: the audit log records where an action came from, not the proxy's address."""
    hops = int(os.environ.get("TRUSTED_PROXIES") or app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _security_headers(app: Flask) -> None:
    """Headers on every answer (pages, API, downloads): no MIME sniffing, no framing, no foreign scripts."""
    from flask import Response

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        return response


def _normalise_db_url(url: str) -> str:
    # Accept the usual postgres:// and postgresql:// forms and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in instance/, made on first start."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def _configure_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
