"""Domain errors and HTTP errors become Chinese pages, or JSON under /api/."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, InvalidInput
from app.extensions import db

MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "您无权访问此页面",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "数据已被更新，请刷新后重试",
    413: "上传的内容过大",
    422: "提交的内容有误",
    429: "请求过于频繁，请稍后再试",
    500: "系统内部错误，请稍后重试或联系管理员",
}


def _answer(status: int, message: str, errors: dict[str, list[str]] | None = None,
            details: dict[str, object] | None = None) -> tuple[Response | str, int]:
    # The API, and scripts on pages that call the server with JSON (the modeler), get JSON answers.
    if request.path.startswith("/api/") or request.is_json:
        body: dict[str, object] = {"error": message, "status": status, **(details or {})}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[Response | str, int]:
        db.session.rollback()
        body, status = _answer(exc.status, exc.message, exc.errors if isinstance(exc, InvalidInput) else None,
                               getattr(exc, "details", None))
        retry_after = getattr(exc, "retry_after", None)  # a lock-out says when to come back (429)
        if retry_after is not None:
            response = make_response(body, status)
            response.headers["Retry-After"] = str(retry_after)
            return response, status
        return body, status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response | str, int]:
        return _answer(400, "页面已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response | str, int]:
        status = exc.code or 500
        return _answer(status, MESSAGES.get(status, exc.description or "请求失败"))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception) -> tuple[Response | str, int]:
        # Input the database cannot hold or compare: a number past the column (an id of 19 digits in a form
        # field: OverflowError in SQLite, "integer out of range" in PostgreSQL) or a NUL character, which
        # PostgreSQL text refuses (SQLSTATE class 22, "data exception"). The input is wrong, not the server.
        db.session.rollback()
        return _answer(422, "输入的数值超出范围或含有不允许的字符，请检查后重新提交")

    @app.errorhandler(500)
    def _server(exc: Exception) -> tuple[Response | str, int]:
        db.session.rollback()
        return _answer(500, MESSAGES[500])
