"""plans, draws, inspections, hazards, patrols, tasks

Revision ID: 0005_inspections
Revises: 0004_photos
Create Date: 2026-11-22 20:16:31.810665
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0005_inspections"
down_revision = "0004_photos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "patrols",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("grid_id", sa.UUID(), nullable=False),
        sa.Column("worker_id", sa.UUID(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "track",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("track_times", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("photos", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("supersedes", sa.UUID(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at_corrected", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_patrols_grid_id_grids")),
        sa.ForeignKeyConstraint(["supersedes"], ["patrols.id"], name=op.f("fk_patrols_supersedes_patrols")),
        sa.ForeignKeyConstraint(["worker_id"], ["users.id"], name=op.f("fk_patrols_worker_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols")),
    )
    op.create_geospatial_index(
        "idx_patrols_track", "patrols", ["track"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_patrols_grid_id"), "patrols", ["grid_id"], unique=False)
    op.create_index(op.f("ix_patrols_worker_id"), "patrols", ["worker_id"], unique=False)
    op.create_table(
        "random_draws",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=False),
        sa.Column("enterprise_pool", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("inspector_pool", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_random_draws_created_by_users")),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_random_draws_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_random_draws")),
    )
    op.create_geospatial_table(
        "patrol_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.UUID(), nullable=False),
        sa.Column("enterprise_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("photos", sa.ARRAY(sa.Text()), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('normal','hazard_found','closed_down','not_found')",
            name=op.f("ck_patrol_visits_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_patrol_visits_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["patrol_id"], ["patrols.id"], name=op.f("fk_patrol_visits_patrol_id_patrols"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_visits")),
    )
    op.create_geospatial_index(
        "idx_patrol_visits_location",
        "patrol_visits",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_patrol_visits_enterprise_id"), "patrol_visits", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_patrol_visits_patrol_id"), "patrol_visits", ["patrol_id"], unique=False)
    op.create_table(
        "plans",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("enterprise_ids", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("inspector_ids", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("draw_id", sa.UUID(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('routine','special','random','unannounced','recheck')", name=op.f("ck_plans_kind_known")
        ),
        sa.CheckConstraint("window_end >= window_start", name=op.f("ck_plans_window_ordered")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_plans_created_by_users")),
        sa.ForeignKeyConstraint(["draw_id"], ["random_draws.id"], name=op.f("fk_plans_draw_id_random_draws")),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_plans_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index("ix_plans_enterprise_ids", "plans", ["enterprise_ids"], unique=False, postgresql_using="gin")
    op.create_index("ix_plans_inspector_ids", "plans", ["inspector_ids"], unique=False, postgresql_using="gin")
    op.create_table(
        "tasks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("assignee_id", sa.UUID(), nullable=False),
        sa.Column("target_entity", sa.String(length=24), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("enterprise_id", sa.UUID(), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("result_entity", sa.String(length=24), nullable=True),
        sa.Column("result_id", sa.UUID(), nullable=True),
        sa.Column("region_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('patrol','self_inspection','recheck','overdue_hazard')", name=op.f("ck_tasks_kind_known")
        ),
        sa.CheckConstraint("status IN ('open','accepted','done','declined')", name=op.f("ck_tasks_status_known")),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"], name=op.f("fk_tasks_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_tasks_grid_id_grids"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_tasks_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_assignee_status", "tasks", ["assignee_id", "status"], unique=False)
    op.create_index(op.f("ix_tasks_enterprise_id"), "tasks", ["enterprise_id"], unique=False)
    op.create_index("uq_tasks_period", "tasks", ["kind", "target_id", "assignee_id", "period_key"], unique=True)
    op.create_geospatial_table(
        "inspections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("enterprise_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.UUID(), nullable=True),
        sa.Column("checklist_code", sa.String(length=100), nullable=False),
        sa.Column("checklist_version", sa.Integer(), nullable=False),
        sa.Column("inspector_ids", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("location_accuracy_m", sa.Float(), nullable=True),
        sa.Column("location_given", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("outside_geofence", sa.Boolean(), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcomes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("photos", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("remarks", sa.Text(), server_default="", nullable=False),
        sa.Column("supersedes", sa.UUID(), nullable=True),
        sa.Column("region_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("recorded_by", sa.UUID(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at_corrected", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('routine','special','random','unannounced','recheck','self','patrol_check')",
            name=op.f("ck_inspections_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_inspections_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_inspections_grid_id_grids"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_inspections_plan_id_plans")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_inspections_recorded_by_users")),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_inspections_region_id_regions")),
        sa.ForeignKeyConstraint(["supersedes"], ["inspections.id"], name=op.f("fk_inspections_supersedes_inspections")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_geospatial_index(
        "idx_inspections_location",
        "inspections",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_inspections_enterprise_id"), "inspections", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_inspections_plan_id"), "inspections", ["plan_id"], unique=False)
    op.create_index(op.f("ix_inspections_region_id"), "inspections", ["region_id"], unique=False)
    op.create_geospatial_table(
        "hazards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("enterprise_id", sa.UUID(), nullable=True),
        sa.Column("inspection_id", sa.UUID(), nullable=True),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("photos", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="reported", nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found_by", sa.UUID(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responsible_person", sa.String(length=100), nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("five", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("treatment_plan", sa.Text(), nullable=True),
        sa.Column("supervised", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("supervising_office", sa.String(length=200), nullable=True),
        sa.Column("submitted_by", sa.UUID(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rechecked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.UUID(), nullable=True),
        sa.Column("region_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at_corrected", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("NOT supervised OR level = 'major'", name=op.f("ck_hazards_supervised_only_major")),
        sa.CheckConstraint("level IN ('general','major')", name=op.f("ck_hazards_level_known")),
        sa.CheckConstraint(
            "status IN ('reported','ordered','submitted','closed')", name=op.f("ck_hazards_status_known")
        ),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_hazards_closed_by_users")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_hazards_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["found_by"], ["users.id"], name=op.f("fk_hazards_found_by_users")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_hazards_grid_id_grids"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_hazards_inspection_id_inspections")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_hazards_region_id_regions")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"], name=op.f("fk_hazards_submitted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazards")),
    )
    op.create_geospatial_index(
        "idx_hazards_location", "hazards", ["location"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_hazards_enterprise_id"), "hazards", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_hazards_grid_id"), "hazards", ["grid_id"], unique=False)
    op.create_index(op.f("ix_hazards_inspection_id"), "hazards", ["inspection_id"], unique=False)
    op.create_index(op.f("ix_hazards_region_id"), "hazards", ["region_id"], unique=False)
    op.create_index("ix_hazards_status_deadline", "hazards", ["status", "deadline"], unique=False)
    op.create_geospatial_table(
        "hazard_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at_corrected", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("photos", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("change_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_hazard_events_actor_id_users")),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"], name=op.f("fk_hazard_events_hazard_id_hazards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_events")),
    )
    op.create_geospatial_index(
        "idx_hazard_events_location",
        "hazard_events",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_hazard_events_hazard", "hazard_events", ["hazard_id", "version"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hazard_events_hazard", table_name="hazard_events")
    op.drop_geospatial_index(
        "idx_hazard_events_location", table_name="hazard_events", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("hazard_events")
    op.drop_index("ix_hazards_status_deadline", table_name="hazards")
    op.drop_index(op.f("ix_hazards_region_id"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_inspection_id"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_grid_id"), table_name="hazards")
    op.drop_index(op.f("ix_hazards_enterprise_id"), table_name="hazards")
    op.drop_geospatial_index(
        "idx_hazards_location", table_name="hazards", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("hazards")
    op.drop_index(op.f("ix_inspections_region_id"), table_name="inspections")
    op.drop_index(op.f("ix_inspections_plan_id"), table_name="inspections")
    op.drop_index(op.f("ix_inspections_enterprise_id"), table_name="inspections")
    op.drop_geospatial_index(
        "idx_inspections_location", table_name="inspections", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("inspections")
    op.drop_index("uq_tasks_period", table_name="tasks")
    op.drop_index(op.f("ix_tasks_enterprise_id"), table_name="tasks")
    op.drop_index("ix_tasks_assignee_status", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_plans_inspector_ids", table_name="plans", postgresql_using="gin")
    op.drop_index("ix_plans_enterprise_ids", table_name="plans", postgresql_using="gin")
    op.drop_table("plans")
    op.drop_index(op.f("ix_patrol_visits_patrol_id"), table_name="patrol_visits")
    op.drop_index(op.f("ix_patrol_visits_enterprise_id"), table_name="patrol_visits")
    op.drop_geospatial_index(
        "idx_patrol_visits_location", table_name="patrol_visits", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("patrol_visits")
    op.drop_table("random_draws")
    op.drop_index(op.f("ix_patrols_worker_id"), table_name="patrols")
    op.drop_index(op.f("ix_patrols_grid_id"), table_name="patrols")
    op.drop_geospatial_index("idx_patrols_track", table_name="patrols", postgresql_using="gist", column_name="track")
    op.drop_geospatial_table("patrols")
