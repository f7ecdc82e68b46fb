"""Grids (网格) drawn by desk officers: made from one village, several villages merged (ST_Union), part
of a village split by a line or a polygon (and the rest of it), or drawn freely; edited with
optimistic locking; retired (撤销) when merged or split away; grid workers (网格员) assigned with their
history.

A grid lies within one town (ST_CoveredBy the town, give or take :data:`TOWN_TOLERANCE_M`). After any
change of shape the enterprises in the old ∪ new shape, and those on the grid, are placed again in
one statement (:func:`enterprises.placement.place_enterprises`). Writes are limited to the caller's region
subtree; outside it a grid does not exist (404)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, func, select, text, update
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.serialize import jsonable
from core.times import shown
from geo.geometry import LINEAR, POLYGONAL, area_m2_sql, check_polygons, check_structure
from geo.models import Grid, GridAssignment, GridVillage, Region
from enterprises.placement import place_enterprises
from grids.service import get_grid

# How far (m) a grid may stick out of its town: boundaries drawn on a map or cut from other data
# rarely match to the centimetre, and a 0.5 m strip is no one's territory.
TOWN_TOLERANCE_M = 0.5
# A grid drawn freely is linked to the villages it covers at least this share of.
VILLAGE_LINK_SHARE = 0.01


@dataclass
class Shape:
    """A grid's new geometry (hex EWKB MultiPolygon), its town and villages (None: by overlap); for a
    split village also the ``rest`` of it (hex EWKB)."""

    ewkb: str
    town_id: uuid.UUID
    village_ids: list[uuid.UUID] | None = None
    repairs: list[str] = field(default_factory=list)
    rest: str | None = None


class GridRetired(Conflict):
    code = "geo.grid_retired"
    title = "网格已撤销"


def create_grid(session: Session, clock: Clock, principal: Principal, data: dict, *, max_vertices: int) -> dict:
    """A new grid from ``villages`` (one, or several merged), a ``split`` of a village, or a drawn
    ``geometry``; with ``rest_name`` the rest of a split village becomes a second grid (``rest``), and
    the grids it ``replaces`` are retired. Returns its GeoJSON Feature with ``placement`` (enterprises
    whose grid the request changed)."""
    _require_desk(principal)
    replaced = _replaceable(session, principal, data.get("replaces") or [])
    crs = data.get("crs", "wgs84")
    if data.get("villages"):
        shape = _from_villages(session, principal, data["villages"], data.get("town_code"))
    elif data.get("split"):
        shape = _from_split(session, principal, data["split"], crs, data.get("town_code"), max_vertices)
    else:
        shape = _from_geometry(session, principal, data["geometry"], crs, data.get("town_code"), max_vertices)
    mode = "villages" if data.get("villages") else "split" if data.get("split") else "geometry"
    grid_id, moved = _insert_grid(session, clock, principal, data["name"], shape, mode)
    answer = {"repairs": shape.repairs}
    if data.get("rest_name"):
        rest = Shape(ewkb=shape.rest, town_id=shape.town_id, village_ids=shape.village_ids)
        rest_id, rest_moved = _insert_grid(session, clock, principal, data["rest_name"], rest, "split")
        moved += rest_moved
        answer["rest"] = get_grid(session, principal, rest_id)
    if replaced:
        retired_moved, unassigned = _retire(session, clock, principal, replaced, replaced_by=grid_id)
        moved += retired_moved
        answer |= {"retired": [str(g.id) for g in replaced], "workers_unassigned": unassigned}
    return {**get_grid(session, principal, grid_id), "placement": {"enterprises_relocated": moved}, **answer}


def _insert_grid(
    session: Session, clock: Clock, principal: Principal, name: str, shape: Shape, mode: str
) -> tuple[uuid.UUID, int]:
    """One new grid of ``shape``, the enterprises under it placed; returns its id and how many moved."""
    _check_within_town(session, shape.ewkb, shape.town_id)
    now = clock.now()
    grid = Grid(
        id=uuid.uuid4(),
        name=name,
        town_id=shape.town_id,
        geometry=func.ST_GeomFromEWKB(bytes.fromhex(shape.ewkb)),
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(grid)
    session.flush()
    _link_villages(session, grid.id, shape.village_ids)
    moved = place_enterprises(session, area=shape.ewkb, at=now)
    feature = get_grid(session, principal, grid.id)
    audit(
        session,
        clock,
        principal,
        "create",
        "grid",
        grid.id,
        {
            "name": grid.name,
            "mode": mode,
            "villages": feature["properties"]["villages"],
            "area_m2": feature["properties"]["area_m2"],
            "repairs": shape.repairs,
            "enterprises_relocated": moved,
        },
    )
    return grid.id, moved


def retire_grid(
    session: Session, clock: Clock, principal: Principal, grid_id: uuid.UUID, version: int | None = None
) -> dict:
    """Retire a grid (撤销): see :func:`_retire`. ``version``, when given, must be the current one."""
    _require_desk(principal)
    grid = _locked(session, principal, grid_id)
    if version is not None and version != grid.version:
        raise Conflict("网格已被他人修改，请以最新版本为准", current=jsonable(get_grid(session, principal, grid_id)))
    moved, unassigned = _retire(session, clock, principal, [grid])
    return {
        **get_grid(session, principal, grid_id),
        "placement": {"enterprises_relocated": moved},
        "workers_unassigned": unassigned,
    }


def _retire(
    session: Session, clock: Clock, principal: Principal, grids: list[Grid], replaced_by: uuid.UUID | None = None
) -> tuple[int, list[str]]:
    """Retire locked, live grids: the rows stay (records name them) with ``retired_at``; their open
    worker assignments end (the history keeps them); their enterprises are placed again, in one
    statement; the change feed hands phones a delete. Returns (enterprises moved, workers taken off)."""
    now = clock.now()
    ids = [g.id for g in grids]
    for grid in grids:
        grid.retired_at, grid.retired_by = now, principal.user_id
        grid.version += 1
        grid.updated_at = now
    session.flush()
    ended = session.execute(
        update(GridAssignment)
        .where(GridAssignment.grid_id.in_(ids), GridAssignment.ended_at.is_(None))
        .values(ended_at=now, ended_by=principal.user_id)
        .returning(GridAssignment.grid_id, GridAssignment.user_id)
    ).all()
    moved = place_enterprises(session, grid_ids=ids, at=now)
    for grid in grids:
        audit(
            session,
            clock,
            principal,
            "retire",
            "grid",
            grid.id,
            {
                "workers_unassigned": sorted(str(u) for g, u in ended if g == grid.id),
                # With several grids retired together, the enterprises are placed in one statement: their total.
                "replaced_by": str(replaced_by) if replaced_by else None,
                "enterprises_relocated": moved,
            },
        )
    return moved, sorted({str(u) for _, u in ended})


def _replaceable(session: Session, principal: Principal, grid_ids: list[uuid.UUID]) -> list[Grid]:
    """The grids a new grid replaces: live and writable by the caller, locked; one error per bad id."""
    if not grid_ids:
        return []
    found = {
        g.id: g
        for g in session.scalars(
            select(Grid).where(Grid.id.in_(grid_ids), _writable(principal, Grid)).order_by(Grid.id).with_for_update()
        )
    }
    errors = []
    for n, grid_id in enumerate(grid_ids):
        if grid_id not in found:
            errors.append(FieldError("geo.unknown_grid", f"replaces.{n}", "网格不存在或不在您的辖区内"))
        elif found[grid_id].retired_at is not None:
            errors.append(FieldError("geo.grid_retired", f"replaces.{n}", "网格已撤销"))
    if errors:
        raise ValidationFailed("被取代的网格有误", code=errors[0].code, errors=errors)
    return [found[i] for i in grid_ids]


def update_grid(
    session: Session, clock: Clock, principal: Principal, grid_id: uuid.UUID, changes: dict, *, max_vertices: int
) -> dict:
    """Rename and/or redraw a grid. ``changes["version"]`` must be the current version (else 409 with
    ``current``). A new shape must stay within the grid's town; the enterprises in the old ∪ new
    shape and those on the grid are placed again."""
    _require_desk(principal)
    grid = _locked(session, principal, grid_id)
    if changes["version"] != grid.version:
        raise Conflict("网格已被他人修改，请以最新版本为准", current=jsonable(get_grid(session, principal, grid_id)))
    current = get_grid(session, principal, grid_id)
    before = current["properties"]
    renamed = "name" in changes and changes["name"] != grid.name
    shape = None
    if changes.get("geometry") is not None:
        shape = _drawn(session, changes["geometry"], changes.get("crs", "wgs84"), grid.town_id, max_vertices)
        if session.scalar(
            text("SELECT ST_Equals(geometry, CAST(:g AS geometry)) FROM grids WHERE id = :id"),
            {"g": shape.ewkb, "id": grid_id},
        ):
            shape = None  # the same shape again: nothing to redraw
    if not renamed and shape is None:
        return {**current, "placement": {"enterprises_relocated": 0}, "repairs": []}
    now = clock.now()
    moved = 0
    if renamed:
        grid.name = changes["name"]
    if shape is not None:
        _check_within_town(session, shape.ewkb, grid.town_id)
        area = session.scalar(
            text("""
            SELECT encode(ST_AsEWKB(ST_Union(geometry, CAST(:g AS geometry))), 'hex') FROM grids WHERE id = :id"""),
            {"g": shape.ewkb, "id": grid_id},
        )
        grid.geometry = func.ST_GeomFromEWKB(bytes.fromhex(shape.ewkb))
    grid.version += 1
    grid.updated_at = now
    session.flush()
    if shape is not None:
        session.execute(GridVillage.__table__.delete().where(GridVillage.grid_id == grid_id))
        _link_villages(session, grid_id, None)
        moved = place_enterprises(session, area=area, grid_ids=[grid_id], at=now)
    feature = get_grid(session, principal, grid_id)
    after = feature["properties"]
    audit(
        session,
        clock,
        principal,
        "update",
        "grid",
        grid_id,
        {
            "before": jsonable({k: before[k] for k in ("name", "area_m2", "villages", "version")}),
            "after": jsonable({k: after[k] for k in ("name", "area_m2", "villages", "version")}),
            "redrawn": shape is not None,
            "repairs": shape.repairs if shape else [],
            "enterprises_relocated": moved,
        },
    )
    return {**feature, "placement": {"enterprises_relocated": moved}, "repairs": shape.repairs if shape else []}


def set_workers(
    session: Session,
    clock: Clock,
    principal: Principal,
    grid_id: uuid.UUID,
    worker_ids: list[uuid.UUID],
    version: int | None = None,
) -> dict:
    """Make ``worker_ids`` the grid's workers: assignments of others end, new ones open (the history
    keeps who assigned whom, and when). ``version``, when given, must be the grid's current one."""
    _require_desk(principal)
    grid = _locked(session, principal, grid_id)
    if version is not None and version != grid.version:
        raise Conflict("网格已被他人修改，请以最新版本为准", current=jsonable(get_grid(session, principal, grid_id)))
    _check_workers(session, principal, worker_ids)
    now = clock.now()
    removed = list(
        session.scalars(
            update(GridAssignment)
            .where(
                GridAssignment.grid_id == grid_id,
                GridAssignment.ended_at.is_(None),
                GridAssignment.user_id.not_in(worker_ids),
            )
            .values(ended_at=now, ended_by=principal.user_id)
            .returning(GridAssignment.user_id)
        )
    )
    current = set(
        session.scalars(
            select(GridAssignment.user_id).where(GridAssignment.grid_id == grid_id, GridAssignment.ended_at.is_(None))
        )
    )
    added = [user_id for user_id in worker_ids if user_id not in current]
    session.add_all(
        GridAssignment(
            id=uuid.uuid4(), grid_id=grid_id, user_id=user_id, assigned_at=now, assigned_by=principal.user_id
        )
        for user_id in added
    )
    if added or removed:
        grid.version += 1  # the worker list is part of the grid phones hold
        grid.updated_at = now
        session.flush()
        audit(
            session,
            clock,
            principal,
            "assign_workers",
            "grid",
            grid_id,
            {"added": [str(u) for u in added], "removed": [str(u) for u in removed]},
        )
    return grid_workers(session, principal, grid_id)


