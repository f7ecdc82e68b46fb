"""Passwords, login with throttling, bearer tokens bound to a device, logout and device revocation.

Functions take a session and a clock, flush but never commit."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from accounts.models import AccessToken, Device, LoginAttempt, User
from accounts.passwords import hash_password, verify_password, weak_password
from accounts.principal import Principal, principal_for
from audit.service import record as audit
from core.clock import Clock
from core.errors import FieldError, Forbidden, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from geo.models import Region


class InvalidCredentials(Unauthorized):
    code = "auth.invalid_credentials"
    title = "用户名或密码错误"


class DeviceRevoked(Unauthorized):
    code = "auth.device_revoked"
    title = "此设备已被停用，请联系内勤人员"


class TokenInvalid(Unauthorized):
    code = "auth.invalid_token"
    title = "登录凭证无效或已过期，请重新登录"


class LoginThrottled(TooManyRequests):
    code = "auth.throttled"
    title = "登录失败次数过多，请稍后再试"


class PasswordChangeRequired(Forbidden):
    """Signed in with a temporary password: nothing but choosing a new one (and logging out) is allowed."""

    code = "auth.password_change_required"
    title = "请先修改临时密码"


class WrongPassword(ValidationFailed):
    code = "auth.wrong_password"
    title = "当前密码不正确"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class DeviceInfo:
    id: str
    name: str | None = None
    platform: str | None = None
    app_version: str | None = None


@dataclass
class LoginResult:
    token: str
    expires_at: datetime
    user: User
    principal: Principal


def reserve_login_attempt(session: Session, clock: Clock, settings, *, username: str, address: str) -> int:
    """Count a login attempt as failed before its password is checked, or refuse it (LoginThrottled).

    Failures count within ``login_window_seconds``: per username since that user's last successful
    login, per address all of them. Attempts for one username or from one address take turns here (a
    transaction-scoped advisory lock around count and insert), so however many guesses arrive at once,
    no more than the limit get a password check. Returns the attempt's id for ``login``.

    The caller commits at once, in a unit of work of its own: the attempt must count whatever
    becomes of the request, and the locks must not be held while a password is hashed."""
    username, address = username[:64], address[:64]
    # One lock after the other, always in this order: no two attempts wait on each other crosswise.
    session.execute(text("SELECT pg_advisory_xact_lock(1, hashtext(:username))"), {"username": username})
    session.execute(text("SELECT pg_advisory_xact_lock(2, hashtext(:address))"), {"address": address})
    since = clock.now() - timedelta(seconds=settings.login_window_seconds)
    recent = LoginAttempt.at >= since
    last_success = (
        select(func.coalesce(func.max(LoginAttempt.id), 0))
        .where(LoginAttempt.username == username, recent, LoginAttempt.succeeded)
        .scalar_subquery()
    )
    user_failures, address_failures = session.execute(
        select(
            select(func.count())
            .where(
                LoginAttempt.username == username,
                recent,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.id > last_success,
            )
            .scalar_subquery(),
            select(func.count())
            .where(LoginAttempt.address == address, recent, LoginAttempt.succeeded.is_(False))
            .scalar_subquery(),
        )
    ).one()
    if (
        user_failures >= settings.login_max_failures_per_user
        or address_failures >= settings.login_max_failures_per_address
    ):
        raise LoginThrottled(extra={"retry_after": settings.login_window_seconds})
    return session.scalar(
        insert(LoginAttempt)
        .values(username=username, address=address, at=clock.now(), succeeded=False)
        .returning(LoginAttempt.id)
    )


def login(
    session: Session,
    clock: Clock,
    settings,
    *,
    attempt: int,
    username: str,
    password: str,
    device: DeviceInfo,
    address: str,
) -> LoginResult:
    """Check the password of a reserved attempt (``reserve_login_attempt``); bind a new token to the device.

    Raises InvalidCredentials or DeviceRevoked. A right password marks the attempt succeeded — also
    when the device then turns out revoked, so the caller commits that answer too (the login route
    returns it rather than raising) — which clears the user's earlier failures."""
    now = clock.now()
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if not verify_password(user.password_hash if user else None, password):
        raise InvalidCredentials()
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(succeeded=True))

    existing = session.get(Device, device.id)
    if existing is not None and existing.revoked_at is not None:
        raise DeviceRevoked()
    if existing is None:
        existing = Device(id=device.id)
        session.add(existing)
    existing.name, existing.platform, existing.app_version = device.name, device.platform, device.app_version
    existing.last_user_id, existing.last_seen_at = user.id, now
    session.flush()  # the token row refers to the device row

    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.token_ttl_hours)
    session.add(
        AccessToken(
            token_hash=_token_hash(token), user_id=user.id, device_id=device.id, issued_at=now, expires_at=expires_at
        )
    )
    principal = _principal(session, user, device.id)
    audit(session, clock, principal, "login", "user", user.id, {"device": device.id, "address": address})
    session.flush()
    return LoginResult(token=token, expires_at=expires_at, user=user, principal=principal)


def _principal(session: Session, user: User, device_id: str | None) -> Principal:
    code, path = session.execute(select(Region.code, Region.path).where(Region.id == user.region_id)).one()
    return principal_for(user, code, path, device_id)


