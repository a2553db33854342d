from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.access import only_supervises
from app.accounts.operations import LoginFailed, LoginLocked, log_in
from app.audit import log as audit
from app.clock import utcnow
from app.extensions import db
from app.models import User

bp = Blueprint("auth", __name__)

# The session key holding the moment (naive UTC, ISO) of the user's last request.
LAST_SEEN = "last_seen"


def _safe_next(target: str | None, user: User) -> str:
    # Only local paths: never redirect a user to another site after log-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("scoreboard.scoreboard") if only_supervises(user) else url_for("tasks.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user = log_in(username, request.form.get("password", ""), request.remote_addr, via="web")
        except LoginLocked as exc:
            db.session.commit()  # keep the audit event
            flash(exc.message, "error")
            return (render_template("auth/login.html", username=username), 429,
                    {"Retry-After": str(exc.retry_after)})
        except LoginFailed as exc:
            db.session.commit()  # keep the failed attempt: it counts towards the lock-out
            flash(exc.message, "error")
            return render_template("auth/login.html", username=username), 401
        db.session.commit()
        session.clear()  # a fresh session for the new user
        login_user(user)
        session[LAST_SEEN] = utcnow().isoformat()
        return redirect(_safe_next(request.args.get("next"), user))
    return render_template("auth/login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    audit.record("logout", current_user, "退出登录", {"via": "web"})
    db.session.commit()
    logout_user()
    session.pop(LAST_SEEN, None)
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def _end_idle_sessions() -> Response | None:
    """Web sessions end after SESSION_IDLE_MINUTES without a request (the API uses tokens, not sessions)."""
    if request.endpoint == "static" or request.path.startswith("/api/") or "_user_id" not in session:
        return None
    now = utcnow()
    minutes = int(current_app.config["SESSION_IDLE_MINUTES"])
    idle = timedelta(minutes=minutes)
    try:
        last_seen = datetime.fromisoformat(session.get(LAST_SEEN, ""))
    except (TypeError, ValueError):
        last_seen = None
    if last_seen is not None and now - last_seen > idle:
        logout_user()
        session.pop(LAST_SEEN, None)
        flash(f"超过 {minutes} 分钟未操作，已自动退出，请重新登录", "warning")
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))
    session[LAST_SEEN] = now.isoformat()
    return None
