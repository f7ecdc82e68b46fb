"""POST /sync/push: one savepoint per change through the same domain functions as REST; the stored
answer commits with the changes, so a retried batch gets the same answer and applies nothing twice."""

from __future__ import annotations

import logging

from marshmallow import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from accounts.principal import Principal
from core.clock import Clock
from core.errors import Conflict, DomainError, FieldError, ValidationFailed
from core.inputs import bad_text, unstorable
from core.plain_load import plain_first
from core.times import judged_at, shown
from core.validation import flatten_messages
from db.session import is_unique_violation
from documents import signatures
from inspections import hazards, service, tasks
from inspections.models import HazardEvent, Task
from inspections.records import Provenance, canonical_hash
from sync.body import BatchTooLarge
from sync.models import SyncBatch
from sync.schemas import ENTITY_OPS, BatchIn, ChangeIn
from evidence.service import missing_photos

log = logging.getLogger(__name__)

# Fields of the change envelope itself; every other error field lies inside ``data``.
ENVELOPE_FIELDS = ("id", "entity", "op", "recorded_at", "base_version", "data")

# Schema instances are built once: building one deep-copies its declared fields, which cost more
# than loading a small change. Loading keeps no state on the instance (marshmallow 4), so they are
# shared by every request and thread. Plainly valid changes load on the plain path (core.plain_load).
_CHANGE_SCHEMA = ChangeIn()
_DATA_SCHEMAS = {entity_op: schema() for entity_op, schema in ENTITY_OPS.items()}
_LOAD_BATCH = plain_first(BatchIn())
_LOAD_CHANGE = plain_first(_CHANGE_SCHEMA)
_LOAD_DATA = {entity_op: plain_first(schema) for entity_op, schema in _DATA_SCHEMAS.items()}


def _fields(errors: list[FieldError], prefix: str = "data") -> list[dict]:
    out = []
    for e in errors:
        field = e.field
        if field is None or field.split(".")[0] not in ENVELOPE_FIELDS:
            field = f"{prefix}.{field}" if field else prefix
        out.append({"code": e.code, "field": field, "message": e.message})
    return out


def _photos_named(entity: str, data: dict) -> list[str]:
    photos = list(data.get("photos") or [])
    for key in ("answers", "visits"):
        for part in data.get(key) or []:
            photos += part.get("photos") or []
    return photos


def push_batch(
    session: Session, clock: Clock, principal: Principal, body: dict, *, settings, store=None, text_storable=False
) -> dict:
    """Apply a batch; return the answer (also stored under (device, batch_id)). ``store`` is the photo
    store, where the images of signatures go. ``text_storable``: the body's JSON text showed that nothing
    in it is unstorable (core.inputs.read_json), so no change need be walked for it."""
    envelope_errors = (
        []
        if text_storable
        else unstorable({k: v for k, v in body.items() if k != "changes"} if isinstance(body, dict) else {})
    )
    if envelope_errors:
        raise ValidationFailed(errors=envelope_errors)
    try:
        batch = _LOAD_BATCH(body)
    except ValidationError as err:
        raise ValidationFailed(errors=flatten_messages(err.messages)) from err
    device_id = principal.device_id or "unknown"
    # Concurrent retries of one batch queue here; the second then finds the stored answer.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"sync-batch/{device_id}/{batch['batch_id']}"},
    )
    stored = session.get(SyncBatch, (device_id, batch["batch_id"]))
    if stored is not None:
        # Verbatim, even if the limits were lowered since: the batch was accepted under the old ones.
        return stored.response
    if len(batch["changes"]) > settings.max_batch_changes:
        raise BatchTooLarge(f"每批最多 {settings.max_batch_changes} 条变更，本批 {len(batch['changes'])} 条")

    now = clock.now()
    skew = (now - batch["sent_at"]).total_seconds()
    results = []
    named_photos: list[str] = []
    # The phone's times are judged by its own clock too: one running ahead is not refused for it.
    with judged_at(max(now, batch["sent_at"])):
        if settings.push_set_based:
            outcomes = _apply_set_based(
                session, clock, principal, batch["changes"], device_id, skew, settings, store, text_storable
            )
        else:
            outcomes = [
                _apply_safely(
                    session, clock, principal, raw, device_id, skew, settings, store, text_storable=text_storable
                )
                for raw in batch["changes"]
            ]
        for result, photos in outcomes:
            results.append(result)
            named_photos += photos
    missing = _missing_photos(session, named_photos)
    answer = {
        "batch_id": batch["batch_id"],
        "server_time": shown(now),
        "clock_skew_seconds": round(skew, 3),
        "results": results,
        "missing_photos": missing,
    }
    session.add(
        SyncBatch(
            device_id=device_id,
            batch_id=batch["batch_id"],
            user_id=principal.user_id,
            received_at=now,
            change_count=len(results),
            response=answer,
            sent_at=batch["sent_at"],
        )
    )
    session.flush()
    return answer