def grid_workers(session: Session, principal: Principal, grid_id: uuid.UUID) -> dict:
    """The grid's current workers and the whole assignment history, newest first."""
    version = session.scalar(select(Grid.version).where(Grid.id == grid_id, principal.grid_filter(Grid)))
    if version is None:
        raise NotFound("网格不存在")
    worker, assigner, ender = aliased(User), aliased(User), aliased(User)
    rows = session.execute(
        select(
            GridAssignment.user_id,
            worker.name,
            worker.username,
            GridAssignment.assigned_at,
            GridAssignment.assigned_by,
            assigner.name.label("assigned_by_name"),
            GridAssignment.ended_at,
            GridAssignment.ended_by,
            ender.name.label("ended_by_name"),
        )
        .join(worker, worker.id == GridAssignment.user_id)
        .outerjoin(assigner, assigner.id == GridAssignment.assigned_by)
        .outerjoin(ender, ender.id == GridAssignment.ended_by)
        .where(GridAssignment.grid_id == grid_id)
        .order_by(GridAssignment.assigned_at.desc(), GridAssignment.ended_at.desc().nulls_first(), worker.username)
    ).all()
    history = [
        {
            "worker": {"id": r.user_id, "name": r.name, "username": r.username},
            "assigned_at": r.assigned_at,
            "assigned_by": {"id": r.assigned_by, "name": r.assigned_by_name} if r.assigned_by else None,
            "ended_at": r.ended_at,
            "ended_by": {"id": r.ended_by, "name": r.ended_by_name} if r.ended_by else None,
        }
        for r in rows
    ]
    current = sorted((h for h in history if h["ended_at"] is None), key=lambda h: h["worker"]["username"])
    return {"grid_id": grid_id, "version": version, "workers": current, "history": history}


