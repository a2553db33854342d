from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.accounts.operations import authenticate

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a user to another site after log-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash("用户名或密码错误", "error")
            return render_template("auth/login.html", username=request.form.get("username", "")), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
