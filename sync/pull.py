"""GET /sync/pull: the change feed, filtered in SQL by what the caller may see.

Position: ``(txid, seq)`` of ``change_log``. A page serves only rows of transactions older than every
transaction of this database still running (the horizon, below), in that order: a transaction that took its sequence
numbers early but committed late is served when it commits, never skipped. Within a page each record
comes once, at its latest change; a record that left the caller's view comes as ``delete``.

The opaque cursor holds the position and the caller's scope at that position. When a grid worker's
grids changed, the feed first replays the added and removed grids (upserts and tombstones); any
other change of scope (region, roles, enterprise) or an unreadable cursor answers ``reset``.

A desk officer's or inspector's first pull (and the one after a reset) is a snapshot instead: their
view is most of the log, and finding each record's latest change over the whole remaining range
would cost seconds per page. The snapshot walks the records by key at the head of the feed when it
began, serving those in view (no tombstones: the phone starts empty), then the feed goes on from that
head; what changed during the snapshot comes again, at its newer version."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from accounts.principal import Principal
from checklists.models import ChecklistTemplate
from core.serialize import jsonable
from core.clock import Clock
from enterprises import service as enterprises
from grids import service as grids_service
from inspections import hazards, plans
from inspections.models import Plan, Task
from inspections.tasks import task_view
from core.inputs import bad_text

START = (0, 0)


@dataclass
class Cursor:
    pos: tuple[int, int] = START
    scope: str = ""
    grids: list[str] = field(default_factory=list)
    # Replay of grids added to / removed from a grid worker: {"grids", "pos", "upto"}.
    regrid: dict | None = None
    # Snapshot in progress: {"after": [entity, entity_id] or None, "head": [txid, seq]}.
    snapshot: dict | None = None
    # The feed's floor when the cursor was issued (sync.compaction): a later, higher floor may have
    # removed rows between this cursor's position and the new floor.
    floor: list[int] | None = None

    def encode(self) -> str:
        raw = json.dumps(
            {
                "v": 1,
                "p": list(self.pos),
                "s": self.scope,
                "g": self.grids,
                "r": self.regrid,
                "b": self.snapshot,
                "f": self.floor,
            },
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor | None":
        """The cursor ``value`` encodes, or None for anything this server did not issue (answered by a reset)."""

        def key(part) -> str:
            if not isinstance(part, str) or bad_text(part):
                raise ValueError(part)
            return part

        def position(pair) -> list[int]:
            # Positions are PostgreSQL xid8 and bigint: a number beyond them is not ours.
            numbers = [int(x) for x in pair]
            if len(numbers) != 2 or not all(0 <= n < 2**63 for n in numbers):
                raise ValueError(pair)
            return numbers

        try:
            raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            if not isinstance(raw, dict) or raw.get("v") != 1:
                return None
            regrid = raw.get("r")
            if regrid is not None:
                regrid = {
                    "grids": [str(uuid.UUID(g)) for g in regrid["grids"]],
                    "pos": position(regrid["pos"]),
                    "upto": position(regrid["upto"]),
                }
            snapshot = raw.get("b")
            if snapshot is not None:
                after = snapshot["after"]
                snapshot = {
                    "after": None if after is None else [key(after[0]), key(after[1])],
                    "head": position(snapshot["head"]),
                }
            floor = raw.get("f")
            return cls(
                pos=tuple(position(raw["p"])),
                scope=str(raw["s"]),
                grids=[str(uuid.UUID(g)) for g in raw["g"]],
                regrid=regrid,
                snapshot=snapshot,
                floor=None if floor is None else position(floor),
            )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError, RecursionError):
            return None


def scope_key(principal: Principal) -> str:
    """What, besides grid assignments, decides a caller's view: a change of it means a reset."""
    return "|".join([",".join(sorted(principal.roles)), principal.region_path, str(principal.enterprise_id or "")])


def _current_grids(session: Session, principal: Principal) -> list[str]:
    if "grid_worker" not in principal.roles:
        return []
    return sorted(str(g) for g in session.scalars(principal.assigned_grid_ids()))


