"""Recording inspections (检查) and patrols (巡查): validation against the checklist version, the
geofence, hazards raised by failed items. The same functions serve REST and sync pushes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, text
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.people import certified_inspector, people_refs
from accounts.principal import Principal
from audit.service import entry as audit_entry, record_many
from checklists.scoring import score
from checklists.service import template_for_inspection
from core.serialize import jsonable
from core.clock import Clock
from core.errors import DomainError, FieldError, Forbidden, NotFound, UnknownReference, ValidationFailed
from core.times import shown
from enterprises.models import Enterprise
from enterprises.geofence import check as geofence_check
from geo.models import Grid, GridAssignment, Region
from inspections.hazards import apply_recheck, new_hazard_values, visible_enterprise
from inspections.models import Hazard, HazardEvent, Inspection, Patrol, PatrolVisit, Plan
from inspections.plans import plan_filter
from geo.location import line_geometries, point_geometry
from inspections.records import Inserted, Provenance, Recorded, canonical_hash, check_not_reused, hazard_id_for
from core.periods import local_date
from evidence.service import name_photos_many

# The ``source`` of hazards an inspection raises: an enterprise's 自查, a grid worker's 巡查, else 执法检查.
INSPECTION_SOURCES = {"self": "self", "patrol_check": "patrol"}


def inspection_filter(principal: Principal, inspection=Inspection):
    return or_(
        principal.area_filter(
            region_id=inspection.region_id, grid_id=inspection.grid_id, enterprise_id=inspection.enterprise_id
        ),
        inspection.recorded_by == principal.user_id,
        inspection.inspector_ids.any(principal.user_id),
    )


def _may_inspect(kind: str, enterprise) -> ColumnElement[bool]:
    """Users who could record a ``self`` or ``patrol_check`` inspection of ``enterprise`` themselves:
    for a 企业自查 the enterprise's own officers; for a 网格员巡查 the workers of its grid and the
    inspectors and desk officers whose region holds it."""
    if kind == "self":
        return and_(User.roles.any("enterprise_officer"), User.enterprise_id == enterprise.id)
    home = aliased(Region)
    place = select(Region.path).where(Region.id == enterprise.region_id).scalar_subquery()
    officer = and_(
        or_(User.roles.any("inspector"), User.roles.any("desk_officer")),
        exists().where(home.id == User.region_id, home.path.ancestor_of(place)),
    )
    worker = and_(
        User.roles.any("grid_worker"),
        exists().where(
            GridAssignment.user_id == User.id,
            GridAssignment.grid_id == enterprise.grid_id,
            GridAssignment.ended_at.is_(None),
        ),
    )
    return or_(officer, worker)


def _check_named(session: Session, principal: Principal, kind: str, enterprise, inspectors: list[uuid.UUID]) -> None:
    """The people a 企业自查 or 网格员巡查 names: the caller, or people who may inspect the enterprise."""
    others = [i for i in inspectors if i != principal.user_id]
    if not others:  # the caller alone (the common case): nobody to look up
        return
    allowed = set(
        session.scalars(
            select(User.id).where(User.id.in_(others), User.active.is_(True), _may_inspect(kind, enterprise))
        )
    )
    errors = [
        FieldError("inspection.inspector_not_allowed", f"inspectors.{n}", "不是本人，也不是可检查该企业的人员")
        for n, i in enumerate(inspectors)
        if i != principal.user_id and i not in allowed
    ]
    if errors:
        raise ValidationFailed(errors=errors)


def _check_kind(session: Session, principal: Principal, data: dict, enterprise) -> list[uuid.UUID]:
    """Who may record which kind, and whom it may name: a 企业自查 or 网格员巡查 the caller or people
    who may inspect the enterprise; enforcement kinds ≥2 inspectors with a valid 执法证, the recorder
    among them."""
    kind = data["kind"]
    inspectors = list(dict.fromkeys(data.get("inspectors") or []))
    if kind == "self":
        if not (principal.has("enterprise_officer") and principal.enterprise_id == enterprise.id):
            raise Forbidden("企业自查只能由本企业安全员记录", code="inspection.kind_not_allowed")
        _check_named(session, principal, kind, enterprise, inspectors)
        return inspectors or [principal.user_id]
    if principal.has("enterprise_officer") and not principal.has("grid_worker", "inspector", "desk_officer", "admin"):
        raise Forbidden("企业安全员只能记录企业自查", code="inspection.kind_not_allowed")
    if kind == "patrol_check":
        _check_named(session, principal, kind, enterprise, inspectors)
        return inspectors or [principal.user_id]
    if not principal.has("inspector"):
        raise Forbidden("执法检查须由持证执法人员记录", code="inspection.kind_not_allowed")
    if len(inspectors) < 2:
        raise ValidationFailed(
            errors=[FieldError("inspection.too_few_inspectors", "inspectors", "执法检查须有两名以上持执法证的执法人员")]
        )
    if principal.user_id not in inspectors:
        raise ValidationFailed(
            errors=[FieldError("inspection.recorder_not_on_team", "inspectors", "记录人须为检查组成员")]
        )
    on = local_date(data["started_at"])
    certified = set(session.scalars(select(User.id).where(User.id.in_(inspectors), certified_inspector(on))))
    errors = [
        FieldError("inspection.not_certified", f"inspectors.{n}", "不是持有效执法证的执法人员")
        for n, i in enumerate(inspectors)
        if i not in certified
    ]
    if errors:
        raise ValidationFailed(errors=errors)
    return inspectors


def _random_needs_draw() -> FieldError:
    return FieldError("inspection.random_needs_draw", "plan_id", "双随机检查须属于一次双随机抽取的检查计划")


def _check_plan(session: Session, principal: Principal, data: dict, enterprise) -> None:
    """The plan an inspection names: visible to the caller, naming its enterprise, of its kind; a
    双随机 inspection's plan must come from a draw."""
    if not data.get("plan_id"):
        if data["kind"] == "random":
            raise ValidationFailed(errors=[_random_needs_draw()])
        return
    plan = session.scalar(select(Plan).where(Plan.id == data["plan_id"], plan_filter(principal)))
    if plan is None:
        if session.get(Plan, data["plan_id"]) is None:
            raise UnknownReference(
                errors=[FieldError("sync.unknown_reference", "plan_id", "检查计划不存在（尚未同步）")]
            )
        raise NotFound("检查计划不存在", errors=[FieldError("not_found", "plan_id", "检查计划不存在")])
    errors = []
    if enterprise.id not in plan.enterprise_ids:
        errors.append(FieldError("inspection.not_in_plan", "enterprise_id", "该企业不在此检查计划中"))
    if plan.kind != data["kind"]:
        errors.append(FieldError("inspection.kind_mismatch", "kind", f"检查类型须与计划一致（{plan.kind}）"))
    elif plan.kind == "random" and plan.draw_id is None:
        errors.append(_random_needs_draw())
    if errors:
        raise ValidationFailed(errors=errors)


