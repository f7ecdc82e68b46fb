"""隐患闭环: hazards, their state machine, and the ledger (隐患台账).

reported → ordered (责令限期整改) → submitted (整改完成申请) → closed (复查销号), or back to ordered
(复查不通过); 挂牌督办 marks a major hazard without moving it. 自查自报自改: a general hazard the
enterprise found itself is closed by its own officer with evidence (``self_fix``, reported → closed),
and an inspector's spot check (抽查) of such a closure confirms it (``spot_check``) or reopens it to
ordered (``reopen``); a major one (自报) goes through the official loop and is never self-closed. Overdue is derived from the clock
(ordered and past the deadline), never a stored flag. Every transition is one ``hazard_events`` row
and bumps ``version``; a stale ``base_version`` or a move from the wrong state is a conflict that
carries the current hazard."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, asc, desc, func, insert, select, text
from sqlalchemy.orm import Session

from accounts.people import people_refs
from accounts.principal import Principal
from audit.service import entry as audit_entry, record as audit, record_many
from core.serialize import jsonable
from core.clock import Clock
from core.errors import Conflict, FieldError, Forbidden, NotFound, UnknownRecord, UnknownReference, ValidationFailed
from core.times import shown
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from geo.models import Region
from inspections.models import HAZARD_LEVELS, HAZARD_SOURCES, Hazard, HazardEvent, Inspection
from geo.location import point_geometry
from inspections.records import Inserted, Provenance, Recorded, canonical_hash, check_not_reused
from evidence.service import name_photos, name_photos_many

OFFICERS = ("inspector", "desk_officer", "admin")


@dataclass
class Step:
    """One lifecycle step being checked: what its rule's ``changes`` reads, and where it adds refusals."""

    session: Session
    principal: Principal
    hazard: Hazard
    data: dict
    now: datetime
    errors: list[FieldError]

    @property
    def major(self) -> bool:
        return self.hazard.level == "major"


def _order_changes(step: Step) -> dict:
    """责令整改 (and 抽查不合格 reopening): the order's fields; 五落实 for a major hazard."""
    data, hazard = step.data, step.hazard
    if step.major:
        require_fields(data, ("five",), step.errors)
    if data.get("deadline") and data["deadline"] <= hazard.found_at:
        step.errors.append(FieldError("validation", "deadline", "整改期限须晚于发现时间"))
    changes = {k: data.get(k) for k in ("deadline", "responsible_person", "measures", "five")}
    # SYNC_PROTOCOL.md §2 names only `five` for a major hazard; the 治理方案 summary is optional on
    # the wire and defaults to the 五落实 measures, so a phone built from the contract alone can order.
    changes["treatment_plan"] = data.get("treatment_plan") or (data.get("five") or {}).get("measures")
    return changes


def _reopen_changes(step: Step) -> dict:
    """抽查不合格: back into the official loop, no longer a 自改 closure."""
    return _order_changes(step) | {"self_fixed": False, "closed_at": None, "closed_by": None, "rechecked_at": step.now}


def _submit_changes(step: Step) -> dict:
    return {"submitted_by": step.principal.user_id, "submitted_at": step.now}


def _self_fix_changes(step: Step) -> dict:
    return {
        "self_fixed": True,
        "submitted_by": step.principal.user_id,
        "submitted_at": step.now,
        "closed_at": step.now,
        "closed_by": step.principal.user_id,
    }


def _spot_check_changes(step: Step) -> dict:
    return {"rechecked_at": step.now}


def _verify_changes(step: Step) -> dict:
    """复查销号: never by the one who submitted; a major hazard only through a recheck that holds."""
    if step.hazard.submitted_by == step.principal.user_id:
        raise VerifierIsSubmitter()
    if step.major:
        require_fields(step.data, ("recheck_inspection_id",), step.errors)
    if step.data.get("recheck_inspection_id"):
        _check_recheck(step.session, step.hazard, step.data["recheck_inspection_id"], step.errors)
    return {"closed_at": step.now, "closed_by": step.principal.user_id, "rechecked_at": step.now}