class View:
    """A caller's view of the feed as SQL: which change rows touch it (``match``: the record's keys
    before or after the change), whether a record as its latest change left it is in it now
    (``visible``), and the parameters both need. Built from the principal: only the conditions that
    apply to the caller are in the statement."""

    def __init__(self, principal: Principal, grids_now: list[str], horizon: str):
        keyed, now = ["c.entity = 'checklist_template'", "CAST(:user AS uuid) = ANY(c.audience)"], []
        if principal.is_admin:
            keyed.append("c.entity IN ('enterprise', 'grid', 'hazard')")
        elif principal.sees_region_subtree:
            keyed.append("c.region_path <@ CAST(:path AS ltree) OR c.old_region_path <@ CAST(:path AS ltree)")
            now.append("c.region_path <@ CAST(:path AS ltree)")
        if principal.enterprise_id:
            keyed.append("c.enterprise_id = CAST(:enterprise AS uuid) AND c.entity IN ('enterprise', 'hazard')")
        self.match = _any(keyed[:2] + [GRID_MATCH] + keyed[2:])
        # Visible now: the same conditions, with the region and grids as they are now (not before).
        self.visible = (
            "(c.op = 'upsert' AND "
            + _any(
                [k for k in keyed if "old_region_path" not in k] + now + ["c.grid_id = ANY(CAST(:grids_now AS uuid[]))"]
            )
            + ")"
        )
        self.params = {
            "user": str(principal.user_id),
            "path": principal.region_path,
            "enterprise": str(principal.enterprise_id) if principal.enterprise_id else None,
            "grids_now": grids_now,
            "grids": sorted(set(grids_now)),
            "horizon": horizon,
        }


def _any(conditions: list[str]) -> str:
    return "(" + "\n   OR ".join(f"({c})" for c in conditions) + ")"


# Changes to records in or out of the grids of :grids (a grid worker's, or those being replayed).
GRID_MATCH = "c.grid_id = ANY(CAST(:grids AS uuid[])) OR c.old_grid_id = ANY(CAST(:grids AS uuid[]))"

RANGE = """(c.txid, c.seq) > (CAST(:after_t AS text)::xid8, :after_s)
       AND c.txid < CAST(:horizon AS text)::xid8
       AND (c.txid, c.seq) <= (CAST(:upto_t AS text)::xid8, :upto_s)"""


def _page_sql(match: str, visible: str) -> str:
    """Changes after a position up to another, each record once at its latest change, in feed order."""
    return f"""
WITH relevant AS (
    SELECT DISTINCT c.entity, c.entity_id FROM change_log c WHERE {RANGE} AND {match}
), latest AS (
    SELECT DISTINCT ON (c.entity, c.entity_id) c.entity, c.entity_id, c.txid, c.seq, c.version, {visible} AS visible
      FROM change_log c JOIN relevant r ON r.entity = c.entity AND r.entity_id = c.entity_id
     WHERE {RANGE}
     ORDER BY c.entity, c.entity_id, c.txid DESC, c.seq DESC
)
SELECT entity, entity_id, txid::text AS txid, seq, version, visible FROM latest
 ORDER BY latest.txid, latest.seq LIMIT :limit
"""


# ORDER BY names the columns of ``latest``: a bare ``txid`` would be the text output column, and text
# puts "10" before "9" — a page cut there would move the cursor past changes not yet served.


def _snapshot_sql(visible: str) -> str:
    """One page of a snapshot: records after the key, each at its latest change up to the head, those in
    view only. Walks ix_change_log_record backwards; every change row is read once over the whole snapshot."""
    return f"""
SELECT entity, entity_id, txid::text AS txid, seq, version, visible FROM (
    SELECT DISTINCT ON (c.entity, c.entity_id) c.entity, c.entity_id, c.txid, c.seq, c.version, {visible} AS visible
      FROM change_log c
     WHERE (:first OR (c.entity, c.entity_id) < (:after_e, :after_id))
       AND (c.txid, c.seq) <= (CAST(:head_t AS text)::xid8, :head_s)
     ORDER BY c.entity DESC, c.entity_id DESC, c.txid DESC, c.seq DESC
) latest WHERE visible LIMIT :limit
"""