def _missing_photos(session: Session, shas: list[str]) -> list[str]:
    return sorted(set(missing_photos(session, list(dict.fromkeys(shas)))))


def _head(raw) -> dict:
    """What a result repeats of the change as sent: its id and entity, when they are storable text."""

    def text(key):
        value = raw.get(key) if isinstance(raw, dict) else None
        return value if isinstance(value, str) and not bad_text(value) else None

    return {"id": text("id"), "entity": text("entity")}


def _apply_safely(
    session: Session,
    clock: Clock,
    principal: Principal,
    raw,
    device_id: str,
    skew: float,
    settings,
    store,
    prepared=None,
    *,
    text_storable: bool = False,
) -> tuple[dict, list[str]]:
    """One change's result, whatever happens in it: changes are independent (SYNC_PROTOCOL.md §2
    rule 2), so an error no check foresaw rejects this change (retryable: the data may be fine), never
    the batch. Under testing it is raised, so that bugs fail tests; a lost database still fails the batch."""
    try:
        if prepared is None:
            prepared = _prepare(raw, device_id, skew, text_storable)
        if isinstance(prepared, tuple):  # refused before any database work
            return prepared
        return _apply_prepared(session, clock, principal, prepared, settings, store)
    except OperationalError:
        raise
    except Exception:
        if settings.testing:
            raise
        log.exception("push: unexpected error in one change")
        return _head(raw) | _rejected(
            [{"code": "sync.internal_error", "field": None, "message": "服务器处理此条记录时出错，请稍后重试"}],
            retryable=True,
            code="sync.internal_error",
        ), []


class Prepared:
    """A change that passed the envelope and its data schema: what applying it needs."""

    __slots__ = ("raw", "head", "change", "data", "provenance", "photos")

    def __init__(self, raw, head, change, data, provenance, photos):
        self.raw, self.head, self.change, self.data = raw, head, change, data
        self.provenance, self.photos = provenance, photos


def _prepare(raw, device_id: str, skew: float, text_storable: bool = False) -> Prepared | tuple[dict, list[str]]:
    """Everything about one change that needs no database: the envelope, the data schema, the hashes.
    A change refused here is answered at once (a (result, photos) pair)."""
    head = _head(raw)
    bad = [] if text_storable else unstorable(raw)
    if bad:
        return head | _rejected([e.as_dict() for e in bad]), []
    try:
        change = _LOAD_CHANGE(raw if isinstance(raw, dict) else {})
    except ValidationError as err:
        return head | _rejected(_fields(flatten_messages(err.messages), prefix="")), []
    head = {"id": str(change["id"]), "entity": change["entity"]}
    load_data = _LOAD_DATA.get((change["entity"], change["op"]))
    if load_data is None:
        return head | _rejected(
            [{"code": "validation", "field": "op", "message": f"{change['entity']} 不支持 {change['op']} 操作"}]
        ), []
    try:
        data = load_data(change["data"])
    except ValidationError as err:
        return head | _rejected(_fields(flatten_messages(err.messages))), []
    # The change's own hash tells a re-sent hazard transition (its one use; creates are told apart by
    # their content's hash), so no other change pays for it.
    digest = (
        canonical_hash({k: change[k] for k in ("entity", "op", "base_version", "data")})
        if (change["entity"], change["op"]) == ("hazard", "transition")
        else None
    )
    provenance = Provenance(
        device_id=device_id, recorded_at=change["recorded_at"], skew_seconds=skew, change_hash=digest
    )
    return Prepared(raw, head, change, data, provenance, _photos_named(change["entity"], change["data"]))