@dataclass
class CheckedInspection:
    """A new inspection that has passed every rule (``check_inspection``), scored, ready to store."""

    id: uuid.UUID
    data: dict
    digest: str
    enterprise: object  # Enterprise, or a row with its id, region_id, grid_id, industry, subtype
    inspectors: list[uuid.UUID]
    template: object
    result: object  # checklists.scoring.ScoreResult
    provenance: Provenance
    fence: dict | None = None  # enterprises.geofence.check's answer for the check-in location

    @property
    def hazard_ids(self) -> list[uuid.UUID]:
        return [hazard_id_for(self.id, draft.item) for draft in self.result.hazards]


def check_inspection(
    session: Session,
    principal: Principal,
    inspection_id: uuid.UUID,
    data: dict,
    *,
    digest: str,
    enterprise,
    provenance: Provenance,
    template_for=template_for_inspection,
) -> CheckedInspection:
    """THE rules of a new inspection of a visible ``enterprise``, in the order they are judged (the kind and
    the people it names, the plan, what it supersedes, the checklist), then its score: raises the
    domain error of the first rule it fails. ``template_for(session, code, version)`` finds the checklist
    version (a batch passes one that remembers what it has found)."""
    inspectors = _check_kind(session, principal, data, enterprise)
    _check_plan(session, principal, data, enterprise)
    if data.get("supersedes"):
        replaced = session.scalar(
            select(Inspection).where(Inspection.id == data["supersedes"], inspection_filter(principal))
        )
        if replaced is None or replaced.enterprise_id != enterprise.id:
            raise ValidationFailed(
                errors=[FieldError("inspection.bad_supersedes", "supersedes", "被更正的检查记录不存在或不属于该企业")]
            )
    template = template_for(session, data["checklist"]["code"], data["checklist"]["version"])
    if template.industry != enterprise.industry or enterprise.subtype not in template.subtypes:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "inspection.checklist_not_applicable",
                    "checklist.code",
                    f"检查表 {template.code} 不适用于该企业（{enterprise.industry}/{enterprise.subtype}）",
                )
            ]
        )
    result = score(template, data["answers"], subtype=enterprise.subtype, loaded=True)  # by InspectionData
    return CheckedInspection(inspection_id, data, digest, enterprise, inspectors, template, result, provenance)