# The horizon: the oldest transaction of THIS DATABASE that was running when the statement's snapshot
# was taken and still runs (a backend's writer, or a prepared two-phase transaction), else the
# snapshot's xmax. The candidates are the snapshot's own in-progress ids (xid8, so epochs are exact);
# pg_stat_activity and pg_prepared_xacts only say which of them belong to this database, by their
# 32-bit ids (running ids lie within 2^31 of each other, so the low 32 bits name one transaction).
# A transaction that started after the snapshot has an id >= xmax >= the horizon: held back too.
# One that ended between the snapshot and the activity read is below the horizon and visible to the
# next statements (READ COMMITTED). pg_snapshot_xmin alone would be cluster-wide: a long transaction
# in another database on the same server (another application, a test run) would hold every phone's
# feed back. Widening pg_stat_activity's 32-bit ids by the epoch of xmax instead went wrong for ids
# above xmax (taken for the previous epoch: the horizon wrapped to ~2^64 and held nothing back).
HORIZON = """
WITH snap AS (SELECT pg_current_snapshot() AS s),
     here AS (SELECT backend_xid AS xid FROM pg_stat_activity
               WHERE datname = current_database() AND backend_xid IS NOT NULL
              UNION ALL
              SELECT transaction FROM pg_prepared_xacts WHERE database = current_database())
SELECT coalesce((SELECT min(running) FROM snap, pg_snapshot_xip(snap.s) AS running
                  WHERE EXISTS (SELECT FROM here WHERE here.xid = running::xid)),
                (SELECT pg_snapshot_xmax(s) FROM snap))::text
"""
# backend_xid is shown to every role, also for sessions of roles whose query text is hidden from it
# ("<insufficient privilege>"): no superuser or pg_read_all_stats is needed
# (test_a_hidden_writer_holds_the_feed_back_instead_of_being_skipped runs the API as such a role).
MAX = (2**63 - 1, 2**63 - 1)

# Pulls hold this shared, the compaction exclusively: a compaction never runs between a pull's reading
# of the floor and its reading of the rows (a shared advisory lock takes no transaction id).
COMPACTION_LOCK = "hashtextextended('anxun/change-log-compaction', 0)"
# The activity view is cached for the rest of a transaction once read; read it afresh.
BEGIN_PULL = f"SELECT pg_stat_clear_snapshot(), pg_advisory_xact_lock_shared({COMPACTION_LOCK})"

# What a pull needs before it reads rows, in one statement: the horizon; the head, the newest position
# already safe to serve (every row below the horizon); the feed's floor (sync.compaction). A row of a
# transaction that ended while this statement ran may be missing from the head: the head is then
# lower than it could be, never higher, and the rows above it are read by later statements.
BOUNDS = f"""
SELECT h.horizon, head.txid::text AS head_t, head.seq AS head_s, f.txid::text AS floor_t, f.seq AS floor_s
  FROM ({HORIZON}) AS h(horizon)
  LEFT JOIN LATERAL (SELECT c.txid, c.seq FROM change_log AS c WHERE c.txid < CAST(h.horizon AS text)::xid8
                      ORDER BY c.txid DESC, c.seq DESC LIMIT 1) AS head ON true
  LEFT JOIN change_log_floor AS f ON f.id = 1
"""


def horizon(session: Session) -> str:
    """The horizon (above) as the text of an xid8."""
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return session.execute(text(HORIZON)).scalar_one()


def _behind_floor(cursor: Cursor, floor: tuple[int, int] | None) -> bool:
    """Whether a compaction since the cursor was issued removed rows the cursor still needs: it stands
    before the new floor. (A cursor issued under the current floor reads the compacted log, whose
    remaining rows below the floor are each record's latest, and loses nothing.)"""
    position = tuple(cursor.snapshot["head"]) if cursor.snapshot else cursor.pos
    if floor is None or position == START:  # nothing served yet: the feed from the start is whole
        return False
    return position < floor and (cursor.floor is None or tuple(cursor.floor) < floor)


@dataclass(frozen=True)
class Bounds:
    """Read once at the start of a pull (BOUNDS): the horizon, the head and the feed's floor."""

    horizon: str
    head: tuple[int, int]
    floor: tuple[int, int] | None