def _apply_prepared(
    session: Session, clock: Clock, principal: Principal, prepared: Prepared, settings, store
) -> tuple[dict, list[str]]:
    """The per-change path: one savepoint, the domain function, its errors turned into the result."""
    head, change, data = prepared.head, prepared.change, prepared.data
    try:
        with session.begin_nested():
            result = _dispatch(session, clock, principal, change, data, prepared.provenance, settings, store)
        return head | result, prepared.photos
    except IntegrityError as err:  # the savepoint is rolled back; the rest of the batch goes on
        return head | _constraint_violated(err), []
    except Conflict as err:
        if getattr(err, "current", None) is None:  # a reused id: final, the phone must change it
            return head | _rejected(
                _fields(err.errors) or [{"code": err.code, "field": "id", "message": err.detail}], code=err.code
            ), []
        return head | {
            "status": "conflict",
            "retryable": False,
            "code": err.code,
            "version": err.current.get("version"),
            "current": err.current,
        }, []
    except DomainError as err:
        errors = _fields(err.errors) or [{"code": err.code, "field": None, "message": err.detail}]
        return head | _rejected(errors, retryable=err.retryable, code=err.code), []


# --------------------------------------------------------------------------- the set-based path

# Changes the set-based path stores together: the bulk of real batches.
SET_BASED = (("inspection", "create"), ("patrol", "create"), ("hazard", "create"))
# Stored at most this many at a time: one multi-row statement of a whole maximum batch (1,000
# inspections' answers as one SQL text) raised a worker's peak memory by ≈ 80 MB; 100 at a time
# costs a few more statements and keeps it near the per-change path's.
STORE_AT_ONCE = 100


def _apply_set_based(
    session: Session,
    clock: Clock,
    principal: Principal,
    changes: list,
    device_id: str,
    skew: float,
    settings,
    store,
    text_storable: bool = False,
) -> list[tuple[dict, list[str]]]:
    """The same results as ``_apply_safely`` change by change, in far fewer statements: every change is
    validated first (no database); each run of consecutive inspection, patrol and hazard creates is checked
    in a handful of queries for all of it and stored with one multi-row statement per table; every
    other change, and every change of a run that the batch checks do not clear (id taken, a rule
    refused, unknown reference, …), goes through the per-change path in its place in the order.

    Why that gives the same answers: the batch checks clear a change only when the per-change path
    would apply it, and they read nothing an earlier change of the same run could have changed but
    the ids themselves (a repeated id goes one by one, after everything before it is stored)."""
    prepared = []
    for raw in changes:
        try:
            prepared.append(_prepare(raw, device_id, skew, text_storable))
        except Exception:
            if settings.testing:
                raise
            log.exception("push: unexpected error preparing one change")
            prepared.append(None)  # _apply_safely answers it again, as the per-change path would
    out: list[tuple[dict, list[str]] | None] = [None] * len(changes)
    n = 0
    while n < len(changes):
        end = n
        while end < len(changes) and _set_based(prepared[end]):
            end += 1
        if end == n:
            out[n] = _apply_safely(session, clock, principal, changes[n], device_id, skew, settings, store, prepared[n])
            n += 1
            continue
        _apply_run(
            session, clock, principal, list(range(n, end)), changes, prepared, out, device_id, skew, settings, store
        )
        n = end
    return out