def record_inspection(
    session: Session,
    clock: Clock,
    principal: Principal,
    inspection_id: uuid.UUID,
    data: dict,
    *,
    geofence_m: float,
    provenance: Provenance = Provenance(),
) -> Recorded:
    """Store one inspection and raise a hazard (id ``uuid5(inspection_id, item)``) per failed item: a
    batch of one of ``store_inspections``.

    Append-only: re-sending the same content is harmless; other content under the same id is refused."""
    digest = canonical_hash(data)
    existing = session.get(Inspection, inspection_id)
    if existing is not None:
        check_not_reused(existing, digest, "检查", author=existing.recorded_by, caller=principal.user_id)
        return Recorded(existing, created=False, derived=_derived(existing))
    enterprise = visible_enterprise(session, principal, data["enterprise_id"], "enterprise_id")
    checked = check_inspection(
        session, principal, inspection_id, data, digest=digest, enterprise=enterprise, provenance=provenance
    )
    location = data.get("location")
    checked.fence = (
        geofence_check(session, enterprise.id, location["lon"], location["lat"], geofence_m) if location else None
    )
    recorded = store_inspections(session, clock, principal, [checked])[0]
    recorded.record = session.get(Inspection, inspection_id)  # the stored row, for callers that read it
    return recorded


# Kinds a batch leaves to ``record_inspection`` one by one: a recheck reads and moves the hazards of its
# enterprise, which earlier changes of the same batch may have moved.
ONE_BY_ONE_KINDS = ("recheck",)