def _reject_changes(step: Step) -> dict:
    return ({"deadline": step.data["deadline"]} if step.data.get("deadline") else {}) | {"rechecked_at": step.now}


def _supervise_changes(step: Step) -> dict:
    """挂牌督办: major hazards only."""
    if not step.major:
        step.errors.append(FieldError("hazard.not_major", "action", "挂牌督办仅适用于重大事故隐患"))
    return {"supervised": True, "supervising_office": step.data.get("office")}


@dataclass(frozen=True)
class Rule:
    """One action of the hazard lifecycle: from which states, to which (None: status unchanged), by whom,
    for which hazards, the fields it needs, and its own checks and changes (``changes(step)``)."""

    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    changes: Callable[[Step], dict]
    levels: tuple[str, ...] = HAZARD_LEVELS
    found_by: tuple[str, ...] = HAZARD_SOURCES  # the hazard's ``source``
    self_fixed: bool | None = None  # None: either; True: only a hazard the enterprise closed itself
    needs: tuple[str, ...] = ()
    refusal: str = "此隐患不适用该操作"  # when the hazard's level or source does not fit


SPOT_CHECKERS = ("inspector", "admin")
ORDER_NEEDS = ("deadline", "responsible_person", "measures")

TRANSITIONS = {
    "order": Rule(("reported",), "ordered", OFFICERS, _order_changes, needs=ORDER_NEEDS),
    "submit": Rule(
        ("ordered",),
        "submitted",
        ("enterprise_officer", "grid_worker") + OFFICERS,
        _submit_changes,
        needs=("photos", "note"),
    ),
    "verify": Rule(("submitted",), "closed", OFFICERS, _verify_changes),
    "reject": Rule(("submitted",), "ordered", OFFICERS, _reject_changes, needs=("note",)),
    "supervise": Rule(
        ("reported", "ordered", "submitted"), None, ("desk_officer", "admin"), _supervise_changes, needs=("office",)
    ),
    # 自改: only the enterprise's own officer, only a general hazard the enterprise found itself.
    "self_fix": Rule(
        ("reported",),
        "closed",
        ("enterprise_officer",),
        _self_fix_changes,
        levels=("general",),
        found_by=("self",),
        needs=("photos", "note"),
        refusal="重大事故隐患或非企业自查发现的隐患须经责令整改、复查销号",
    ),
    # 抽查 of a 自改 closure: confirmed as it stands, or reopened to 责令整改 with a deadline.
    "spot_check": Rule(("closed",), None, SPOT_CHECKERS, _spot_check_changes, self_fixed=True, needs=("note",)),
    "reopen": Rule(
        ("closed",), "ordered", SPOT_CHECKERS, _reopen_changes, self_fixed=True, needs=("note",) + ORDER_NEEDS
    ),
}


class InvalidTransition(Conflict):
    code = "hazard.invalid_transition"
    title = "隐患当前状态不允许此操作"


class StaleVersion(Conflict):
    code = "hazard.stale_version"
    title = "隐患已被他人更新，请以最新版本为准"


class NotSelfFixable(Forbidden):
    code = "hazard.not_self_fixable"
    title = "此隐患不能由企业自行整改销号"


class VerifierIsSubmitter(Forbidden):
    code = "hazard.verifier_is_submitter"
    title = "整改申请人不能复查销号本人提交的整改"


def overdue_expr(now: datetime) -> ColumnElement[bool]:
    return and_(Hazard.status == "ordered", Hazard.deadline < now)


def hazard_filter(principal: Principal, hazard=Hazard) -> ColumnElement[bool]:
    return principal.area_filter(region_id=hazard.region_id, grid_id=hazard.grid_id, enterprise_id=hazard.enterprise_id)


# --------------------------------------------------------------------------- creation