# --- helpers ---------------------------------------------------------------------------------


def _require_desk(principal: Principal) -> None:
    if not principal.has("desk_officer", "admin"):
        raise Forbidden("只有内勤或管理员可以编辑网格")


def _writable(principal: Principal, grid) -> ColumnElement[bool]:
    """Grids whose town lies in the caller's region subtree (a grid worker's own grid is not enough)."""
    town = aliased(Region)
    return exists().where(town.id == grid.town_id, principal.region_filter(town.path))


def _locked(session: Session, principal: Principal, grid_id: uuid.UUID) -> Grid:
    """The grid to change, locked; a retired grid is history and changes no more."""
    grid = session.scalar(select(Grid).where(Grid.id == grid_id, _writable(principal, Grid)).with_for_update())
    if grid is None:
        raise NotFound("网格不存在")
    if grid.retired_at is not None:
        raise GridRetired(f"网格已于 {shown(grid.retired_at)} 撤销，不能再修改")
    return grid


def _village_rows(session: Session, principal: Principal, codes: list[str]) -> list:
    rows = session.execute(
        select(
            Region.id, Region.code, Region.name, Region.parent_id, Region.geometry.is_not(None).label("drawn")
        ).where(Region.code.in_(codes), Region.level == "village", principal.region_filter(Region.path))
    ).all()
    found = {r.code: r for r in rows}
    errors = [
        FieldError("geo.unknown_village", f"villages.{n}", f"村/社区 {code} 不存在或不在您的辖区内")
        for n, code in enumerate(codes)
        if code not in found
    ]
    errors += [
        FieldError("geo.village_without_boundary", f"villages.{n}", f"村/社区 {code} 尚无边界，请先导入边界")
        for n, code in enumerate(codes)
        if code in found and not found[code].drawn
    ]
    if errors:
        raise ValidationFailed("所选村/社区无法组成网格", code=errors[0].code, errors=errors)
    return [found[c] for c in codes]