def _set_based(prepared) -> bool:
    return isinstance(prepared, Prepared) and (prepared.change["entity"], prepared.change["op"]) in SET_BASED


def _apply_run(
    session: Session,
    clock: Clock,
    principal: Principal,
    run: list[int],
    changes: list,
    prepared: list,
    out: list,
    device_id: str,
    skew: float,
    settings,
    store,
) -> None:
    """One run of inspection, patrol and hazard creates (indexes ``run``): checked together, stored
    together up to each change that must go one by one."""
    checked: dict[int, object] = {}
    for entity in _RUNS:
        ns = [n for n in run if prepared[n].change["entity"] == entity]
        if ns:
            items = [(prepared[n].change["id"], prepared[n].data, prepared[n].provenance) for n in ns]
            checked.update(zip(ns, _check_run(session, principal, entity, items, settings)))
    pending: list[int] = []
    seen: set = set()

    def store_pending() -> None:
        if pending:
            _store(
                session, clock, principal, pending, changes, prepared, checked, out, device_id, skew, settings, store
            )
            pending.clear()

    for n in run:
        key = (prepared[n].change["entity"], prepared[n].change["id"])
        if checked.get(n) is not None and key not in seen:
            pending.append(n)
            if len(pending) >= STORE_AT_ONCE:
                store_pending()
        else:
            store_pending()
            out[n] = _apply_safely(session, clock, principal, changes[n], device_id, skew, settings, store, prepared[n])
        seen.add(key)
    store_pending()


def _store(
    session: Session,
    clock: Clock,
    principal: Principal,
    ns: list[int],
    changes: list,
    prepared: list,
    checked: dict,
    out: list,
    device_id: str,
    skew: float,
    settings,
    store,
) -> None:
    """Store the checked changes ``ns`` together, in one savepoint. Should the database refuse (another
    phone's transaction wrote one of the same records since the checks), each goes one by one."""
    try:
        with session.begin_nested():
            recorded = {}
            for entity in _RUNS:
                of = [n for n in ns if prepared[n].change["entity"] == entity]
                if of:
                    stored = _store_run(session, clock, principal, entity, [checked[n] for n in of], settings)
                    recorded.update(zip(of, stored))
    except OperationalError:
        raise
    except Exception as err:  # the savepoint is rolled back: nothing of these changes is stored
        if settings.testing and not isinstance(err, IntegrityError):
            raise
        if not isinstance(err, IntegrityError):
            log.exception("push: unexpected error storing a run together; storing it change by change")
        for n in ns:
            out[n] = _apply_safely(session, clock, principal, changes[n], device_id, skew, settings, store, prepared[n])
        return
    for n in ns:
        result = _created(recorded[n])
        if prepared[n].change["entity"] == "inspection":
            result["derived"] = recorded[n].derived
        out[n] = (prepared[n].head | result, prepared[n].photos)


_RUNS = [entity for entity, _ in SET_BASED]


def _check_run(session: Session, principal: Principal, entity: str, items: list, settings) -> list:
    """The batch form of an entity's rules: a checked change, or None for one to apply one by one."""
    if entity == "inspection":
        return service.check_inspections(session, principal, items, geofence_m=settings.geofence_meters)
    if entity == "patrol":
        return service.check_patrols(session, principal, items)
    return hazards.check_reports(session, principal, items)


def _store_run(session: Session, clock: Clock, principal: Principal, entity: str, checked: list, settings) -> list:
    if entity == "inspection":
        return service.store_inspections(session, clock, principal, checked)
    if entity == "patrol":
        return service.store_patrols(session, clock, principal, checked, geofence_m=settings.geofence_meters)
    return hazards.store_reports(session, clock, principal, checked)


