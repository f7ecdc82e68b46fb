"""Every error as RFC 9457 problem+json with a stable ``code`` and Chinese text.

Domain errors carry their own status and code; webargs/marshmallow validation keeps
its structure per field; HTTP errors from routing get codes of their own; the
catch-all 500 re-raises under testing so that bugs fail tests."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from core.errors import Conflict, DomainError, FieldError
from core.schemas import FieldErrorOut
from core.validation import flatten_messages
from db.session import is_unique_violation

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("auth.unauthorized", "未登录或登录已失效"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "记录不存在"),
    405: ("method_not_allowed", "不支持此请求方法"),
    406: ("not_acceptable", "无法提供所要求的格式"),
    409: ("conflict", "记录已被修改或状态不允许此操作"),
    412: ("precondition_failed", "记录已被修改，请刷新后重试"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation", "数据校验未通过"),
    428: ("precondition_required", "缺少版本信息"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal", "服务器内部错误"),
    503: ("service.unavailable", "服务暂时不可用，请稍后重试"),
}


class ProblemOut(Schema):
    """Every error answer (RFC 9457 problem+json); some carry more members, e.g. ``current`` on a conflict."""

    class Meta:
        unknown = INCLUDE

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String(metadata={"description": "稳定的机器可读代码，如 validation、sync.batch_too_large"})
    errors = fields.List(fields.Nested(FieldErrorOut))


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict | None = None,
    **extra,
):
    base = current_app.extensions["anxun"].settings.problem_base_url
    body = {
        "type": base + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
        "errors": [e.as_dict() for e in (errors or [])],
    }
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        # RFC 9110 §11.6.1: a 401 names the scheme that would do.
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="anxun"')
    return response


def domain_problem(err: DomainError):
    extra = {}
    headers = {}
    if isinstance(err, Conflict) and err.current is not None:
        extra["current"] = err.current
    retry_after = err.extra.get("retry_after") if err.extra else None
    if retry_after:
        headers["Retry-After"] = str(int(retry_after))
    for key, value in (err.extra or {}).items():
        if key != "retry_after":
            extra.setdefault(key, value)
    return problem(err.status, err.code, err.title, err.detail, err.errors, headers, **extra)


def http_problem(err: HTTPException):
    if err.response is not None:  # an answer made whole where it was raised (a 304)
        return err.response
    status = err.code or 500
    code, title = HTTP_CODES.get(status, (f"http_{status}", err.name))
    errors: list[FieldError] = []
    data = getattr(err, "data", None) or {}
    messages = data.get("messages")
    if messages:
        # webargs nests by location ("json", "query"); the field path is what people need.
        for location, fields in messages.items():
            errors.extend(flatten_messages(fields))
    headers = dict(data.get("headers") or {})
    # What werkzeug's exception carries (Allow on a 405), less the type of its own HTML page.
    for name, value in err.get_headers():
        if name.lower() != "content-type":
            headers.setdefault(name, value)
    detail = title if status != 404 else "请求的资源不存在"
    return problem(status, code, title, detail, errors, headers)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(HTTPException, http_problem)

    @app.errorhandler(OperationalError)
    def database_unavailable(err):
        log.warning("database unavailable: %s", err)
        return problem(
            503, "service.unavailable", "服务暂时不可用，请稍后重试", "数据库暂时无法连接", headers={"Retry-After": "5"}
        )

    @app.errorhandler(IntegrityError)
    def concurrent_write(err):
        # Domain checks look before they write; a unique violation past them means another request
        # wrote the same record in between. Trying again meets that record and answers properly.
        if not is_unique_violation(err):
            return internal_error(err)
        log.info("concurrent write: %s", err.orig)
        return problem(
            409, "conflict.concurrent_write", "另一请求同时写入了同一记录，请重试", headers={"Retry-After": "1"}
        )

    @app.errorhandler(Exception)
    def internal_error(err):
        if current_app.testing:
            raise err
        log.exception("unhandled error")
        return problem(500, "internal", "服务器内部错误")