def _town_of(
    session: Session, principal: Principal, villages: list, town_code: str | None, field_name: str = "villages"
) -> uuid.UUID:
    towns = {v.parent_id for v in villages}
    if len(towns) > 1:
        raise ValidationFailed(
            "所选村/社区分属不同乡镇：网格须位于一个乡镇之内",
            code="geo.several_towns",
            errors=[FieldError("geo.several_towns", field_name, "所选村/社区分属不同乡镇")],
        )
    town_id = towns.pop()
    if town_code is not None:
        code = session.scalar(select(Region.code).where(Region.id == town_id))
        if code != town_code:
            raise ValidationFailed(
                f"所选村/社区不属于乡镇 {town_code}",
                code="geo.town_mismatch",
                errors=[FieldError("geo.town_mismatch", "town_code", f"村/社区属于乡镇 {code}")],
            )
    return town_id


def _from_villages(session: Session, principal: Principal, codes: list[str], town_code: str | None) -> Shape:
    villages = _village_rows(session, principal, codes)
    town_id = _town_of(session, principal, villages, town_code)
    ids = [v.id for v in villages]
    # One village: its own boundary, vertex for vertex; several: their union (边界合并).
    ewkb = session.scalar(
        text("""
        SELECT encode(ST_AsEWKB(CASE WHEN count(*) = 1 THEN ST_Multi((array_agg(geometry))[1])
                                     ELSE ST_Multi(ST_Union(geometry)) END), 'hex')
          FROM regions WHERE id = ANY(CAST(:ids AS uuid[]))"""),
        {"ids": [str(i) for i in ids]},
    )
    return Shape(ewkb=ewkb, town_id=town_id, village_ids=ids)


