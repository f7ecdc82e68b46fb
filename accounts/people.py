"""People (人员): the directory — who is who, scoped like every read — and the names (with the
执法证号 of inspectors) that reads put beside the user ids of their records, so documents and screens
show people, not ids. Neither ever carries a phone number or a password."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.principal import Principal
from core.clock import Clock
from core.errors import NotFound
from db.pagination import Page, paginate
from core.periods import local_date
from geo.models import Region


def certified_inspector(on: date, user=User) -> ColumnElement[bool]:
    """An active 执法人员 whose enforcement certificate (执法证) is valid on ``on`` (no recorded expiry
    counts as valid): THE condition for standing on an enforcement team or in a 双随机 pool."""
    return and_(
        user.active.is_(True),
        user.roles.any("inspector"),
        user.enforcement_cert_no.is_not(None),
        or_(user.enforcement_cert_valid_until.is_(None), user.enforcement_cert_valid_until >= on),
    )


def _region():
    return Region


def _person(row, today: date) -> dict:
    inspector = "inspector" in row.roles
    return {
        "id": row.id,
        "name": row.name,
        "roles": sorted(row.roles),
        "region": {"code": row.region_code, "name": row.region_name, "level": row.region_level},
        "enforcement_cert": {
            "number": row.enforcement_cert_no,
            "valid_until": row.enforcement_cert_valid_until,
            "valid": row.enforcement_cert_valid_until is None or row.enforcement_cert_valid_until >= today,
        }
        if inspector and row.enforcement_cert_no
        else None,
        "active": row.active,
    }


def _directory(principal: Principal):
    Region = _region()
    return (
        select(
            User.id,
            User.name,
            User.roles,
            User.enforcement_cert_no,
            User.enforcement_cert_valid_until,
            User.active,
            Region.code.label("region_code"),
            Region.name.label("region_name"),
            Region.level.label("region_level"),
        )
        .join(Region, Region.id == User.region_id)
        # The people of the regions the caller may read (a grid worker: their villages and towns), and oneself.
        .where(or_(User.id == principal.user_id, principal.region_visible_filter(Region)))
    )


def list_people(
    session: Session,
    clock: Clock,
    principal: Principal,
    *,
    role: str | None = None,
    region: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    Region = _region()
    stmt = _directory(principal)
    if role:
        stmt = stmt.where(User.roles.any(role))
    if region:
        stmt = stmt.where(Region.path.descendant_of(select(Region.path).where(Region.code == region).scalar_subquery()))
    if q:
        stmt = stmt.where(User.name.contains(q, autoescape=True))
    result = paginate(
        session, stmt.order_by(Region.path, User.name, User.id), page=page, per_page=per_page, scalars=False
    )
    today = local_date(clock.now())
    result.items = [_person(row, today) for row in result.items]
    return result


def get_person(session: Session, clock: Clock, principal: Principal, user_id: uuid.UUID) -> dict:
    row = session.execute(_directory(principal).where(User.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("人员不存在")
    return _person(row, local_date(clock.now()))


def people_refs(session: Session, ids) -> dict[str, dict]:
    """``{user id: {name, enforcement_cert_no}}`` for the people a record names (the number only for
    inspectors): one query, whoever the reader is — the names on a record one may read are part of it."""
    wanted = {uuid.UUID(str(i)) for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name, User.roles, User.enforcement_cert_no).where(User.id.in_(wanted)))
    return {
        str(r.id): {"name": r.name, "enforcement_cert_no": r.enforcement_cert_no if "inspector" in r.roles else None}
        for r in rows
    }