# Built once: every request runs it, and a statement built anew costs more Python than its round trip.
_TOKEN_LOOKUP = (
    select(
        AccessToken.expires_at,
        AccessToken.revoked_at,
        Device.id.label("device_id"),
        Device.revoked_at.label("device_revoked_at"),
        User.id,
        User.username,
        User.name,
        User.roles,
        User.region_id,
        User.enterprise_id,
        User.enforcement_cert_no,
        User.must_change_password,
        User.active,
        Region.code.label("region_code"),
        Region.path.label("region_path"),
    )
    .join(User, User.id == AccessToken.user_id)
    .join(Device, Device.id == AccessToken.device_id)
    .join(Region, Region.id == User.region_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


def authenticate(session: Session, clock: Clock, token: str) -> Principal:
    """The principal a bearer token stands for, or Unauthorized with a precise code."""
    # On the session's connection: plain columns need none of the ORM's execution, which costs more than the query.
    row = session.connection().execute(_TOKEN_LOOKUP, {"token_hash": _token_hash(token)}).one_or_none()
    if row is None:
        raise TokenInvalid()
    if row.device_revoked_at is not None:
        raise DeviceRevoked()
    if row.revoked_at is not None or row.expires_at <= clock.now() or not row.active:
        raise TokenInvalid()
    return principal_for(row, row.region_code, row.region_path, row.device_id)


def logout(session: Session, clock: Clock, principal: Principal, token: str) -> None:
    session.execute(
        update(AccessToken).where(AccessToken.token_hash == _token_hash(token)).values(revoked_at=clock.now())
    )
    audit(session, clock, principal, "logout", "device", principal.device_id)


def revoke_device(session: Session, clock: Clock, principal: Principal, device_id: str) -> Device:
    """A desk officer stops a lost phone: every token on it stops working at once.

    Officers may revoke devices last used by users within their region subtree."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("设备不存在")
    if not principal.is_admin:
        in_scope = session.scalar(
            select(func.count())
            .select_from(User)
            .join(Region, Region.id == User.region_id)
            .where(User.id == device.last_user_id, principal.region_filter(Region.path))
        )
        if not in_scope:
            raise NotFound("设备不存在")
    return stop_device(session, clock, principal, device)


def stop_device(
    session: Session, clock: Clock, principal: Principal, device: Device, summary: dict | None = None
) -> Device:
    """Revoke a device the caller may stop: every token on it dies (the next request is 401
    ``auth.device_revoked``) and no one can log in on it again."""
    if device.revoked_at is None:
        now = clock.now()
        device.revoked_at, device.revoked_by = now, principal.user_id
        session.execute(
            update(AccessToken)
            .where(AccessToken.device_id == device.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        audit(session, clock, principal, "revoke", "device", device.id, summary)
    session.flush()
    return device


def revoke_tokens(session: Session, clock: Clock, user_id: uuid.UUID, *, keep: str | None = None) -> int:
    """End every live token of a user (but the one ``keep`` names): they answer 401 from now on."""
    stmt = (
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if keep is not None:
        stmt = stmt.where(AccessToken.token_hash != _token_hash(keep))
    return session.execute(stmt).rowcount


def change_password(
    session: Session,
    clock: Clock,
    principal: Principal,
    *,
    attempt: int,
    token: str,
    current_password: str,
    new_password: str,
) -> None:
    """The caller chooses a new password, proving the current one (a temporary one included).

    ``attempt`` is a reserved login attempt (``reserve_login_attempt``, committed by the caller): a
    stolen token cannot guess the password faster than a login could. Every other token of the user
    ends; the one used here goes on, now with full rights."""
    user = session.scalar(select(User).where(User.id == principal.user_id).with_for_update())
    problem = weak_password(new_password, username=user.username, phone=user.phone)
    if problem is None and new_password == current_password:
        problem = FieldError("auth.weak_password", "new_password", "新密码不能与当前密码相同")
    if problem is not None:  # judged before the current password, which a refusal here does not reveal
        raise ValidationFailed("新密码不符合要求", code=problem.code, errors=[problem])
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(errors=[FieldError("auth.wrong_password", "current_password", "当前密码不正确")])
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(succeeded=True))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.updated_at = clock.now()
    ended = revoke_tokens(session, clock, user.id, keep=token)
    audit(session, clock, principal, "change_password", "user", user.id, {"tokens_revoked": ended})
    session.flush()


def create_user(
    session: Session,
    *,
    username: str,
    name: str,
    password: str,
    roles: list[str],
    region_id: uuid.UUID,
    enforcement_cert_no: str | None = None,
    enforcement_cert_valid_until: date | None = None,
    enterprise_id: uuid.UUID | None = None,
    phone: str | None = None,
) -> User:
    """An account with a password of its own (the demo's); people administration uses ``personnel.admin``."""
    user = User(
        username=username,
        name=name,
        password_hash=hash_password(password),
        roles=list(roles),
        region_id=region_id,
        enforcement_cert_no=enforcement_cert_no,
        enforcement_cert_valid_until=enforcement_cert_valid_until,
        enterprise_id=enterprise_id,
        phone=phone,
    )
    session.add(user)
    session.flush()
    return user
