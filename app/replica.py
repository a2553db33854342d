"""Pages that only read, served from a streaming replica of the database when REPLICA_DATABASE_URL names one.

A view marked `@reads_from_replica` (supervision, the heatmap, the scoreboard, the annual review, the rosters, the
audit log and their exports) sends its SELECTs to the replica; everything else stays on the primary: every flush and
every INSERT, UPDATE or DELETE (the audit event of an export, even from a marked view), every SELECT … FOR UPDATE,
textual SQL, the log-in and token checks that run before the view, and every request that is not marked. The routing
is `RoutingSession.get_bind` (SQLAlchemy's documented pattern for a leader and its followers), and it only routes
while a marked view runs.

Before the view the replica is asked how fresh it is, on the connection the page then reads over: caught up with
what it has received while streaming is "current"; otherwise the data is as of the last transaction it replayed.
The page says so in Chinese and every answer names its source in the X-Data-Source header. The page is read from
the primary instead (and says it is current) when the replica is not reachable — it is then left alone for
REPLICA_RETRY_SECONDS, so a dead replica costs one short connect timeout, not one per page — when it lags more than
REPLICA_MAX_LAG_SECONDS, when its lag cannot be told, or when it is not in recovery at all (a promoted former replica
no longer follows the primary). A replica that fails while the page is read (stopped, or a query cancelled by
replay) gets the page read again from the primary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, current_app, g
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import GenerativeSelect

P = ParamSpec("P")
R = TypeVar("R")

# While a marked view runs on a usable replica: its engine. Outside one, None, and everything goes to the primary.
_READS_GO_TO: ContextVar[Engine | None] = ContextVar("replica_reads", default=None)
# While a marked view runs on the replica: the errors the replica raised (True for a lost connection).
_REPLICA_ERRORS: ContextVar[list[bool] | None] = ContextVar("replica_errors", default=None)

FRESHNESS = text(
    "SELECT pg_is_in_recovery(),"
    " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
    " EXISTS (SELECT FROM pg_stat_wal_receiver),"
    " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
)


def _only_reads(clause: Any) -> bool:
    """A SELECT (or UNION …) that locks nothing: the only statements a replica is given."""
    return isinstance(clause, GenerativeSelect) and clause._for_update_arg is None


class RoutingSession(FlaskSession):
    """db.session: reads of a marked view to the replica, everything else where Flask-SQLAlchemy sends it."""

    def get_bind(self, mapper: Any | None = None, clause: Any | None = None,
                 bind: Engine | Connection | None = None, **kwargs: Any) -> Engine | Connection:
        replica = _READS_GO_TO.get()
        if replica is not None and bind is None and not self._flushing and _only_reads(clause):
            return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _duration(seconds: float) -> str:
    whole = max(1, round(seconds))
    if whole < 60:
        return f"{whole} 秒"
    if whole < 3600:
        return f"{whole // 60} 分钟"
    return f"{whole // 3600} 小时 {whole % 3600 // 60} 分钟"


@dataclass(frozen=True)
class Freshness:
    """Where a marked page's data came from: the replica, `lag` seconds behind the primary at most (0: caught
    up), or the primary, for `reason` (unreachable, failed, lagging, unknown, not-standby)."""

    source: str
    lag: float | None = None
    reason: str = ""

    @property
    def text(self) -> str:
        if self.source == "replica":
            if not self.lag:
                return "本页数据来自只读副本，已与主库同步。"
            return f"本页数据来自只读副本，截至 {_duration(self.lag)}前（此后办理的事项稍后显示）。"
        if self.reason == "unreachable":
            return "只读副本暂不可用，本页数据直接读自主库，为最新数据。"
        if self.reason == "failed":
            return "只读副本读取失败，本页数据改为直接读自主库，为最新数据。"
        if self.reason == "lagging" and self.lag is not None:
            return f"只读副本滞后 {_duration(self.lag)}，本页数据直接读自主库，为最新数据。"
        return "本页数据直接读自主库，为最新数据。"

    @property
    def header(self) -> str:
        if self.source == "replica":
            return f"replica; lag={self.lag or 0:.1f}"
        lag = f"; lag={self.lag:.1f}" if self.lag is not None else ""
        return f"primary; reason={self.reason}{lag}"


class Replica:
    """The replica of one app: its engine, and whether it was found unreachable lately (per process)."""

    def __init__(self, engine: Engine, max_lag: float, retry_seconds: float) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self.retry_seconds = retry_seconds
        self.down_until = 0.0  # time.monotonic() before which the replica is not asked again
        self.down_reason = "unreachable"
        self.asked = 0  # how many times it was asked how fresh it is (the tests count them)
        event.listen(engine, "handle_error", _note_replica_error)

    def mark_down(self, error: object, reason: str = "unreachable") -> None:
        if time.monotonic() >= self.down_until:
            current_app.logger.warning("read replica unusable for %ss, reading from the primary: %s",
                                       self.retry_seconds, error)
        self.down_until = time.monotonic() + self.retry_seconds
        self.down_reason = reason

    def freshness(self) -> Freshness:
        """Asked over db.session's own replica connection, the one the page's reads then take."""
        from app.extensions import db

        if time.monotonic() < self.down_until:
            return Freshness("primary", reason=self.down_reason)
        self.asked += 1
        try:
            standby, replayed_all, receiving, age = db.session.execute(
                FRESHNESS, bind_arguments={"bind": self.engine}).one()
        except DBAPIError as exc:
            db.session.rollback()
            self.mark_down(exc)
            return Freshness("primary", reason="unreachable")
        if not standby:
            self.mark_down("REPLICA_DATABASE_URL names a server that is not in recovery", "not-standby")
            return Freshness("primary", reason="not-standby")
        if replayed_all and receiving:
            return Freshness("replica", lag=0.0)
        if age is None:  # nothing replayed since it started, and not caught up: how old its data is is unknown
            return Freshness("primary", reason="unknown")
        lag = max(float(age), 0.0)
        if lag > self.max_lag:
            return Freshness("primary", lag=lag, reason="lagging")
        return Freshness("replica", lag=lag)

    def serve(self, view: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        from app.extensions import db

        g.data_freshness = freshness = self.freshness()
        if freshness.source != "replica":
            return view(*args, **kwargs)
        with reads_go_to(self.engine) as errors:
            try:
                return view(*args, **kwargs)
            except DBAPIError as exc:
                if not errors:
                    raise
                failure: DBAPIError = exc
        # The replica failed under the page (stopped, or a query cancelled by replay): the page again, from the
        # primary. Nothing was written: a marked view writes (its audit event) after its reads, and the session's
        # transaction is rolled back first.
        db.session.rollback()
        if any(errors):
            self.mark_down(failure)
        g.data_freshness = Freshness("primary", reason="unreachable" if any(errors) else "failed")
        return view(*args, **kwargs)


@contextmanager
def reads_go_to(engine: Engine) -> Iterator[list[bool]]:
    """While it lasts, db.session sends its plain SELECTs to `engine`; yields the errors that engine raises
    meanwhile (True for a lost connection)."""
    errors: list[bool] = []
    routed, noted = _READS_GO_TO.set(engine), _REPLICA_ERRORS.set(errors)
    try:
        yield errors
    finally:
        _READS_GO_TO.reset(routed)
        _REPLICA_ERRORS.reset(noted)


def _note_replica_error(context: ExceptionContext) -> None:
    errors = _REPLICA_ERRORS.get()
    if errors is not None:
        errors.append(context.is_disconnect or context.connection is None)


_MARKED: set[Callable[..., Any]] = set()


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that only reads (an audit event of an export aside, which goes to the primary) and tolerates a
    few seconds' lag. Put it below @login_required or @token_required: who the user is is read from the primary."""

    @wraps(view)
    def serve(*args: P.args, **kwargs: P.kwargs) -> R:
        replica: Replica | None = current_app.extensions.get("replica")
        if replica is None or g.get("data_freshness") is not None:  # none, or decided by the marked view calling
            return view(*args, **kwargs)
        return replica.serve(view, *args, **kwargs)

    _MARKED.add(serve)
    return serve