def place_of(session: Session, enterprise: Enterprise | None, location: dict | None) -> tuple:
    """(region_id, grid_id) of a hazard: its enterprise's, or where its location falls."""
    if enterprise is not None:
        return enterprise.region_id, enterprise.grid_id
    row = session.execute(
        text("""
        SELECT (SELECT id FROM regions WHERE level = 'village' AND ST_Covers(geometry, p.g) ORDER BY code LIMIT 1),
               (SELECT id FROM grids WHERE retired_at IS NULL AND ST_Covers(geometry, p.g)
                 ORDER BY created_at, id LIMIT 1)
          FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g) p"""),
        {"lon": location["lon"], "lat": location["lat"]},
    ).one()
    return row[0], row[1]


def new_hazard_values(
    clock: Clock,
    principal: Principal,
    hazard_id: uuid.UUID,
    *,
    enterprise_id,
    region_id,
    grid_id,
    level: str,
    description: str,
    location: dict | None,
    photos: list[str],
    found_at: datetime,
    digest: str,
    provenance: Provenance,
    source: str,
    inspection_id=None,
    item_code=None,
) -> tuple[dict, dict]:
    """The row of a new hazard and of its ``report`` event: what ``store_reports`` and ``store_inspections``
    (for the failed items of inspections) insert."""
    now = clock.now()
    hazard = dict(
        id=hazard_id,
        enterprise_id=enterprise_id,
        inspection_id=inspection_id,
        item_code=item_code,
        level=level,
        description=description,
        location=point_geometry(location),
        photos=list(photos),
        status="reported",
        source=source,
        found_at=found_at,
        found_by=principal.user_id,
        region_id=region_id,
        grid_id=grid_id,
        content_hash=digest,
        recorded_at=provenance.recorded_at,
        recorded_at_corrected=provenance.recorded_at_corrected,
        created_at=now,
        updated_at=now,
        version=1,
    )
    event = dict(
        hazard_id=hazard_id,
        action="report",
        from_status=None,
        to_status="reported",
        version=1,
        actor_id=principal.user_id,
        device_id=provenance.device_id,
        at=now,
        recorded_at=provenance.recorded_at,
        recorded_at_corrected=provenance.recorded_at_corrected,
        location=point_geometry(location),
        photos=list(photos),
        note="",
        data={
            "level": level,
            "source": source,
            "inspection_id": str(inspection_id) if inspection_id else None,
            "item": item_code,
        },
    )
    return hazard, event


def report_source(principal: Principal) -> str:
    """Who found a freely reported hazard, by the reporter's roles (an officer's first)."""
    if principal.has(*OFFICERS):
        return "inspection"
    return "grid_report" if principal.has("grid_worker") else "self"


@dataclass
class CheckedReport:
    """A freely reported hazard that has passed every rule (``report_hazard``), placed, ready to store."""

    id: uuid.UUID
    data: dict
    digest: str
    enterprise_id: uuid.UUID | None
    region_id: uuid.UUID | None
    grid_id: uuid.UUID | None
    source: str
    provenance: Provenance


def _check_reporter(principal: Principal, data: dict) -> str:
    """Who may report, and an enterprise officer only at their own enterprise: the hazard's ``source``."""
    if not principal.has("grid_worker", "enterprise_officer", *OFFICERS):
        raise Forbidden("只有网格员、执法人员、内勤或企业安全员可以上报隐患")
    source = report_source(principal)
    if source == "self" and data.get("enterprise_id") != principal.enterprise_id:
        raise ValidationFailed(
            errors=[FieldError("scope.not_own_enterprise", "enterprise_id", "企业安全员只能上报本企业的隐患")]
        )
    return source