def pull(session: Session, clock: Clock, principal: Principal, cursor_value: str | None, limit: int) -> dict:
    """One page of the caller's feed (SYNC_PROTOCOL.md §3), in three phases that each fill what is left
    of the page: a replay of grids given or taken away since the cursor (regrid), a snapshot of the
    whole view for a new or reset region-wide cursor, then the feed from the cursor's position."""
    session.execute(text(BEGIN_PULL))
    bounds = _bounds(session)
    grids_now = _current_grids(session, principal)
    cursor, reset = _resume(cursor_value, principal, bounds, grids_now)
    view = View(principal, grids_now, bounds.horizon)
    rows: list = []
    for phase in (_regrid_phase, _snapshot_phase, _feed_phase):
        if phase(session, view, cursor, bounds, rows, limit):
            return _answer(session, clock, principal, rows, cursor, has_more=True, reset=reset)
    return _answer(session, clock, principal, rows, cursor, has_more=False, reset=reset)


def _bounds(session: Session) -> Bounds:
    row = session.execute(text(BOUNDS)).one()
    return Bounds(
        horizon=row.horizon,
        head=(int(row.head_t), row.head_s) if row.head_t is not None else START,
        floor=(int(row.floor_t), row.floor_s) if row.floor_t is not None else None,
    )


def _resume(
    cursor_value: str | None, principal: Principal, bounds: Bounds, grids_now: list[str]
) -> tuple[Cursor, bool]:
    """The cursor to go on from, and whether the phone must start over (reset)."""
    cursor = Cursor.decode(cursor_value) if cursor_value else None
    reset = cursor_value is not None and (
        cursor is None or cursor.scope != scope_key(principal) or _behind_floor(cursor, bounds.floor)
    )
    if cursor is None or reset:
        cursor = Cursor(pos=START, scope=scope_key(principal), grids=grids_now)
        if (principal.is_admin or principal.sees_region_subtree) and bounds.head != START:
            cursor.snapshot = {"after": None, "head": list(bounds.head)}
    elif cursor.grids != grids_now:
        # Grids taken away or given: replay just those grids from the start, then go on as before.
        changed = sorted(set(cursor.grids) ^ set(grids_now))
        cursor.regrid = {"grids": changed, "pos": list(START), "upto": list(bounds.head)}
        cursor.grids = grids_now
    cursor.floor = list(bounds.floor) if bounds.floor else None
    return cursor, reset


def _regrid_phase(session: Session, view: View, cursor: Cursor, bounds: Bounds, rows: list, limit: int) -> bool:
    """Replay the changed grids up to the head they were changed at; True when the page is full."""
    if not (regrid := cursor.regrid):
        return False
    # Only the grids being replayed: nothing else needs to come again.
    page = _page(
        session,
        _page_sql(f"({GRID_MATCH})", view.visible),
        view.params | {"grids": regrid["grids"]},
        tuple(regrid["pos"]),
        tuple(regrid["upto"]),
        limit + 1 - len(rows),
    )
    if len(rows) + len(page) > limit:
        rows += page[: limit - len(rows)]
        regrid["pos"] = [int(rows[-1].txid), rows[-1].seq]
        return True
    rows += page
    cursor.regrid = None
    return False


def _snapshot_phase(session: Session, view: View, cursor: Cursor, bounds: Bounds, rows: list, limit: int) -> bool:
    """Serve the view as it stands at the snapshot's head, record by record; True when the page is full."""
    if not (snapshot := cursor.snapshot):
        return False
    after = snapshot["after"] or ["", ""]
    head = snapshot["head"]
    served = session.execute(
        text(_snapshot_sql(view.visible)),
        view.params
        | {
            "first": snapshot["after"] is None,
            "after_e": after[0],
            "after_id": after[1],
            "head_t": str(head[0]),
            "head_s": head[1],
            "limit": limit + 1 - len(rows),
        },
    ).all()
    has_more = len(rows) + len(served) > limit
    served = served[: limit - len(rows)]
    if served:
        snapshot["after"] = [served[-1].entity, served[-1].entity_id]
    rows += served
    if has_more:
        return True
    cursor.pos, cursor.snapshot = tuple(snapshot["head"]), None
    return False