def check_inspections(
    session: Session, principal: Principal, items: list[tuple[uuid.UUID, dict, Provenance]], *, geofence_m: float
) -> list[CheckedInspection | None]:
    """``check_inspection`` for a batch of new inspections, with what each reads per record (is the id
    taken, the enterprise in scope, the checklist, the check-in's distance, a derived hazard's id taken)
    read for all of them in a handful of queries. None for every inspection this cannot store as it
    stands — its id is taken, it fails a rule, it supersedes another or is a recheck — which the
    caller records one by one with ``record_inspection``, whose answer is then exactly its own."""
    if not items:
        return []
    ids = [i for i, _, _ in items]
    taken = set(session.scalars(select(Inspection.id).where(Inspection.id.in_(ids))))
    wanted = list({d["enterprise_id"] for _, d, _ in items})
    enterprises = {
        e.id: e
        for e in session.execute(
            select(
                Enterprise.id, Enterprise.region_id, Enterprise.grid_id, Enterprise.industry, Enterprise.subtype
            ).where(Enterprise.id.in_(wanted), principal.enterprise_filter(Enterprise))
        )
    }
    templates: dict[tuple[str, int], object] = {}

    def template_for(session, code, version):
        if (code, version) not in templates:
            templates[code, version] = template_for_inspection(session, code, version)
        return templates[code, version]

    out: list[CheckedInspection | None] = []
    for inspection_id, data, provenance in items:
        enterprise = enterprises.get(data["enterprise_id"])
        if inspection_id in taken or enterprise is None or data.get("supersedes") or data["kind"] in ONE_BY_ONE_KINDS:
            out.append(None)
            continue
        try:
            out.append(
                check_inspection(
                    session,
                    principal,
                    inspection_id,
                    data,
                    digest=canonical_hash(data),
                    enterprise=enterprise,
                    provenance=provenance,
                    template_for=template_for,
                )
            )
        except DomainError:
            out.append(None)
    checked = [c for c in out if c is not None]
    hazards_taken = (
        set(session.scalars(select(Hazard.id).where(Hazard.id.in_([h for c in checked for h in c.hazard_ids]))))
        if any(c.result.hazards for c in checked)
        else set()
    )
    located = [c for c in checked if c.data.get("location")]
    fences = _fences(session, located, geofence_m)
    for n, c in enumerate(out):
        if c is None:
            continue
        if hazards_taken.intersection(c.hazard_ids):
            out[n] = None  # the insert would fail on the hazard's key: answered one by one
        elif c.data.get("location"):
            c.fence = fences.get(c.id)
            if c.fence is None:  # the enterprise has no location: geofence_check's answer
                out[n] = None
    return out


def _fences(session: Session, checked: list[CheckedInspection], geofence_m: float) -> dict[uuid.UUID, dict]:
    """``enterprises.geofence.check`` of every check-in in one statement (the same distance)."""
    if not checked:
        return {}
    rows = [
        {
            "id": str(c.id),
            "enterprise_id": str(c.enterprise.id),
            "lon": c.data["location"]["lon"],
            "lat": c.data["location"]["lat"],
        }
        for c in checked
    ]
    found = session.execute(
        text("""
        SELECT v.id, ST_Distance(Geography(e.location), Geography(ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)))
          FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(id uuid, enterprise_id uuid, lon float8, lat float8)
          JOIN enterprises e ON e.id = v.enterprise_id"""),
        {"rows": json.dumps(rows)},
    )
    return {
        i: {"distance_m": d, "within": d <= geofence_m, "threshold_m": geofence_m} for i, d in found if d is not None
    }