def report_hazard(
    session: Session,
    clock: Clock,
    principal: Principal,
    hazard_id: uuid.UUID,
    data: dict,
    provenance: Provenance = Provenance(),
) -> Recorded:
    """A hazard reported outside an inspection (随手拍): by grid workers, inspectors, officers, and
    by an enterprise officer of its own enterprise (自查自报). A batch of one of ``store_reports``."""
    source = _check_reporter(principal, data)
    digest = canonical_hash(data)
    existing = session.get(Hazard, hazard_id)
    if existing is not None:
        check_not_reused(existing, digest, "隐患", author=existing.found_by, caller=principal.user_id)
        return Recorded(existing, created=False)
    enterprise = None
    if data.get("enterprise_id"):
        enterprise = visible_enterprise(session, principal, data["enterprise_id"], "enterprise_id")
    region_id, grid_id = place_of(session, enterprise, data.get("location"))
    checked = CheckedReport(
        hazard_id, data, digest, enterprise.id if enterprise else None, region_id, grid_id, source, provenance
    )
    recorded = store_reports(session, clock, principal, [checked])[0]
    if enterprise is None and not session.scalar(
        select(func.count()).select_from(Hazard).where(Hazard.id == hazard_id, hazard_filter(principal))
    ):
        raise ValidationFailed(errors=[FieldError("scope.outside", "location", "位置不在您的辖区或网格内")])
    recorded.record = session.get(Hazard, hazard_id)  # the stored row, for callers that read it
    return recorded


def check_reports(
    session: Session, principal: Principal, items: list[tuple[uuid.UUID, dict, Provenance]]
) -> list[CheckedReport | None]:
    """``report_hazard``'s rules for a batch of hazards reported at an enterprise, in two queries (ids
    taken, the enterprises in scope). None for each one this cannot store as it stands — a rule refuses
    it, its id is taken, it names no enterprise (placing a bare location is a spatial query of its own)
    — which the caller reports one by one with ``report_hazard``, whose answer is then exactly its own."""
    if not items:
        return []
    ids = [i for i, _, _ in items]
    taken = set(session.scalars(select(Hazard.id).where(Hazard.id.in_(ids))))
    wanted = {d["enterprise_id"] for _, d, _ in items if d.get("enterprise_id")}
    enterprises = {
        e.id: e
        for e in session.execute(
            select(Enterprise.id, Enterprise.region_id, Enterprise.grid_id).where(
                Enterprise.id.in_(wanted), principal.enterprise_filter(Enterprise)
            )
        )
    }
    out: list[CheckedReport | None] = []
    for hazard_id, data, provenance in items:
        enterprise = enterprises.get(data.get("enterprise_id"))
        try:
            source = _check_reporter(principal, data)
        except (Forbidden, ValidationFailed):
            source = None
        if source is None or hazard_id in taken or enterprise is None:
            out.append(None)
            continue
        out.append(
            CheckedReport(
                hazard_id,
                data,
                canonical_hash(data),
                enterprise.id,
                enterprise.region_id,
                enterprise.grid_id,
                source,
                provenance,
            )
        )
    return out


def store_reports(session: Session, clock: Clock, principal: Principal, checked: list[CheckedReport]) -> list[Recorded]:
    """Insert checked reports with their ``report`` events, photo references and audit rows: one
    statement per table for the whole list."""
    if not checked:
        return []
    rows = [
        new_hazard_values(
            clock,
            principal,
            c.id,
            enterprise_id=c.enterprise_id,
            region_id=c.region_id,
            grid_id=c.grid_id,
            level=c.data["level"],
            description=c.data["description"],
            location=c.data.get("location"),
            photos=c.data["photos"],
            found_at=c.data["found_at"],
            digest=c.digest,
            provenance=c.provenance,
            source=c.source,
        )
        for c in checked
    ]
    session.execute(insert(Hazard), [hazard for hazard, _ in rows])
    session.execute(insert(HazardEvent), [event for _, event in rows])
    missing = name_photos_many(session, clock, principal, [("hazard", c.id, c.data["photos"]) for c in checked])
    record_many(
        session, [audit_entry(clock, principal, "report", "hazard", c.id, {"level": c.data["level"]}) for c in checked]
    )
    return [Recorded(Inserted(c.id), created=True, missing_photos=m) for c, m in zip(checked, missing)]