def _from_split(
    session: Session, principal: Principal, split: dict, crs: str, town_code: str | None, max_vertices: int
) -> Shape:
    village = _village_rows(session, principal, [split["village"]])[0]
    town_id = _town_of(session, principal, [village], town_code, "split.village")
    blade, problem = check_structure(split["blade"], crs, allowed=POLYGONAL + LINEAR, max_vertices=max_vertices)
    if problem:
        raise ValidationFailed(
            problem.message, code=problem.code, errors=[FieldError(problem.code, "split.blade", problem.message)]
        )
    if split.get("keep") and blade["type"] not in POLYGONAL:
        raise ValidationFailed(
            "按分割线分割时请用 at 指定保留哪一部分（keep 只用于分割面）",
            code="geo.keep_needs_polygon",
            errors=[FieldError("geo.keep_needs_polygon", "split.keep", "keep 只用于分割面")],
        )
    repairs: list[str] = []
    if blade["type"] in POLYGONAL:
        checked = check_polygons(session, [blade])[0]
        if checked.problem:
            raise ValidationFailed(
                checked.problem.message,
                code=checked.problem.code,
                errors=[FieldError(checked.problem.code, "split.blade", checked.problem.message)],
            )
        # Both parts of the village: inside and outside the blade (computed from the same noding,
        # so the two parts tile the village exactly).
        pieces_sql = """
            SELECT 1 AS n, 'inside' AS side, ST_CollectionExtract(ST_Intersection(v.g, b.g), 3) AS g FROM v, b
            UNION ALL
            SELECT 2, 'outside', ST_CollectionExtract(ST_Difference(v.g, b.g), 3) FROM v, b"""
        blade_sql, blade_value, repairs = "CAST(:blade AS geometry)", checked.ewkb, checked.repairs
    else:
        pieces_sql = """
            SELECT d.path[1] AS n, NULL AS side, d.geom AS g
              FROM v, b, LATERAL ST_Dump(ST_CollectionExtract(ST_Split(v.g, b.g), 3)) AS d"""
        blade_sql, blade_value = "ST_SetSRID(ST_GeomFromGeoJSON(:blade), 4326)", json.dumps(blade)
    at = split.get("at")
    row = session.execute(
        text(f"""
        WITH v AS (SELECT geometry AS g, ST_NumGeometries(geometry) AS parts FROM regions WHERE id = :village),
             b AS (SELECT {blade_sql} AS g),
             pieces AS ({pieces_sql}),
             chosen AS (
                SELECT * FROM pieces
                 WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0
                   AND CASE WHEN CAST(:keep AS text) IS NOT NULL THEN side = :keep
                            ELSE ST_Covers(g, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) END)
        SELECT (SELECT count(*) FROM pieces WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0) AS pieces,
               (SELECT parts FROM v) AS parts,
               (SELECT count(*) FROM chosen) AS chosen,
               (SELECT encode(ST_AsEWKB(ST_Multi(ST_Union(g))), 'hex') FROM chosen) AS ewkb,
               (SELECT encode(ST_AsEWKB(ST_Multi(ST_Union(g))), 'hex') FROM pieces
                 WHERE NOT ST_IsEmpty(g) AND ST_Area(g) > 0 AND n NOT IN (SELECT n FROM chosen)) AS rest
    """),
        {
            "village": village.id,
            "blade": blade_value,
            "keep": split.get("keep"),
            "lon": at["lon"] if at else None,
            "lat": at["lat"] if at else None,
        },
    ).one()
    cut = row.pieces >= 2 if blade["type"] in POLYGONAL else row.pieces > row.parts
    if not cut:
        raise ValidationFailed(
            "分割线（面）没有把该村/社区分成两部分",
            code="geo.blade_misses",
            errors=[FieldError("geo.blade_misses", "split.blade", "未将该村/社区分开")],
        )
    if row.chosen == 0:
        raise ValidationFailed(
            "所选点不在该村/社区内",
            code="geo.split_point_outside",
            errors=[FieldError("geo.split_point_outside", "split.at", "所选点不在该村/社区内")],
        )
    if row.chosen > 1:
        raise ValidationFailed(
            "所选点正好在分割线上，无法确定保留哪一部分",
            code="geo.split_point_ambiguous",
            errors=[FieldError("geo.split_point_ambiguous", "split.at", "所选点在分割线上")],
        )
    return Shape(ewkb=row.ewkb, town_id=town_id, village_ids=[village.id], repairs=repairs, rest=row.rest)