def store_inspections(
    session: Session, clock: Clock, principal: Principal, checked: list[CheckedInspection]
) -> list[Recorded]:
    """Insert checked inspections with the hazards of their failed items (and their ``report`` events),
    their photo references and audit rows: one statement per table for the whole list."""
    if not checked:
        return []
    session.execute(insert(Inspection), [_inspection_values(clock, principal, c) for c in checked])
    hazard_rows, event_rows, named, audits, derived = [], [], [], [], []
    for c in checked:
        data, enterprise, location = c.data, c.enterprise, c.data.get("location")
        again: set[str] = set()
        if data["kind"] == "recheck":
            inspection = session.get(Inspection, c.id)
            inspection.rechecked = apply_recheck(session, clock, principal, inspection, c.provenance)
            # a recheck found its open hazard still there: no second hazard for the item
            again = _failed_again(inspection)
        found_at = data.get("finished_at") or data["started_at"]
        all_photos = list(data.get("photos") or []) + [p for a in data["answers"] for p in (a.get("photos") or [])]
        named.append(("inspection", c.id, all_photos))
        raised = []
        for draft in c.result.hazards:
            if draft.item in again:
                continue
            hazard_id = hazard_id_for(c.id, draft.item)
            hazard, event = new_hazard_values(
                clock,
                principal,
                hazard_id,
                enterprise_id=enterprise.id,
                region_id=enterprise.region_id,
                grid_id=enterprise.grid_id,
                level=draft.level,
                description=draft.description,
                location=location,
                photos=list(draft.photos),
                found_at=found_at,
                digest=c.digest,
                provenance=c.provenance,
                source=INSPECTION_SOURCES.get(data["kind"], "inspection"),
                inspection_id=c.id,
                item_code=draft.item,
            )
            hazard_rows.append(hazard)
            event_rows.append(event)
            named.append(("hazard", hazard_id, list(draft.photos)))
            raised.append({"entity": "hazard", "id": str(hazard_id)})
        derived.append(raised)
        audits.append(
            audit_entry(
                clock,
                principal,
                "record",
                "inspection",
                c.id,
                {
                    "kind": data["kind"],
                    "failed": len(c.result.failed),
                    "major_failed": c.result.major_failed,
                    "outside_geofence": (not c.fence["within"]) if c.fence else None,
                },
            )
        )
    if hazard_rows:
        session.execute(insert(Hazard), hazard_rows)
        session.execute(insert(HazardEvent), event_rows)
    missing = name_photos_many(session, clock, principal, named)
    record_many(session, audits)
    out, at = [], 0
    for c, raised in zip(checked, derived):
        own = set()
        for _ in range(1 + len(raised)):  # the inspection's photos, then each raised hazard's
            own.update(missing[at])
            at += 1
        out.append(Recorded(Inserted(c.id), created=True, derived=raised, missing_photos=sorted(own)))
    return out


def _inspection_values(clock: Clock, principal: Principal, c: CheckedInspection) -> dict:
    data, enterprise, template, result, fence = c.data, c.enterprise, c.template, c.result, c.fence
    location, provenance = data.get("location"), c.provenance
    return dict(
        id=c.id,
        enterprise_id=enterprise.id,
        kind=data["kind"],
        plan_id=data.get("plan_id"),
        checklist_code=template.code,
        checklist_version=template.version,
        inspector_ids=c.inspectors,
        started_at=data["started_at"],
        finished_at=data.get("finished_at"),
        location=point_geometry(location),
        location_accuracy_m=location.get("accuracy_m") if location else None,
        location_given=location.get("given") if location else None,
        distance_m=fence["distance_m"] if fence else None,
        outside_geofence=(not fence["within"]) if fence else None,
        answers=data["answers"],  # AnswerIn's output: JSON values as the body gave them, no copy needed
        outcomes=[o.as_dict() for o in result.outcomes],
        summary=jsonable(result.summary.as_dict()) | {"major_failed": result.major_failed},
        photos=list(data.get("photos") or []),
        remarks=data.get("remarks") or "",
        supersedes=data.get("supersedes"),
        region_id=enterprise.region_id,
        grid_id=enterprise.grid_id,
        recorded_by=principal.user_id,
        device_id=provenance.device_id,
        recorded_at=provenance.recorded_at,
        recorded_at_corrected=provenance.recorded_at_corrected,
        received_at=clock.now(),
        content_hash=c.digest,
    )


def _failed_again(inspection: Inspection) -> set[str]:
    return {entry["item"] for entry in inspection.rechecked if entry["result"] == "fail"}


def _derived(inspection: Inspection) -> list[dict]:
    """The hazards the inspection raised: its failed items, but those a recheck found still open."""
    again = _failed_again(inspection)
    return [
        {"entity": "hazard", "id": str(hazard_id_for(inspection.id, o["item"]))}
        for o in inspection.outcomes
        if o["outcome"] == "fail" and o["item"] not in again
    ]