def visible_enterprise(session: Session, principal: Principal, enterprise_id: uuid.UUID, field: str) -> Enterprise:
    """The enterprise a record names: unknown here → retryable (it may not have synced yet); known
    but outside the caller's scope → not found (its existence is not revealed)."""
    enterprise = session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id, principal.enterprise_filter(Enterprise))
    )
    if enterprise is not None:
        return enterprise
    if session.get(Enterprise, enterprise_id) is None:
        raise UnknownReference(
            f"企业 {enterprise_id} 尚未登记",
            errors=[FieldError("sync.unknown_reference", field, "企业不存在（尚未登记）")],
        )
    raise NotFound(
        "企业不存在",
        code="scope.not_visible",
        errors=[FieldError("scope.not_visible", field, "企业不存在或不在您的辖区/网格内")],
    )


# --------------------------------------------------------------------------- transitions


def require_fields(data: dict, fields: tuple[str, ...], errors: list[FieldError]) -> None:
    """One ``validation`` error per field an action needs that ``data`` leaves empty."""
    for name in fields:
        value = data.get(name)
        if value is None or value == "" or value == []:
            errors.append(FieldError("validation", name, "此操作必须填写"))


def transition_hazard(
    session: Session,
    clock: Clock,
    principal: Principal,
    hazard_id: uuid.UUID,
    data: dict,
    *,
    base_version: int,
    provenance: Provenance = Provenance(),
) -> Hazard:
    """Apply one lifecycle step; the single place hazard status changes: lock the hazard, check the step
    against its rule (TRANSITIONS), apply the rule's changes, record the event."""
    hazard = _locked(session, principal, hazard_id)
    action = data["action"]
    rule = TRANSITIONS[action]
    now = clock.now()
    _check_step(session, clock, principal, hazard, rule, action, base_version)
    step = Step(session, principal, hazard, data, now, errors=[])
    require_fields(data, rule.needs, step.errors)
    changes = rule.changes(step)
    if step.errors:
        raise ValidationFailed(errors=step.errors)

    before = hazard.status
    for key, value in changes.items():
        setattr(hazard, key, value)
    if rule.target:
        hazard.status = rule.target
    hazard.version += 1
    hazard.updated_at = now
    session.add(
        HazardEvent(
            hazard_id=hazard.id,
            action=action,
            from_status=before,
            to_status=hazard.status,
            version=hazard.version,
            actor_id=principal.user_id,
            device_id=provenance.device_id,
            at=now,
            recorded_at=provenance.recorded_at,
            recorded_at_corrected=provenance.recorded_at_corrected,
            location=point_geometry(data.get("location")),
            photos=list(data.get("photos") or []),
            note=data.get("note") or "",
            change_hash=provenance.change_hash,
            data={
                k: (str(v) if isinstance(v, (datetime, uuid.UUID)) else v)
                for k, v in data.items()
                if k not in ("photos", "note", "location", "action") and v is not None
            },
        )
    )
    session.flush()
    name_photos(session, clock, principal, "hazard", hazard.id, list(data.get("photos") or []))
    audit(
        session,
        clock,
        principal,
        action,
        "hazard",
        hazard.id,
        {"from": before, "to": hazard.status, "version": hazard.version},
    )
    return hazard


def _locked(session: Session, principal: Principal, hazard_id: uuid.UUID) -> Hazard:
    hazard = session.scalar(
        select(Hazard).where(Hazard.id == hazard_id, hazard_filter(principal)).with_for_update(of=Hazard)
    )
    if hazard is None:
        # Not here yet, or not the caller's to see: one answer, so that existence is not revealed.
        raise UnknownRecord(
            f"隐患 {hazard_id} 不存在或尚未到达服务器",
            errors=[FieldError("sync.unknown_reference", "id", "隐患不存在（尚未同步）")],
        )
    return hazard