def is_marked(view: Callable[..., Any]) -> bool:
    """Whether a view (through the decorators above it) reads from the replica."""
    found: Any = view
    while found is not None:
        if found in _MARKED:
            return True
        found = getattr(found, "__wrapped__", None)
    return False


def init_replica(app: Flask) -> None:
    """The replica's engine, when REPLICA_DATABASE_URL is set: the primary's engine options, a short connect
    timeout, and read-only transactions by default (a standby refuses writes anyway)."""
    url = app.config.get("REPLICA_DATABASE_URL")
    if not url:
        return
    if not url.startswith("postgresql"):
        raise ValueError("REPLICA_DATABASE_URL must name a PostgreSQL streaming replica (postgresql://…)")
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.pop("connect_args", None) or {})
    connect_args.setdefault("connect_timeout", int(app.config["REPLICA_CONNECT_TIMEOUT"]))
    connect_args["options"] = (connect_args.get("options", "") + " -c default_transaction_read_only=on").strip()
    engine = create_engine(url, connect_args=connect_args, **options)
    app.extensions["replica"] = Replica(engine, float(app.config["REPLICA_MAX_LAG_SECONDS"]),
                                        float(app.config["REPLICA_RETRY_SECONDS"]))

    @app.before_request
    def _forget_freshness() -> None:  # g outlives a request when a test holds an app context around several
        g.pop("data_freshness", None)

    @app.after_request
    def _name_the_source(response: Response) -> Response:
        freshness: Freshness | None = g.get("data_freshness")
        if freshness is not None:
            response.headers["X-Data-Source"] = freshness.header
        return response

    @app.context_processor
    def _freshness() -> dict[str, Any]:
        return {"data_freshness": g.get("data_freshness")}