def _constraint_violated(err: IntegrityError) -> dict:
    """A constraint the domain checks did not foresee. A unique violation is a race: another
    phone's transaction wrote the same record between our check and our insert; once it has
    committed, the same change comes back as duplicate, conflict or id_reused. Anything else is a
    gap in validation: final for the phone, logged for us, and never a 500 that stalls the batch."""
    if is_unique_violation(err):
        return _rejected(
            [{"code": "sync.concurrent_write", "field": "id", "message": "另一设备正在同时写入同一记录，请稍后重试"}],
            retryable=True,
            code="sync.concurrent_write",
        )
    log.warning("push: constraint violated by a change that passed validation: %s", err.orig)
    return _rejected(
        [{"code": "validation.constraint", "field": None, "message": "数据不符合数据库约束，请核对后修改"}],
        code="validation.constraint",
    )


def _rejected(errors: list[dict], *, retryable: bool = False, code: str = "validation") -> dict:
    return {"status": "rejected", "retryable": retryable, "code": code, "errors": errors}


def _dispatch(
    session: Session,
    clock: Clock,
    principal: Principal,
    change: dict,
    data: dict,
    provenance: Provenance,
    settings,
    store,
) -> dict:
    entity, op, record_id = change["entity"], change["op"], change["id"]
    if (entity, op) == ("inspection", "create"):
        recorded = service.record_inspection(
            session, clock, principal, record_id, data, geofence_m=settings.geofence_meters, provenance=provenance
        )
        return _created(recorded) | {"derived": recorded.derived}
    if (entity, op) == ("patrol", "create"):
        return _created(
            service.record_patrol(
                session, clock, principal, record_id, data, geofence_m=settings.geofence_meters, provenance=provenance
            )
        )
    if (entity, op) == ("hazard", "create"):
        return _created(hazards.report_hazard(session, clock, principal, record_id, data, provenance))
    if (entity, op) == ("hazard", "transition"):
        if change["base_version"] is None:
            raise ValidationFailed(errors=[FieldError("validation", "base_version", "隐患流转须提供 base_version")])
        # A re-send only when this device of this user had exactly this change applied. Anyone else's
        # identical change — another inspector's, or the same user's other phone acting on the same stale
        # copy — goes through the checks (scope, roles, base_version) like any other.
        same = session.scalar(
            select(HazardEvent.version).where(
                HazardEvent.hazard_id == record_id,
                HazardEvent.change_hash == provenance.change_hash,
                HazardEvent.actor_id == principal.user_id,
                HazardEvent.device_id == provenance.device_id,
            )
        )
        if same is not None:
            return {"status": "duplicate", "version": same}
        hazard = hazards.transition_hazard(
            session, clock, principal, record_id, data, base_version=change["base_version"], provenance=provenance
        )
        return {"status": "applied", "version": hazard.version}
    if (entity, op) == ("signature", "create"):
        signature, created = signatures.record_signature(
            session,
            clock,
            principal,
            record_id,
            data,
            store=store,
            limits=signatures.SignatureLimits.of(settings),
            provenance=provenance,
        )
        return {"status": "applied" if created else "duplicate", "version": 1}
    task = session.get(Task, record_id)
    target = tasks.TASK_TRANSITIONS[data["action"]][1]
    if task is not None and task.assignee_id == principal.user_id and task.status == target:
        return {"status": "duplicate", "version": task.version}
    task = tasks.transition_task(session, clock, principal, record_id, data, base_version=change["base_version"])
    return {"status": "applied", "version": task.version}


def _created(recorded) -> dict:
    return {"status": "applied" if recorded.created else "duplicate", "version": recorded.record.version}


def server_config(clock: Clock, settings) -> dict:
    return {
        "protocol_version": 1,
        "server_time": shown(clock.now()),
        "max_batch_changes": settings.max_batch_changes,
        "max_batch_bytes": settings.max_batch_bytes,
        "max_photo_bytes": settings.max_photo_bytes,
        "photo_chunk_bytes": settings.photo_chunk_bytes,
        "max_signature_bytes": settings.max_signature_bytes,
        "max_signature_pixels": settings.max_signature_pixels,
        "pull_limit_default": 500,
        "pull_limit_max": 2000,
    }
