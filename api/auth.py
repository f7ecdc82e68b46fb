"""Bearer-token authentication for views: ``@authenticated`` or ``@authenticated("desk_officer", …)``."""

from __future__ import annotations

import functools

from flask import g, request

from accounts.service import PasswordChangeRequired, TokenInvalid, authenticate
from api.context import clock, db
from core.errors import Forbidden


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticated(*roles: str, while_password_temporary: bool = False):
    """Require a valid token; with roles, require at least one of them (403 otherwise).

    A token of someone still holding a temporary password is refused (403
    ``auth.password_change_required``) except by the views marked ``while_password_temporary``:
    changing the password and logging out."""
    if len(roles) == 1 and callable(roles[0]):
        return authenticated()(roles[0])

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            token = bearer_token()
            if token is None:
                raise TokenInvalid("缺少 Authorization: Bearer 登录凭证")
            g.principal = authenticate(db(), clock(), token)
            g.token = token
            if g.principal.must_change_password and not while_password_temporary:
                raise PasswordChangeRequired()
            if roles and not g.principal.has(*roles):
                raise Forbidden("当前角色无权执行此操作")
            return view(*args, **kwargs)

        return wrapper

    return decorator
