"""People administration (人员管理): admins and desk officers (内勤) create, edit, deactivate and
reactivate accounts — role, region or grids, enterprise, phone, 执法证 — reset a password to a temporary
one, and list and stop a person's devices. The roster import (personnel/roster.py) makes people through
``insert_people`` here.

Who may act on whom is one SQL condition, ``manageable``: an admin on everyone; a desk officer on the
people of their region subtree who are not admins — anyone else is 404, as any record outside a scope.
A desk officer grants no admin role (403). Every change is audited and bumps the account's ``version``.

Usernames: given, or else the phone number (the roster import always uses the phone). A username
never changes, also when the phone does. New accounts get a temporary password, answered once."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, false, func, insert, literal_column, not_, or_, select, true, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from accounts.models import ROLES, AccessToken, Device, User
from accounts.passwords import temporary_password
from accounts.principal import Principal
from accounts.service import revoke_tokens, stop_device
from audit.service import entry as audit_entry
from audit.service import record as audit
from audit.service import record_many
from core.clock import Clock
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.serialize import jsonable
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from geo.models import Grid, GridAssignment, GridVillage, Region
from core.periods import local_date

DESK_MAY_GRANT = frozenset(ROLES) - {"admin"}
# 中国大陆手机号: 11 digits from 13x to 19x.
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）\u3000]")


class UsernameTaken(Conflict):
    code = "users.username_taken"
    title = "用户名已被使用"


class PhoneTaken(Conflict):
    code = "users.phone_taken"
    title = "手机号已被其他账号使用"


class RoleNotAllowed(Forbidden):
    code = "users.role_not_allowed"
    title = "内勤人员不能授予管理员角色"


class AccountInactive(Conflict):
    code = "users.deactivated"
    title = "账号已停用"


class NotOneself(Conflict):
    code = "users.self"
    title = "不能停用自己的账号"


def normalize_phone(value: str | None) -> str | None:
    """A mainland mobile number as 11 digits (spaces, dashes and a +86 prefix dropped), or None if it is none."""
    if value is None:
        return None
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if PHONE.match(digits) else None


# --- scope ------------------------------------------------------------------------------------


def require_manager(principal: Principal) -> None:
    if not principal.has("admin", "desk_officer"):
        raise Forbidden("只有管理员或内勤人员可以管理人员")


def manageable(principal: Principal, user=User, region=Region) -> ColumnElement[bool]:
    """Accounts the caller administers: admin all; a desk officer those of their region subtree but admins."""
    if principal.is_admin:
        return true()
    if principal.has("desk_officer"):
        return and_(region.path.descendant_of(principal.region_path), not_(user.roles.any("admin")))
    return false()


def _check_grantable(principal: Principal, roles) -> None:
    if not principal.is_admin and not set(roles) <= DESK_MAY_GRANT:
        raise RoleNotAllowed()


# --- reading ----------------------------------------------------------------------------------


def _grids_of(user=User):
    """The grids a person works now, as ``[{id, name}]``."""
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(func.json_build_object("id", Grid.id, "name", Grid.name), Grid.name)),
                literal_column("'[]'::json"),
            )
        )
        .select_from(GridAssignment)
        .join(Grid, Grid.id == GridAssignment.grid_id)
        .where(GridAssignment.user_id == user.id, GridAssignment.ended_at.is_(None))
        .scalar_subquery()
    )


def _select(principal: Principal):
    return (
        select(
            User.id,
            User.username,
            User.name,
            User.roles,
            User.phone,
            User.enterprise_id,
            User.enforcement_cert_no,
            User.enforcement_cert_valid_until,
            User.active,
            User.deactivated_at,
            User.must_change_password,
            User.version,
            User.created_at,
            User.updated_at,
            Region.code.label("region_code"),
            Region.name.label("region_name"),
            Region.level.label("region_level"),
            _grids_of().label("grids"),
        )
        .join(Region, Region.id == User.region_id)
        .where(manageable(principal))
    )


def _as_dict(row, today: date) -> dict:
    cert = None
    if row.enforcement_cert_no:
        until = row.enforcement_cert_valid_until
        cert = {"number": row.enforcement_cert_no, "valid_until": until, "valid": until is None or until >= today}
    return {
        "id": row.id,
        "username": row.username,
        "name": row.name,
        "roles": sorted(row.roles),
        "region": {"code": row.region_code, "name": row.region_name, "level": row.region_level},
        "phone": row.phone,
        "enterprise_id": row.enterprise_id,
        "enforcement_cert": cert,
        "grids": row.grids,
        "active": row.active,
        "deactivated_at": row.deactivated_at,
        "must_change_password": row.must_change_password,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def list_users(
    session: Session,
    clock: Clock,
    principal: Principal,
    *,
    role=None,
    region=None,
    q=None,
    active=None,
    page=1,
    per_page=50,
) -> Page:
    require_manager(principal)
    stmt = _select(principal)
    if role:
        stmt = stmt.where(User.roles.any(role))
    if region:
        stmt = stmt.where(Region.path.descendant_of(select(Region.path).where(Region.code == region).scalar_subquery()))
    if q:
        stmt = stmt.where(
            or_(
                User.name.contains(q, autoescape=True),
                User.username.contains(q, autoescape=True),
                User.phone.contains(q, autoescape=True),
            )
        )
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    result = paginate(
        session, stmt.order_by(Region.path, User.name, User.id), page=page, per_page=per_page, scalars=False
    )
    today = local_date(clock.now())
    result.items = [_as_dict(row, today) for row in result.items]
    return result


def get_user(session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID) -> dict:
    require_manager(principal)
    row = session.execute(_select(principal).where(User.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("人员不存在")
    return _as_dict(row, local_date(clock.now()))


def _locked(session: Session, principal: Principal, user_id: uuid.UUID) -> User:
    require_manager(principal)
    user = session.scalar(
        select(User)
        .join(Region, Region.id == User.region_id)
        .where(User.id == user_id, manageable(principal))
        .with_for_update(of=User)
    )
    if user is None:
        raise NotFound("人员不存在")
    return user


def _check_version(session, clock, principal, user: User, version: int | None) -> None:
    if version is not None and version != user.version:
        raise Conflict(
            "人员信息已被他人修改，请以最新版本为准", current=jsonable(get_user(session, clock, principal, user.id))
        )


# --- placement: region, enterprise, grids -------------------------------------------------------


@dataclass
class Placement:
    region_id: uuid.UUID
    enterprise_id: uuid.UUID | None
    grid_ids: list[uuid.UUID] | None  # None: leave the assignments as they are


def _writable_grid(principal: Principal):
    town = aliased(Region)
    return select(town.id).where(town.id == Grid.town_id, principal.region_filter(town.path)).exists()


def _placement(
    session: Session,
    principal: Principal,
    *,
    roles,
    region_code: str | None,
    enterprise_id,
    grid_ids: list[uuid.UUID] | None,
    default_region_id: uuid.UUID | None,
) -> Placement:
    """Check where a person belongs and derive what was left out: an enterprise officer's region is the
    enterprise's village, a grid worker's the village of their first grid (its town if it spans several)."""
    errors: list[FieldError] = []
    region_id = None
    if region_code is not None:
        region_id = session.scalar(
            select(Region.id).where(Region.code == region_code, principal.region_filter(Region.path))
        )
        if region_id is None:
            errors.append(FieldError("users.unknown_region", "region", f"区划 {region_code} 不存在或不在您的辖区内"))
    derived = None
    if "enterprise_officer" in roles:
        if enterprise_id is None:
            errors.append(FieldError("users.enterprise_required", "enterprise_id", "企业安全员须关联企业"))
        else:
            found = session.execute(
                select(Enterprise.id, Enterprise.region_id)
                .join(Region, Region.id == Enterprise.region_id, isouter=True)
                .where(Enterprise.id == enterprise_id, principal.enterprise_filter(Enterprise))
            ).one_or_none()
            if found is None:
                errors.append(FieldError("users.unknown_enterprise", "enterprise_id", "企业不存在或不在您的辖区内"))
            else:
                derived = found.region_id
    elif enterprise_id is not None:
        errors.append(FieldError("users.enterprise_not_allowed", "enterprise_id", "只有企业安全员关联企业"))
    if grid_ids:
        if "grid_worker" not in roles:
            errors.append(FieldError("users.grids_not_allowed", "grid_ids", "只有网格员分配网格"))
        rows = {
            r.id: r
            for r in session.execute(
                select(
                    Grid.id,
                    Grid.town_id,
                    Grid.retired_at,
                    select(func.array_agg(GridVillage.village_id))
                    .where(GridVillage.grid_id == Grid.id)
                    .scalar_subquery()
                    .label("villages"),
                ).where(Grid.id.in_(grid_ids), _writable_grid(principal))
            )
        }
        for n, grid_id in enumerate(grid_ids):
            row = rows.get(grid_id)
            if row is None:
                errors.append(FieldError("users.unknown_grid", f"grid_ids.{n}", "网格不存在或不在您的辖区内"))
            elif row.retired_at is not None:
                errors.append(FieldError("users.grid_retired", f"grid_ids.{n}", "网格已撤销"))
        first = rows.get(grid_ids[0])
        if derived is None and first is not None:
            villages = first.villages or []
            derived = villages[0] if len(villages) == 1 else first.town_id
    if region_code is None and derived is None and default_region_id is None:
        errors.append(FieldError("users.region_required", "region", "请填写所属区划（12 位区划代码）"))
    if errors:
        raise ValidationFailed("人员信息有误", code=errors[0].code, errors=errors)
    return Placement(
        region_id=region_id or derived or default_region_id, enterprise_id=enterprise_id, grid_ids=grid_ids
    )


def _check_cert(roles, cert_no: str | None) -> None:
    if "inspector" in roles and not cert_no:
        raise ValidationFailed(
            "执法人员须登记执法证号",
            code="users.cert_required",
            errors=[FieldError("users.cert_required", "enforcement_cert_no", "执法人员须登记执法证号")],
        )


def _check_phone(raw: str | None, field: str = "phone") -> str | None:
    if raw is None or raw == "":
        return None
    phone = normalize_phone(raw)
    if phone is None:
        raise ValidationFailed(
            "手机号格式不正确",
            code="users.phone_invalid",
            errors=[FieldError("users.phone_invalid", field, "手机号应为 11 位中国大陆手机号")],
        )
    return phone


def _check_unique(
    session: Session, *, username: str | None, phone: str | None, other_than: uuid.UUID | None = None
) -> None:
    others = User.id != other_than if other_than else true()
    if username is not None and session.scalar(select(User.id).where(User.username == username, others)):
        raise UsernameTaken(f"用户名 {username} 已被使用")
    if phone is not None:
        holder = session.scalar(select(User.username).where(User.phone == phone, others))
        if holder is not None:
            raise PhoneTaken(f"手机号 {phone} 已被账号 {holder} 使用")


def _set_grids(
    session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID, grid_ids: list[uuid.UUID]
) -> dict:
    """Make ``grid_ids`` the person's grids among those the caller may write (others stay as they are);
    each grid whose workers changed gets a new version, as phones hold the worker list with the grid."""
    now = clock.now()
    ended = list(
        session.scalars(
            update(GridAssignment)
            .where(
                GridAssignment.user_id == user_id,
                GridAssignment.ended_at.is_(None),
                GridAssignment.grid_id.not_in(grid_ids),
                GridAssignment.grid_id.in_(select(Grid.id).where(_writable_grid(principal))),
            )
            .values(ended_at=now, ended_by=principal.user_id)
            .returning(GridAssignment.grid_id)
        )
    )
    held = set(
        session.scalars(
            select(GridAssignment.grid_id).where(GridAssignment.user_id == user_id, GridAssignment.ended_at.is_(None))
        )
    )
    added = [grid_id for grid_id in dict.fromkeys(grid_ids) if grid_id not in held]
    if added:
        session.execute(
            insert(GridAssignment),
            [
                {
                    "id": uuid.uuid4(),
                    "grid_id": g,
                    "user_id": user_id,
                    "assigned_at": now,
                    "assigned_by": principal.user_id,
                }
                for g in added
            ],
        )
    _bump_grids(session, clock, ended + added)
    return {"grids_added": [str(g) for g in added], "grids_removed": [str(g) for g in ended]}


def _bump_grids(session: Session, clock: Clock, grid_ids) -> None:
    if grid_ids:
        session.execute(
            update(Grid).where(Grid.id.in_(set(grid_ids))).values(version=Grid.version + 1, updated_at=clock.now())
        )


# --- writing ----------------------------------------------------------------------------------


def create_user(session: Session, clock: Clock, principal: Principal, data: dict) -> dict:
    """A new account with a temporary password (answered once, in ``temporary_password``)."""
    require_manager(principal)
    roles = sorted(set(data["roles"]))
    _check_grantable(principal, roles)
    phone = _check_phone(data.get("phone"))
    username = data.get("username") or phone
    if username is None:
        raise ValidationFailed(
            "请填写用户名或手机号",
            code="users.username_required",
            errors=[FieldError("users.username_required", "username", "没有手机号时须填写用户名")],
        )
    _check_cert(roles, data.get("enforcement_cert_no"))
    placement = _placement(
        session,
        principal,
        roles=roles,
        region_code=data.get("region"),
        enterprise_id=data.get("enterprise_id"),
        grid_ids=data.get("grid_ids") or None,
        default_region_id=None,
    )
    _check_unique(session, username=username, phone=phone)
    [created] = insert_people(
        session,
        clock,
        principal,
        [
            {
                "username": username,
                "name": data["name"],
                "roles": roles,
                "region_id": placement.region_id,
                "phone": phone,
                "enterprise_id": placement.enterprise_id,
                "enforcement_cert_no": data.get("enforcement_cert_no"),
                "enforcement_cert_valid_until": data.get("enforcement_cert_valid_until"),
                "grid_ids": placement.grid_ids or [],
            }
        ],
        action="create",
    )
    return {**get_user(session, clock, principal, created["id"]), "temporary_password": created["temporary_password"]}


def insert_people(
    session: Session, clock: Clock, principal: Principal, people: list[dict], *, action: str, progress=None
) -> list[dict]:
    """Insert checked people in a few statements, whatever their number: accounts with temporary
    passwords (to change at first login), their grid assignments, one audit entry each. Returns
    ``[{id, username, temporary_password}]`` in the order given. ``progress(n)`` hears of each hashed password."""
    now = clock.now()
    rows, handed, assignments, audits = [], [], [], []
    via = principal.extra.get("via")
    for person in people:
        user_id = uuid.uuid4()
        password, password_hash = temporary_password()
        if progress is not None:
            progress(1)
        rows.append(
            {
                "id": user_id,
                "username": person["username"],
                "name": person["name"],
                "password_hash": password_hash,
                "roles": person["roles"],
                "region_id": person["region_id"],
                "phone": person.get("phone"),
                "enterprise_id": person.get("enterprise_id"),
                "enforcement_cert_no": person.get("enforcement_cert_no"),
                "enforcement_cert_valid_until": person.get("enforcement_cert_valid_until"),
                "must_change_password": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        handed.append({"id": user_id, "username": person["username"], "temporary_password": password})
        assignments += [
            {
                "id": uuid.uuid4(),
                "grid_id": grid_id,
                "user_id": user_id,
                "assigned_at": now,
                "assigned_by": principal.user_id,
            }
            for grid_id in person.get("grid_ids") or []
        ]
        summary = {
            "username": person["username"],
            "name": person["name"],
            "roles": person["roles"],
            "phone": person.get("phone"),
            "grids": [str(g) for g in person.get("grid_ids") or []],
        }
        if person.get("row"):
            summary["row"] = person["row"]
        if via:
            summary["via"] = via
        audits.append(audit_entry(clock, principal, action, "user", user_id, summary))
    if rows:
        session.execute(insert(User), rows)
        if assignments:
            session.execute(insert(GridAssignment), assignments)
            _bump_grids(session, clock, [a["grid_id"] for a in assignments])
        record_many(session, audits)
    return handed


EDITABLE = (
    "name",
    "phone",
    "roles",
    "region",
    "enterprise_id",
    "enforcement_cert_no",
    "enforcement_cert_valid_until",
    "grid_ids",
)


def update_user(session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID, changes: dict) -> dict:
    """Edit an account (with ``version``): any of ``EDITABLE``; grids are the person's full list."""
    user = _locked(session, principal, user_id)
    _check_version(session, clock, principal, user, changes["version"])
    before = get_user(session, clock, principal, user_id)
    roles = sorted(set(changes.get("roles", user.roles)))
    if set(roles) != set(user.roles):
        _check_grantable(principal, roles)
    phone = _check_phone(changes["phone"]) if "phone" in changes else user.phone
    cert_no = changes.get("enforcement_cert_no", user.enforcement_cert_no)
    _check_cert(roles, cert_no)
    enterprise_id = changes.get("enterprise_id", user.enterprise_id if "enterprise_officer" in roles else None)
    grid_ids = changes.get("grid_ids")
    if grid_ids is None and "grid_worker" not in roles:
        grid_ids = []  # no longer a grid worker: off every grid
    placement = _placement(
        session,
        principal,
        roles=roles,
        region_code=changes.get("region"),
        enterprise_id=enterprise_id,
        grid_ids=grid_ids or None,
        default_region_id=user.region_id,
    )
    if phone != user.phone:
        _check_unique(session, username=None, phone=phone, other_than=user.id)
    if "region" in changes or "grid_ids" in changes or "enterprise_id" in changes:
        user.region_id = placement.region_id
    user.name = changes.get("name", user.name)
    user.roles, user.phone, user.enterprise_id = roles, phone, placement.enterprise_id
    user.enforcement_cert_no = cert_no
    if "enforcement_cert_valid_until" in changes:
        user.enforcement_cert_valid_until = changes["enforcement_cert_valid_until"]
    user.version += 1
    user.updated_at = clock.now()
    session.flush()
    moved = _set_grids(session, clock, principal, user.id, grid_ids) if grid_ids is not None else {}
    after = get_user(session, clock, principal, user_id)
    keys = [
        k
        for k in ("name", "phone", "roles", "region", "enterprise_id", "enforcement_cert", "grids")
        if before[k] != after[k]
    ]
    audit(
        session,
        clock,
        principal,
        "update",
        "user",
        user_id,
        {"before": jsonable({k: before[k] for k in keys}), "after": jsonable({k: after[k] for k in keys}), **moved},
    )
    return after


