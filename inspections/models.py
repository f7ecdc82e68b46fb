"""Plans, random draws, inspections, hazards with their transition ledger, patrols."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, uuid_pk

PLAN_KINDS = ("routine", "special", "random", "unannounced", "recheck")
INSPECTION_KINDS = ("routine", "special", "random", "unannounced", "recheck", "self", "patrol_check")
# Kinds that are acts of law enforcement: they need at least two certified inspectors.
ENFORCEMENT_KINDS = ("routine", "special", "random", "unannounced", "recheck")
HAZARD_STATUSES = ("reported", "ordered", "submitted", "closed")
HAZARD_LEVELS = ("general", "major")
# Who found a hazard: an inspector's inspection or report, a grid worker's patrol check or report,
# the enterprise itself (自查自报), the public (12350 举报, once verified).
HAZARD_SOURCES = ("inspection", "patrol", "grid_report", "self", "public")
VISIT_OUTCOMES = ("normal", "hazard_found", "closed_down", "not_found")
TASK_KINDS = ("patrol", "self_inspection", "recheck", "overdue_hazard", "verify_report")
# declined: the assignee refused it (with a reason); cancelled: the desk withdrew it (撤销, with a reason).
TASK_STATUSES = ("open", "accepted", "done", "declined", "cancelled")


class RandomDraw(Base):
    """一次双随机抽查: the seed, the filters and the pool snapshot make it recomputable by anyone."""

    __tablename__ = "random_draws"

    id: Mapped[uuid.UUID] = uuid_pk()
    seed: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict] = mapped_column(JSONB)
    count: Mapped[int]
    team_size: Mapped[int]
    enterprise_pool: Mapped[list] = mapped_column(JSONB)
    inspector_pool: Mapped[list] = mapped_column(JSONB)
    result: Mapped[list] = mapped_column(JSONB)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("kind IN ('routine','special','random','unannounced','recheck')", name="kind_known"),
        CheckConstraint("window_end >= window_start", name="window_ordered"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    enterprise_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    inspector_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    draw_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("random_draws.id"))
    notes: Mapped[str] = mapped_column(Text, server_default="")
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(server_default=text("1"))


Index("ix_plans_enterprise_ids", Plan.enterprise_ids, postgresql_using="gin")
Index("ix_plans_inspector_ids", Plan.inspector_ids, postgresql_using="gin")


class Inspection(Base):
    """One visit to one enterprise against one checklist version. Append-only: a correction is a
    new inspection that ``supersedes`` this one."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('routine','special','random','unannounced','recheck','self','patrol_check')", name="kind_known"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    checklist_code: Mapped[str] = mapped_column(String(100))
    checklist_version: Mapped[int] = mapped_column(Integer)
    inspector_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    location = mapped_column(Geometry("POINT", srid=4326), nullable=True)
    location_accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_given: Mapped[dict | None] = mapped_column(JSONB)
    # Geofence: distance of the check-in to the enterprise; flagged, never refused (GPS indoors is poor).
    distance_m: Mapped[float | None] = mapped_column(Float)
    outside_geofence: Mapped[bool | None]
    answers: Mapped[list] = mapped_column(JSONB)
    outcomes: Mapped[list] = mapped_column(JSONB)
    summary: Mapped[dict] = mapped_column(JSONB)
    # A recheck (复查): the open hazards of the items it judged, ``{hazard_id, item, result, sent_back}``.
    rechecked: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    remarks: Mapped[str] = mapped_column(Text, server_default="")
    supersedes: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspections.id"))
    # Copied from the enterprise when recorded, so scope filters need no join.
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime | None]
    recorded_at_corrected: Mapped[datetime | None]
    received_at: Mapped[datetime]
    # SHA-256 of the canonical payload: a re-sent create is a duplicate, a different one a reused id.
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(server_default=text("1"))