def _check_step(
    session: Session, clock: Clock, principal: Principal, hazard: Hazard, rule: Rule, action: str, base_version: int
) -> None:
    """What every step must pass, in this order: the role, the version, the state, the kind of hazard."""
    if not principal.has(*rule.roles):
        raise Forbidden("当前角色不能执行此操作", code="hazard.role_not_allowed")
    if base_version != hazard.version:
        raise StaleVersion(current=jsonable(hazard_view(session, clock, principal, hazard.id)))
    if hazard.status not in rule.sources or (rule.self_fixed is not None and hazard.self_fixed != rule.self_fixed):
        raise InvalidTransition(
            f"隐患状态为 {hazard.status}，不能执行 {action}",
            current=jsonable(hazard_view(session, clock, principal, hazard.id)),
        )
    if hazard.level not in rule.levels or hazard.source not in rule.found_by:
        raise NotSelfFixable(rule.refusal)


def _check_recheck(session: Session, hazard: Hazard, inspection_id: uuid.UUID, errors: list[FieldError]) -> None:
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise UnknownReference(
            "复查记录尚未到达服务器",
            errors=[FieldError("sync.unknown_reference", "recheck_inspection_id", "复查记录不存在（尚未同步）")],
        )
    refusal = recheck_refusal(session, hazard, inspection)
    if refusal is not None:
        errors.append(refusal)


# --------------------------------------------------------------------------- 复查 (recheck)


def _latest_submission(session: Session, hazard: Hazard) -> datetime | None:
    """When the latest rectification was submitted: the phone's time put on the server's clock when
    it came by sync, else the server's time."""
    return session.scalar(
        select(func.coalesce(HazardEvent.recorded_at_corrected, HazardEvent.at))
        .where(HazardEvent.hazard_id == hazard.id, HazardEvent.action == "submit")
        .order_by(HazardEvent.version.desc())
        .limit(1)
    )


def _rechecked_on_site(inspection: Inspection) -> datetime:
    """When a recheck began on site, put on the server's clock by the skew of the batch that brought it."""
    if inspection.recorded_at is not None and inspection.recorded_at_corrected is not None:
        return inspection.started_at + (inspection.recorded_at_corrected - inspection.recorded_at)
    return inspection.started_at


def recheck_refusal(session: Session, hazard: Hazard, inspection: Inspection) -> FieldError | None:
    """THE recheck rule (复查销号), for the verify transition and for recording a recheck: None when
    ``inspection`` may close ``hazard``, else why not. It must be a recheck (复查) of the hazard's own
    enterprise, begun on site after the latest submission (整改完成申请), and pass the hazard's
    checklist item (a hazard reported outside a checklist has no item: the recheck after the
    submission is the inspector's finding)."""
    field = "recheck_inspection_id"
    if inspection.kind != "recheck" or inspection.enterprise_id != hazard.enterprise_id:
        return FieldError("hazard.not_a_recheck", field, "须为对该企业的复查检查记录")
    submitted = _latest_submission(session, hazard)
    if submitted is None or _rechecked_on_site(inspection) <= submitted:
        return FieldError("hazard.recheck_before_submission", field, "复查须在最近一次整改完成申请之后进行")
    if hazard.item_code is not None:
        outcome = next((o["outcome"] for o in inspection.outcomes if o["item"] == hazard.item_code), None)
        if outcome == "fail":
            return FieldError("hazard.recheck_failed", field, f"复查判定条目 {hazard.item_code} 仍不合格")
        if outcome != "pass":
            return FieldError("hazard.recheck_not_passed", field, f"复查未判定条目 {hazard.item_code} 合格")
    return None


