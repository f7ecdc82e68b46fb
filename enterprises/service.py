"""Enterprises: scoped list and read, create and edit by desk officers (optimistic locking),
village and grid derived from the location by PostGIS."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from accounts.principal import Principal, scoped_statement
from audit.service import record as audit
from core.serialize import jsonable
from core.clock import Clock
from core.errors import Conflict, Forbidden, NotFound
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from enterprises.uscc import validate_uscc
from geo.location import point_geometry
from geo.models import Region
from enterprises.placement import place_enterprises

EDITABLE = ("name", "subtype", "address", "risk", "licences", "legal_representative", "contact_name", "contact_phone")


def _select(principal: Principal) -> Select:
    return (
        select(
            Enterprise.id,
            Enterprise.name,
            Enterprise.uscc,
            Enterprise.industry,
            Enterprise.subtype,
            Enterprise.address,
            Enterprise.risk,
            Enterprise.licences,
            Enterprise.legal_representative,
            Enterprise.contact_name,
            Enterprise.contact_phone,
            Enterprise.grid_id,
            Enterprise.version,
            Enterprise.updated_at,
            func.ST_X(Enterprise.location).label("lon"),
            func.ST_Y(Enterprise.location).label("lat"),
            Region.code.label("region_code"),
        )
        .outerjoin(Region, Region.id == Enterprise.region_id)
        .where(principal.enterprise_filter(Enterprise))
    )


def _as_dict(row) -> dict:
    data = dict(row._mapping)
    data["location"] = {"lon": data.pop("lon"), "lat": data.pop("lat")}
    return data


def list_enterprises(
    session: Session,
    principal: Principal,
    *,
    industry=None,
    subtype=None,
    risk=None,
    grid_id=None,
    region=None,
    outside_grids=None,
    q=None,
    page=1,
    per_page=50,
) -> Page:
    stmt = _select(principal)
    if industry:
        stmt = stmt.where(Enterprise.industry == industry)
    if subtype:
        stmt = stmt.where(Enterprise.subtype == subtype)
    if risk:
        stmt = stmt.where(Enterprise.risk == risk)
    if grid_id:
        stmt = stmt.where(Enterprise.grid_id == grid_id)
    if outside_grids is not None:
        stmt = stmt.where(Enterprise.grid_id.is_(None) if outside_grids else Enterprise.grid_id.is_not(None))
    if region:
        stmt = stmt.where(Region.path.descendant_of(select(Region.path).where(Region.code == region).scalar_subquery()))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Enterprise.name.ilike(like), Enterprise.uscc.ilike(like)))
    result = paginate(
        session, stmt.order_by(Enterprise.name, Enterprise.id), page=page, per_page=per_page, scalars=False
    )
    result.items = [_as_dict(row) for row in result.items]
    return result


def rows(session: Session, principal: Principal, ids: list[uuid.UUID]) -> list[dict]:
    """Several enterprises by id (those in the caller's scope), as the API shows them."""
    return [_as_dict(row) for row in session.execute(_select(principal).where(Enterprise.id.in_(ids)))]


def get_enterprise(session: Session, principal: Principal, enterprise_id: uuid.UUID) -> dict:
    by_id = scoped_statement(
        "enterprise_by_id", principal, lambda scope: _select(scope).where(Enterprise.id == bindparam("enterprise_id"))
    )
    # Plain columns: the session's connection runs them without the ORM's execution layer.
    row = (
        session.connection().execute(by_id, {**principal.scope_params(), "enterprise_id": enterprise_id}).one_or_none()
    )
    if row is None:
        raise NotFound("企业不存在")
    return _as_dict(row)


def create_enterprise(session: Session, clock: Clock, principal: Principal, data: dict) -> dict:
    uscc = validate_uscc(data["uscc"])
    if session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc)):
        raise Conflict("该统一社会信用代码已登记", code="enterprise.uscc_taken")
    enterprise = Enterprise(
        id=data.get("id") or uuid.uuid4(),
        uscc=uscc,
        location=point_geometry(data["location"]),
        **{
            k: data[k]
            for k in (
                "name",
                "industry",
                "subtype",
                "address",
                "risk",
                "licences",
                "legal_representative",
                "contact_name",
                "contact_phone",
            )
            if k in data
        },
    )
    enterprise.licences = json.loads(json.dumps(enterprise.licences or [], default=str))
    session.add(enterprise)
    session.flush()
    place_enterprises(session, [enterprise.id], at=clock.now())
    visible = session.scalar(
        select(func.count())
        .select_from(Enterprise)
        .join(Region, Region.id == Enterprise.region_id, isouter=True)
        .where(Enterprise.id == enterprise.id, principal.enterprise_filter(Enterprise))
    )
    if not visible:
        # Officers may only register enterprises inside their own area.
        raise Forbidden("企业位置不在您的辖区内", code="enterprise.outside_scope")
    audit(session, clock, principal, "create", "enterprise", enterprise.id, {"name": enterprise.name})
    return get_enterprise(session, principal, enterprise.id)


def update_enterprise(
    session: Session, clock: Clock, principal: Principal, enterprise_id: uuid.UUID, changes: dict
) -> dict:
    current = get_enterprise(session, principal, enterprise_id)  # 404 outside the scope
    if changes["version"] != current["version"]:
        raise Conflict("企业信息已被他人修改，请以最新版本为准", current=jsonable(current))
    enterprise = session.get(Enterprise, enterprise_id, with_for_update=True)
    if enterprise.version != changes["version"]:
        raise Conflict(
            "企业信息已被他人修改，请以最新版本为准",
            current=jsonable(get_enterprise(session, principal, enterprise_id)),
        )
    before = {k: current[k] for k in EDITABLE if k in changes}
    for key in EDITABLE:
        if key in changes:
            value = changes[key]
            if key == "licences":
                value = json.loads(json.dumps(value, default=str))
            setattr(enterprise, key, value)
    moved = "location" in changes
    if moved:
        enterprise.location = point_geometry(changes["location"])
        session.flush()
        place_enterprises(session, [enterprise.id], at=clock.now())
        session.refresh(enterprise)
    # place_enterprises may have bumped the version already: one edit is one version.
    enterprise.version = changes["version"] + 1
    enterprise.updated_at = clock.now()
    session.flush()
    audit(
        session,
        clock,
        principal,
        "update",
        "enterprise",
        enterprise_id,
        {"before": jsonable(before), "after": jsonable({k: changes[k] for k in before}), "moved": moved},
    )
    return get_enterprise(session, principal, enterprise_id)