def deactivate_user(
    session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID, version: int | None = None
) -> dict:
    """停用: the person can no longer log in, every token of theirs dies at once (401), they leave their
    grids; the account and everything it recorded are kept."""
    user = _locked(session, principal, user_id)
    if user.id == principal.user_id:
        raise NotOneself()
    if not user.active:
        raise AccountInactive(
            f"账号已于 {user.deactivated_at:%Y-%m-%d} 停用",
            current=jsonable(get_user(session, clock, principal, user_id)),
        )
    _check_version(session, clock, principal, user, version)
    now = clock.now()
    user.active, user.deactivated_at, user.deactivated_by = False, now, principal.user_id
    user.version += 1
    user.updated_at = now
    session.flush()
    tokens = revoke_tokens(session, clock, user.id)
    ended = list(
        session.scalars(
            update(GridAssignment)
            .where(GridAssignment.user_id == user.id, GridAssignment.ended_at.is_(None))
            .values(ended_at=now, ended_by=principal.user_id)
            .returning(GridAssignment.grid_id)
        )
    )
    _bump_grids(session, clock, ended)
    audit(
        session,
        clock,
        principal,
        "deactivate",
        "user",
        user.id,
        {"tokens_revoked": tokens, "grids_left": [str(g) for g in ended]},
    )
    return get_user(session, clock, principal, user_id)