class Hazard(Base):
    """隐患: found by a failed checklist item or reported freely; moves through its lifecycle by
    transitions only (``hazard_events`` is its ledger)."""

    __tablename__ = "hazards"
    __table_args__ = (
        CheckConstraint("status IN ('reported','ordered','submitted','closed')", name="status_known"),
        CheckConstraint("level IN ('general','major')", name="level_known"),
        CheckConstraint("NOT supervised OR level = 'major'", name="supervised_only_major"),
        CheckConstraint("source IN ('inspection','patrol','grid_report','self','public')", name="source_known"),
        CheckConstraint("NOT self_fixed OR level = 'general'", name="self_fixed_only_general"),
        Index("ix_hazards_status_deadline", "status", "deadline"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    item_code: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    location = mapped_column(Geometry("POINT", srid=4326), nullable=True)
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    status: Mapped[str] = mapped_column(String(16), server_default="reported")
    source: Mapped[str] = mapped_column(String(16))
    # 自改: closed by the enterprise itself (``self_fix``), open to an inspector's spot check (抽查).
    self_fixed: Mapped[bool] = mapped_column(server_default=text("false"))
    found_at: Mapped[datetime]
    found_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    deadline: Mapped[datetime | None]
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    measures: Mapped[str | None] = mapped_column(Text)
    # 五落实: responsibility, measures, funds, deadline, contingency_plan (major hazards).
    five: Mapped[dict | None] = mapped_column(JSONB)
    treatment_plan: Mapped[str | None] = mapped_column(Text)
    supervised: Mapped[bool] = mapped_column(server_default=text("false"))
    supervising_office: Mapped[str | None] = mapped_column(String(200))
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    rechecked_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    # Of the create payload (free reports) or of the inspection that raised it.
    content_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None]
    recorded_at_corrected: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(server_default=text("1"))


class HazardEvent(Base):
    """One step of a hazard's life: who, when, where, which photos (the ledger is evidence)."""

    __tablename__ = "hazard_events"
    __table_args__ = (Index("ix_hazard_events_hazard", "hazard_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hazards.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime]
    recorded_at: Mapped[datetime | None]
    recorded_at_corrected: Mapped[datetime | None]
    location = mapped_column(Geometry("POINT", srid=4326), nullable=True)
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    note: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[dict] = mapped_column(JSONB)
    # Of the pushed change, so a re-sent transition is recognised as the same one.
    change_hash: Mapped[str | None] = mapped_column(String(64))


class Patrol(Base):
    """巡查: a grid worker's walk through their grid."""

    __tablename__ = "patrols"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id"), index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    track = mapped_column(Geometry("LINESTRING", srid=4326), nullable=True)
    track_times: Mapped[list | None] = mapped_column(JSONB)
    notes: Mapped[str] = mapped_column(Text, server_default="")
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    supersedes: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patrols.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime | None]
    recorded_at_corrected: Mapped[datetime | None]
    received_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(server_default=text("1"))


class PatrolVisit(Base):
    __tablename__ = "patrol_visits"
    __table_args__ = (
        CheckConstraint("outcome IN ('normal','hazard_found','closed_down','not_found')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    at: Mapped[datetime]
    location = mapped_column(Geometry("POINT", srid=4326), nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float)
    # Beyond the geofence (or NULL: no position): kept, flagged, and not counted as patrolled.
    outside_geofence: Mapped[bool | None]
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, server_default="")
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))


class Task(Base):
    """Work the system assigns (任务): patrol an enterprise by a date, a self-inspection due, a recheck
    due. ``period_key`` makes a scheduled job idempotent: one task per (kind, target, period)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('patrol','self_inspection','recheck','overdue_hazard','verify_report')", name="kind_known"
        ),
        CheckConstraint("status IN ('open','accepted','done','declined','cancelled')", name="status_known"),
        Index("uq_tasks_period", "kind", "target_id", "assignee_id", "period_key", unique=True),
        Index("ix_tasks_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    assignee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    target_entity: Mapped[str] = mapped_column(String(24))
    target_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    due: Mapped[datetime]
    period_key: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    note: Mapped[str] = mapped_column(Text, server_default="")
    result_entity: Mapped[str | None] = mapped_column(String(24))
    result_id: Mapped[uuid.UUID | None]
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"))
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(server_default=text("1"))