def _drawn(session: Session, geometry: dict, crs: str, town_id: uuid.UUID | None, max_vertices: int) -> Shape:
    """A drawn (Multi)Polygon: checked, exactly repaired, as a Shape (town given or to be found)."""
    structured, problem = check_structure(geometry, crs, max_vertices=max_vertices)
    if problem is None:
        checked = check_polygons(session, [structured])[0]
        problem = checked.problem
    if problem:
        raise ValidationFailed(
            problem.message, code=problem.code, errors=[FieldError(problem.code, "geometry", problem.message)]
        )
    return Shape(ewkb=checked.ewkb, town_id=town_id, repairs=checked.repairs)


def _from_geometry(
    session: Session, principal: Principal, geometry: dict, crs: str, town_code: str | None, max_vertices: int
) -> Shape:
    shape = _drawn(session, geometry, crs, None, max_vertices)
    town = aliased(Region)
    if town_code is not None:
        shape.town_id = session.scalar(
            select(town.id).where(town.code == town_code, town.level == "town", principal.region_filter(town.path))
        )
        if shape.town_id is None:
            raise ValidationFailed(
                f"乡镇 {town_code} 不存在或不在您的辖区内",
                code="geo.unknown_town",
                errors=[FieldError("geo.unknown_town", "town_code", "乡镇不存在或不在您的辖区内")],
            )
        return shape
    # No town named: the town of the caller's subtree that holds most of the shape.
    shape.town_id = session.scalar(
        select(town.id)
        .where(
            town.level == "town",
            principal.region_filter(town.path),
            func.ST_Intersects(town.geometry, text("CAST(:g AS geometry)")),
        )
        .order_by(func.ST_Area(func.ST_Intersection(town.geometry, text("CAST(:g AS geometry)"))).desc())
        .limit(1),
        {"g": shape.ewkb},
    )
    if shape.town_id is None:
        raise ValidationFailed(
            "网格不在您辖区内的任何乡镇范围内",
            code="geo.outside_town",
            errors=[FieldError("geo.outside_town", "geometry", "网格不在您辖区内的任何乡镇范围内")],
        )
    return shape