def _feed_phase(session: Session, view: View, cursor: Cursor, bounds: Bounds, rows: list, limit: int) -> bool:
    """The feed after the cursor's position; True when the page is full."""
    page = _page(session, _page_sql(view.match, view.visible), view.params, cursor.pos, MAX, limit + 1 - len(rows))
    has_more = len(rows) + len(page) > limit
    page = page[: limit - len(rows)]
    if page:
        cursor.pos = (int(page[-1].txid), page[-1].seq)
    rows += page
    if not has_more:
        # Everything up to the head that concerns the caller was served: stand at the head, so a quiet
        # view's cursor keeps up with the feed instead of falling behind its floor.
        cursor.pos = max(cursor.pos, bounds.head)
    return has_more


def _page(session: Session, sql: str, params: dict, after, upto, limit: int) -> list:
    return session.execute(
        text(sql),
        params
        | {"after_t": str(after[0]), "after_s": after[1], "upto_t": str(upto[0]), "upto_s": upto[1], "limit": limit},
    ).all()


def _answer(
    session: Session, clock: Clock, principal: Principal, rows: list, cursor: Cursor, *, has_more: bool, reset: bool
) -> dict:
    data = _records(session, clock, principal, [(r.entity, r.entity_id) for r in rows if r.visible])
    changes = []
    for row in rows:
        record = data.get((row.entity, row.entity_id)) if row.visible else None
        if record is None:
            changes.append({"entity": row.entity, "op": "delete", "id": row.entity_id, "version": row.version})
        else:
            changes.append(
                {
                    "entity": row.entity,
                    "op": "upsert",
                    "id": row.entity_id,
                    "version": record.get("version", row.version),
                    "data": record,
                }
            )
    return {"changes": changes, "cursor": cursor.encode(), "has_more": has_more, "reset": reset}


def _records(session: Session, clock: Clock, principal: Principal, keys: list[tuple[str, str]]) -> dict:
    """The current data of the visible records on a page, one query per entity, scoped again in SQL."""
    by_entity: dict[str, list[str]] = {}
    for entity, entity_id in keys:
        by_entity.setdefault(entity, []).append(entity_id)
    out: dict = {}
    if ids := by_entity.get("enterprise"):
        for item in enterprises.rows(session, principal, [uuid.UUID(i) for i in ids]):
            out[("enterprise", str(item["id"]))] = jsonable(item)
    if ids := by_entity.get("grid"):
        for feature in grids_service.grid_features(session, principal, [uuid.UUID(i) for i in ids]):
            props = feature["properties"]
            out[("grid", str(feature["id"]))] = props | {"geometry": feature["geometry"]}
    if ids := by_entity.get("hazard"):
        for item in hazards.rows(session, clock, principal, [uuid.UUID(i) for i in ids]):
            out[("hazard", str(item["id"]))] = item
    if ids := by_entity.get("task"):
        for task in session.scalars(
            select(Task).where(Task.id.in_([uuid.UUID(i) for i in ids]), Task.assignee_id == principal.user_id)
        ):
            out[("task", str(task.id))] = task_view(task)
    if ids := by_entity.get("plan"):
        # The feed's audience for plans is their team (SYNC_PROTOCOL.md §3), the first part of the secrecy rule.
        for plan in session.scalars(
            select(Plan).where(Plan.id.in_([uuid.UUID(i) for i in ids]), plans.on_team(principal))
        ):
            out[("plan", str(plan.id))] = jsonable(plans.plan_dict(plan))
    if ids := by_entity.get("checklist_template"):
        wanted = [(code, int(version)) for code, version in (i.rsplit("@", 1) for i in ids)]
        for row in session.scalars(
            select(ChecklistTemplate).where(
                tuple_(ChecklistTemplate.code, ChecklistTemplate.version).in_(wanted),
                ChecklistTemplate.status == "published",
            )
        ):
            out[("checklist_template", f"{row.code}@{row.version}")] = row.content | {"content_hash": row.content_hash}
    return out