def apply_recheck(
    session: Session, clock: Clock, principal: Principal, inspection: Inspection, provenance: Provenance
) -> list[dict]:
    """What a recorded recheck does to the open hazards of its enterprise for the items it judged.

    A failed item with an open hazard raises no second hazard; when that hazard awaits verification
    and the recheck came after its submission, it goes back to 整改 (``reject``, the recheck named as
    the reason). A passed item changes nothing by itself: closing stays a ``verify`` naming the recheck.
    Returns one entry per hazard concerned (stored as the inspection's ``rechecked``)."""
    judged = {o["item"]: o["outcome"] for o in inspection.outcomes if o["outcome"] in ("pass", "fail")}
    if not judged:
        return []
    concerned = session.scalars(
        select(Hazard)
        .where(
            Hazard.enterprise_id == inspection.enterprise_id, Hazard.item_code.in_(judged), Hazard.status != "closed"
        )
        .order_by(Hazard.found_at, Hazard.id)
    )
    entries = []
    for hazard in concerned:
        result = judged[hazard.item_code]
        sent_back = False
        if result == "fail" and hazard.status == "submitted":
            refusal = recheck_refusal(session, hazard, inspection)
            if refusal is not None and refusal.code == "hazard.recheck_failed":
                # Not a change the phone pushed: no change hash, so it is never taken for a re-sent one.
                transition_hazard(
                    session,
                    clock,
                    principal,
                    hazard.id,
                    {
                        "action": "reject",
                        "note": f"复查不合格（复查记录 {inspection.id}）：{refusal.message}",
                        "recheck_inspection_id": inspection.id,
                    },
                    base_version=hazard.version,
                    provenance=replace(provenance, change_hash=None),
                )
                sent_back = True
        entries.append(
            {"hazard_id": str(hazard.id), "item": hazard.item_code, "result": result, "sent_back": sent_back}
        )
    return entries


# --------------------------------------------------------------------------- reads


# Columns packages above this one add to every ledger row (name → builder(principal) → a scalar
# expression correlated to Hazard): cases adds the case a hazard led to. Registered by create_app, as
# photo owners are (evidence.access), so this package imports nothing of theirs.
LEDGER_COLUMNS: dict[str, Callable[[Principal], ColumnElement]] = {}


def register_ledger_column(name: str, build: Callable[[Principal], ColumnElement]) -> None:
    LEDGER_COLUMNS[name] = build


def _columns(now: datetime, principal: Principal):
    return (
        Hazard,
        Enterprise.name.label("enterprise_name"),
        Enterprise.industry.label("industry"),
        Region.code.label("region_code"),
        overdue_expr(now).label("overdue"),
        func.ST_AsGeoJSON(Hazard.location).label("location_json"),
        *(build(principal).label(name) for name, build in LEDGER_COLUMNS.items()),
    )


def _row_dict(row) -> dict:
    import json

    hazard = row.Hazard
    out = {
        c: getattr(hazard, c)
        for c in (
            "id",
            "status",
            "level",
            "supervised",
            "supervising_office",
            "deadline",
            "enterprise_id",
            "inspection_id",
            "item_code",
            "description",
            "photos",
            "found_at",
            "found_by",
            "responsible_person",
            "measures",
            "five",
            "treatment_plan",
            "submitted_by",
            "submitted_at",
            "closed_at",
            "closed_by",
            "grid_id",
            "version",
            "source",
            "self_fixed",
            "updated_at",
        )
    }
    location = json.loads(row.location_json) if row.location_json else None
    out.update(
        enterprise_name=row.enterprise_name,
        industry=row.industry,
        region_code=row.region_code,
        overdue=bool(row.overdue),
        **{name: getattr(row, name) for name in LEDGER_COLUMNS},
        location={"lon": location["coordinates"][0], "lat": location["coordinates"][1]} if location else None,
    )
    return out