def reactivate_user(
    session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID, version: int | None = None
) -> dict:
    """恢复: the account may log in again (with the password it had; grids are assigned anew)."""
    user = _locked(session, principal, user_id)
    _check_version(session, clock, principal, user, version)
    if user.active:
        return get_user(session, clock, principal, user_id)
    user.active, user.deactivated_at, user.deactivated_by = True, None, None
    user.version += 1
    user.updated_at = clock.now()
    session.flush()
    audit(session, clock, principal, "reactivate", "user", user.id)
    return get_user(session, clock, principal, user_id)


def reset_password(session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID) -> dict:
    """A new temporary password (answered once): the old one stops working, every token of the person
    dies, and their next login can do nothing but choose a password."""
    user = _locked(session, principal, user_id)
    if not user.active:
        raise AccountInactive("账号已停用，请先恢复")
    password, password_hash = temporary_password()
    user.password_hash, user.must_change_password = password_hash, True
    user.version += 1
    user.updated_at = clock.now()
    session.flush()
    tokens = revoke_tokens(session, clock, user.id)
    audit(session, clock, principal, "reset_password", "user", user.id, {"tokens_revoked": tokens})
    return {**get_user(session, clock, principal, user_id), "temporary_password": password}


def list_devices(session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID) -> dict:
    """The devices a person has logged in on, newest login first, with their live tokens."""
    get_user(session, clock, principal, user_id)  # 404 outside the scope
    now = clock.now()
    live = and_(AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)
    rows = session.execute(
        select(
            Device.id,
            Device.name,
            Device.platform,
            Device.app_version,
            Device.first_seen_at,
            Device.last_seen_at,
            Device.revoked_at,
            func.max(AccessToken.issued_at).label("last_login_at"),
            func.count().filter(live).label("live_tokens"),
        )
        .join(AccessToken, AccessToken.device_id == Device.id)
        .where(AccessToken.user_id == user_id)
        .group_by(Device.id)
        .order_by(func.max(AccessToken.issued_at).desc(), Device.id)
    ).all()
    return {"user_id": user_id, "devices": [dict(row._mapping) for row in rows]}


def revoke_person_device(
    session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID, device_id: str
) -> Device:
    """Stop a device the person has logged in on (a lost phone): all its tokens die."""
    get_user(session, clock, principal, user_id)
    device = session.scalar(
        select(Device).where(
            Device.id == device_id,
            select(AccessToken.token_hash)
            .where(AccessToken.device_id == Device.id, AccessToken.user_id == user_id)
            .exists(),
        )
    )
    if device is None:
        raise NotFound("设备不存在")
    return stop_device(session, clock, principal, device, {"user": str(user_id)})