def _check_within_town(session: Session, ewkb: str, town_id: uuid.UUID) -> None:
    row = session.execute(
        text(f"""
        SELECT t.name, t.geometry IS NOT NULL AS drawn,
               CASE WHEN t.geometry IS NULL THEN false
                    WHEN ST_CoveredBy(x.g, t.geometry) THEN true
                    ELSE ST_CoveredBy(x.g, ST_Buffer(t.geometry::geography, :tolerance)::geometry) END AS inside,
               CASE WHEN t.geometry IS NOT NULL AND NOT ST_CoveredBy(x.g, t.geometry)
                    THEN {area_m2_sql("ST_Difference(x.g, t.geometry)")} ELSE 0 END AS outside_m2
          FROM regions AS t, (SELECT CAST(:g AS geometry) AS g) AS x
         WHERE t.id = :town"""),
        {"g": ewkb, "town": town_id, "tolerance": TOWN_TOLERANCE_M},
    ).one()
    if not row.drawn:
        raise ValidationFailed(f"乡镇（{row.name}）尚无边界，请先导入边界", code="geo.town_without_boundary")
    if not row.inside:
        message = f"网格超出所属乡镇（{row.name}）边界约 {row.outside_m2:.1f} 平方米：网格须位于一个乡镇之内"
        raise ValidationFailed(
            message, code="geo.outside_town", errors=[FieldError("geo.outside_town", "geometry", message)]
        )


def _link_villages(session: Session, grid_id: uuid.UUID, village_ids: list[uuid.UUID] | None) -> None:
    """The villages a grid was made from; for a drawn or redrawn grid, those it covers enough of."""
    if village_ids is not None:
        session.add_all(GridVillage(grid_id=grid_id, village_id=v) for v in village_ids)
        session.flush()
        return
    session.execute(
        text("""
        INSERT INTO grid_villages (grid_id, village_id)
        SELECT g.id, v.id
          FROM grids AS g JOIN regions AS v
            ON v.parent_id = g.town_id AND v.level = 'village' AND ST_Intersects(v.geometry, g.geometry)
         WHERE g.id = :grid
           AND ST_Area(ST_Intersection(v.geometry, g.geometry)) >= :share * ST_Area(v.geometry)"""),
        {"grid": grid_id, "share": VILLAGE_LINK_SHARE},
    )


def _check_workers(session: Session, principal: Principal, worker_ids: list[uuid.UUID]) -> None:
    """Every id must be an active grid worker (网格员) of the caller's subtree."""
    home = aliased(Region)
    rows = {
        r.id: r
        for r in session.execute(
            select(User.id, User.roles, User.active)
            .join(home, home.id == User.region_id)
            .where(User.id.in_(worker_ids), principal.region_filter(home.path))
        )
    }
    errors = []
    for n, user_id in enumerate(worker_ids):
        row = rows.get(user_id)
        if row is None:
            errors.append(FieldError("geo.unknown_worker", f"worker_ids.{n}", "用户不存在或不在您的辖区内"))
        elif "grid_worker" not in row.roles or not row.active:
            errors.append(FieldError("geo.not_a_grid_worker", f"worker_ids.{n}", "该用户不是在岗的网格员"))
    if errors:
        raise ValidationFailed("网格员名单有误", code=errors[0].code, errors=errors)
