"""Domain errors. Each class carries its HTTP status and stable machine code;
the API turns any of them into RFC 9457 problem+json, and sync turns them into
per-change results. Titles are for people, in Chinese."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field (``field`` is a dotted path, e.g. ``data.answers.3.item``)."""

    code: str
    field: str | None
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "请求有误"
    # Whether the same input may succeed later unchanged (sync results carry it).
    retryable = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        code: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors or [])
        if code:
            self.code = code
        self.extra = extra or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation"
    title = "数据校验未通过"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "记录不存在"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "无权执行此操作"


class Unauthorized(DomainError):
    status = 401
    code = "auth.unauthorized"
    title = "未登录或登录已失效"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "记录已被修改或状态不允许此操作"

    def __init__(self, detail: str | None = None, *, current: dict | None = None, **kwargs):
        super().__init__(detail, **kwargs)
        self.current = current


class UnknownReference(DomainError):
    """A referenced record is not on this server (yet): a later retry may succeed."""

    status = 422
    code = "sync.unknown_reference"
    title = "引用的记录尚未到达服务器"
    retryable = True


class UnknownRecord(UnknownReference):
    """The record a change or request acts on is not here yet — or not the caller's to see: one answer
    for both, so existence is not revealed. Over REST that record is the resource itself: 404."""

    status = 404
    title = "记录不存在或尚未同步"


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    title = "请求内容过大"


class UnsupportedMedia(DomainError):
    status = 415
    code = "unsupported_media_type"
    title = "不支持的文件类型"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    title = "请求过于频繁，请稍后再试"