def _select(now: datetime, principal: Principal):
    return (
        select(*_columns(now, principal))
        .outerjoin(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .outerjoin(Region, Region.id == Hazard.region_id)
        .where(hazard_filter(principal))
    )


PEOPLE_FIELDS = ("found_by", "submitted_by", "closed_by")


def _with_people(session: Session, items: list[dict]) -> list[dict]:
    """Name the people each hazard names (``people``: id → name, 执法证号): one query for all of them."""
    ids = [item[f] for item in items for f in PEOPLE_FIELDS]
    ids += [event["actor_id"] for item in items for event in item.get("events", ())]
    known = people_refs(session, ids)
    for item in items:
        named = [item[f] for f in PEOPLE_FIELDS] + [event["actor_id"] for event in item.get("events", ())]
        item["people"] = {str(i): known[str(i)] for i in named if i is not None and str(i) in known}
    return items


def hazard_view(
    session: Session, clock: Clock, principal: Principal, hazard_id: uuid.UUID, with_events: bool = True
) -> dict:
    row = session.execute(_select(clock.now(), principal).where(Hazard.id == hazard_id)).one_or_none()
    if row is None:
        raise NotFound("隐患不存在")
    out = _row_dict(row)
    if with_events:
        out["events"] = [
            {
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "version": e.version,
                "actor_id": str(e.actor_id),
                "device_id": e.device_id,
                "at": shown(e.at),
                "recorded_at": shown(e.recorded_at) if e.recorded_at else None,
                "photos": e.photos,
                "note": e.note,
                "data": e.data,
            }
            for e in session.scalars(
                select(HazardEvent)
                .where(HazardEvent.hazard_id == hazard_id)
                .order_by(HazardEvent.version, HazardEvent.id)
            )
        ]
    return _with_people(session, [out])[0]


def rows(session: Session, clock: Clock, principal: Principal, ids: list[uuid.UUID]) -> list[dict]:
    """Several hazards by id (those in the caller's scope), without their event history: what the
    sync feed serves."""
    stmt = _select(clock.now(), principal).where(Hazard.id.in_(ids))
    return [jsonable(item) for item in _with_people(session, [_row_dict(row) for row in session.execute(stmt)])]


SORTS = {"found_at": Hazard.found_at, "deadline": Hazard.deadline, "updated_at": Hazard.updated_at}


def ledger_select(clock: Clock, principal: Principal, filters: dict):
    """The 隐患台账 query with its filters: shared by the list endpoint and the xlsx export."""
    now = clock.now()
    stmt = _select(now, principal)
    if filters.get("status"):
        stmt = stmt.where(Hazard.status.in_(filters["status"]))
    if filters.get("level"):
        stmt = stmt.where(Hazard.level == filters["level"])
    if filters.get("source"):
        stmt = stmt.where(Hazard.source.in_(filters["source"]))
    if filters.get("self_fixed") is not None:
        stmt = stmt.where(Hazard.self_fixed.is_(filters["self_fixed"]))
    if filters.get("industry"):
        stmt = stmt.where(Enterprise.industry == filters["industry"])
    if filters.get("region"):
        stmt = stmt.where(
            Region.path.descendant_of(select(Region.path).where(Region.code == filters["region"]).scalar_subquery())
        )
    if filters.get("enterprise_id"):
        stmt = stmt.where(Hazard.enterprise_id == filters["enterprise_id"])
    if filters.get("overdue") is not None:
        stmt = stmt.where(overdue_expr(now) if filters["overdue"] else ~overdue_expr(now))
    if filters.get("supervised") is not None:
        stmt = stmt.where(Hazard.supervised.is_(filters["supervised"]))
    if filters.get("deadline_from"):
        stmt = stmt.where(Hazard.deadline >= filters["deadline_from"])
    if filters.get("deadline_to"):
        stmt = stmt.where(Hazard.deadline <= filters["deadline_to"])
    if filters.get("found_from"):
        stmt = stmt.where(Hazard.found_at >= filters["found_from"])
    if filters.get("found_to"):
        stmt = stmt.where(Hazard.found_at < filters["found_to"])
    if filters.get("grid_id"):
        stmt = stmt.where(Hazard.grid_id == filters["grid_id"])
    sort = filters.get("sort") or "-found_at"
    column = SORTS[sort.lstrip("-")]
    order = desc(column).nulls_last() if sort.startswith("-") else asc(column).nulls_last()
    return stmt.order_by(order, Hazard.id)


def list_hazards(session: Session, clock: Clock, principal: Principal, filters: dict) -> Page:
    page = paginate(
        session,
        ledger_select(clock, principal, filters),
        page=filters.get("page", 1),
        per_page=filters.get("per_page", 50),
        scalars=False,
    )
    page.items = _with_people(session, [_row_dict(row) for row in page.items])
    return page