def inspection_view(session: Session, principal: Principal, inspection_id: uuid.UUID) -> dict:
    row = session.execute(
        select(Inspection, func.ST_X(Inspection.location), func.ST_Y(Inspection.location)).where(
            Inspection.id == inspection_id, inspection_filter(principal)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("检查记录不存在")
    inspection, lon, lat = row
    return {
        "id": inspection.id,
        "enterprise_id": inspection.enterprise_id,
        "kind": inspection.kind,
        "plan_id": inspection.plan_id,
        "checklist": {"code": inspection.checklist_code, "version": inspection.checklist_version},
        "inspectors": inspection.inspector_ids,
        "started_at": inspection.started_at,
        "finished_at": inspection.finished_at,
        "location": {"lon": lon, "lat": lat, "accuracy_m": inspection.location_accuracy_m} if lon is not None else None,
        "distance_m": inspection.distance_m,
        "outside_geofence": inspection.outside_geofence,
        "answers": inspection.answers,
        "outcomes": inspection.outcomes,
        "summary": inspection.summary,
        "rechecked": inspection.rechecked,
        "photos": inspection.photos,
        "remarks": inspection.remarks,
        "supersedes": inspection.supersedes,
        "recorded_by": inspection.recorded_by,
        "received_at": inspection.received_at,
        "people": people_refs(session, [*inspection.inspector_ids, inspection.recorded_by]),
        "version": inspection.version,
        "derived": _derived(inspection),
    }


# --------------------------------------------------------------------------- patrols

# What counts as patrolled (巡查到位), THE rule every count of patrols uses (monthly figures, patrol
# coverage, the ranking of towns): a visit of a patrol no later record supersedes, or a 网格员巡查
# (patrol_check) inspection no later one supersedes, recorded WITHIN the geofence of the enterprise.
# Beyond it, or without a position, the record is kept and flagged (``outside_geofence`` true / NULL)
# but proves nothing. Rows: (enterprise_id, at).
PATROLLED_SQL = """
    SELECT pv.enterprise_id, pv.at
      FROM patrol_visits pv JOIN patrols p ON p.id = pv.patrol_id
     WHERE pv.outside_geofence IS FALSE
       AND NOT EXISTS (SELECT 1 FROM patrols c WHERE c.supersedes = p.id)
    UNION ALL
    SELECT i.enterprise_id, i.started_at
      FROM inspections i
     WHERE i.kind = 'patrol_check' AND i.outside_geofence IS FALSE
       AND NOT EXISTS (SELECT 1 FROM inspections c WHERE c.supersedes = i.id)
"""


def patrol_filter(principal: Principal, patrol=Patrol):
    """Patrols a caller may read: their own, and those of grids in their scope."""
    return or_(
        patrol.worker_id == principal.user_id, patrol.grid_id.in_(select(Grid.id).where(principal.grid_filter(Grid)))
    )


@dataclass
class CheckedPatrol:
    """A new patrol that has passed every rule, ready to store."""

    id: uuid.UUID
    data: dict
    digest: str
    provenance: Provenance


def record_patrol(
    session: Session,
    clock: Clock,
    principal: Principal,
    patrol_id: uuid.UUID,
    data: dict,
    *,
    geofence_m: float,
    provenance: Provenance = Provenance(),
) -> Recorded:
    """A grid worker's patrol of a grid assigned to them: track and visits with their outcomes, each
    visit flagged when recorded farther than ``geofence_m`` from its enterprise. A batch of one of
    ``store_patrols``."""
    if not principal.has("grid_worker"):
        raise Forbidden("只有网格员可以记录巡查", code="patrol.not_a_grid_worker")
    digest = canonical_hash(data)
    existing = session.get(Patrol, patrol_id)
    if existing is not None:
        check_not_reused(existing, digest, "巡查", author=existing.worker_id, caller=principal.user_id)
        return Recorded(existing, created=False)
    if data["grid_id"] not in set(session.scalars(principal.assigned_grid_ids())):
        raise ValidationFailed(errors=[FieldError("patrol.grid_not_assigned", "grid_id", "该网格未分配给您")])
    _check_visited(session, principal, [visit["enterprise_id"] for visit in data["visits"]])
    recorded = store_patrols(
        session, clock, principal, [CheckedPatrol(patrol_id, data, digest, provenance)], geofence_m=geofence_m
    )[0]
    recorded.record = session.get(Patrol, patrol_id)  # the stored row, for callers that read it
    return recorded


def check_patrols(
    session: Session, principal: Principal, items: list[tuple[uuid.UUID, dict, Provenance]]
) -> list[CheckedPatrol | None]:
    """The rules of ``record_patrol`` for a batch, in three queries (ids taken, the caller's grids, the
    visited enterprises in scope). None for each patrol this cannot store as it stands (its id is
    taken, or a rule refuses it): the caller records those one by one with ``record_patrol``."""
    if not items or not principal.has("grid_worker"):
        return [None] * len(items)
    taken = set(session.scalars(select(Patrol.id).where(Patrol.id.in_([i for i, _, _ in items]))))
    assigned = set(session.scalars(principal.assigned_grid_ids()))
    visible = _visible_enterprise_ids(
        session, principal, [v["enterprise_id"] for _, d, _ in items for v in d["visits"]]
    )
    return [
        CheckedPatrol(i, d, canonical_hash(d), p)
        if i not in taken and d["grid_id"] in assigned and all(v["enterprise_id"] in visible for v in d["visits"])
        else None
        for i, d, p in items
    ]


def store_patrols(
    session: Session, clock: Clock, principal: Principal, checked: list[CheckedPatrol], *, geofence_m: float
) -> list[Recorded]:
    """Insert checked patrols, their visits, photo references and audit rows: one statement per table."""
    if not checked:
        return []
    tracks = [c.data.get("track") for c in checked]
    lines = line_geometries([(t["coordinates"], t["crs"]) if t else None for t in tracks])
    session.execute(insert(Patrol), [_patrol_values(clock, principal, c, line) for c, line in zip(checked, lines)])
    _insert_visits(session, [(c.id, c.data["visits"]) for c in checked], geofence_m)
    missing = name_photos_many(
        session,
        clock,
        principal,
        [("patrol", c.id, [p for visit in c.data["visits"] for p in visit["photos"]]) for c in checked],
    )
    record_many(
        session,
        [audit_entry(clock, principal, "record", "patrol", c.id, {"visits": len(c.data["visits"])}) for c in checked],
    )
    return [Recorded(Inserted(c.id), created=True, missing_photos=m) for c, m in zip(checked, missing)]


def _patrol_values(clock: Clock, principal: Principal, c: CheckedPatrol, track_line) -> dict:
    """The patrol's row; ``track_line`` is its track's stored line (:func:`geo.location.line_geometries`)."""
    data, provenance = c.data, c.provenance
    track = data.get("track")
    return dict(
        id=c.id,
        grid_id=data["grid_id"],
        worker_id=principal.user_id,
        started_at=data["started_at"],
        ended_at=data.get("ended_at"),
        track=track_line,
        track_times=[t.isoformat() for t in track["times"]] if track and track.get("times") else None,
        notes=data.get("notes") or "",
        photos=[],
        supersedes=data.get("supersedes"),
        device_id=provenance.device_id,
        recorded_at=provenance.recorded_at,
        recorded_at_corrected=provenance.recorded_at_corrected,
        received_at=clock.now(),
        content_hash=c.digest,
    )


def _visible_enterprise_ids(session: Session, principal: Principal, enterprise_ids: list[uuid.UUID]) -> set:
    if not enterprise_ids:
        return set()
    return set(
        session.scalars(
            select(Enterprise.id).where(Enterprise.id.in_(set(enterprise_ids)), principal.enterprise_filter(Enterprise))
        )
    )


def _check_visited(session: Session, principal: Principal, enterprise_ids: list[uuid.UUID]) -> None:
    """Every visited enterprise must be in the worker's scope: one query for all of them; only the
    ones it does not find are looked at again, to tell "not synced yet" (retryable) from "not yours"."""
    visible = _visible_enterprise_ids(session, principal, enterprise_ids)
    errors = []
    for n, enterprise_id in enumerate(enterprise_ids):
        if enterprise_id in visible:
            continue
        try:
            visible_enterprise(session, principal, enterprise_id, f"visits.{n}.enterprise_id")
        except NotFound as err:  # an unknown enterprise (retryable) propagates as it is
            errors.extend(err.errors)
    if errors:
        raise ValidationFailed(errors=errors)


def _insert_visits(session: Session, visits_of: list[tuple[uuid.UUID, list[dict]]], geofence_m: float) -> None:
    """The visits of patrols in one statement, each with its distance (geography, metres) to the
    enterprise computed where the enterprise's location is and whether that lies beyond the geofence
    (as :func:`enterprises.geofence.check` judges a check-in), in the order the phone sent them."""
    rows = [
        {
            "patrol_id": str(patrol_id),
            "enterprise_id": str(v["enterprise_id"]),
            "at": v["at"].isoformat(),
            "lon": (v.get("location") or {}).get("lon"),
            "lat": (v.get("location") or {}).get("lat"),
            "outcome": v["outcome"],
            "note": v.get("note") or "",
            "photos": list(v["photos"]),
        }
        for patrol_id, visits in visits_of
        for v in visits
    ]
    if not rows:
        return
    session.execute(
        text("""
        INSERT INTO patrol_visits (patrol_id, enterprise_id, at, location, distance_m, outside_geofence, outcome,
                                   note, photos)
        SELECT v.patrol_id, v.enterprise_id, v.at, place.point, fence.distance_m, fence.distance_m > :geofence_m,
               v.outcome, v.note, v.photos
          FROM ROWS FROM (jsonb_to_recordset(CAST(:visits AS jsonb))
                          AS (patrol_id uuid, enterprise_id uuid, at timestamptz, lon float8, lat float8,
                              outcome text, note text, photos text[])) WITH ORDINALITY
               AS v(patrol_id, enterprise_id, at, lon, lat, outcome, note, photos, n)
          JOIN enterprises AS e ON e.id = v.enterprise_id
          CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) AS point) AS place
          CROSS JOIN LATERAL (SELECT ST_Distance(Geography(e.location), Geography(place.point)) AS distance_m) AS fence
         ORDER BY v.n"""),
        {"visits": json.dumps(rows, ensure_ascii=False), "geofence_m": geofence_m},
    )


def patrol_view(session: Session, principal: Principal, patrol_id: uuid.UUID) -> dict:
    from sqlalchemy import cast
    from sqlalchemy.dialects.postgresql import JSONB

    row = session.execute(
        select(Patrol, cast(func.ST_AsGeoJSON(Patrol.track), JSONB)).where(
            Patrol.id == patrol_id, patrol_filter(principal)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("巡查记录不存在")
    patrol, track = row
    if track is not None and patrol.track_times is not None:
        # A foreign member of the GeoJSON LineString, point by point; stored with the offsets the phone sent.
        track["times"] = [shown(datetime.fromisoformat(t)) for t in patrol.track_times]
    visits = session.execute(
        select(PatrolVisit).where(PatrolVisit.patrol_id == patrol.id).order_by(PatrolVisit.at)
    ).scalars()
    return {
        "id": patrol.id,
        "grid_id": patrol.grid_id,
        "worker_id": patrol.worker_id,
        "started_at": patrol.started_at,
        "ended_at": patrol.ended_at,
        "track": track,
        "notes": patrol.notes,
        "version": patrol.version,
        "people": people_refs(session, [patrol.worker_id]),
        "visits": [
            {
                "enterprise_id": str(v.enterprise_id),
                "at": shown(v.at),
                "outcome": v.outcome,
                "distance_m": v.distance_m,
                "outside_geofence": v.outside_geofence,
                "note": v.note,
                "photos": v.photos,
            }
            for v in visits
        ],
    }
