"""foundation: users, devices, regions, grids, enterprises, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:55:38.549206
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from db.base import Ltree

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS ltree")
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["address", "at"], unique=False)
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"], unique=False)
    op.create_geospatial_table(
        "regions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("path", Ltree(), nullable=False),
        sa.Column(
            "geometry",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{12}$'", name=op.f("ck_regions_code_12_digits")),
        sa.CheckConstraint("level IN ('district','town','village')", name=op.f("ck_regions_level_known")),
        sa.ForeignKeyConstraint(["parent_id"], ["regions.id"], name=op.f("fk_regions_parent_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("code", name=op.f("uq_regions_code")),
    )
    op.create_geospatial_index(
        "idx_regions_geometry", "regions", ["geometry"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_regions_parent_id"), "regions", ["parent_id"], unique=False)
    op.create_index("ix_regions_path_gist", "regions", ["path"], unique=False, postgresql_using="gist")
    op.create_geospatial_table(
        "grids",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("town_id", sa.UUID(), nullable=False),
        sa.Column(
            "geometry",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["town_id"], ["regions.id"], name=op.f("fk_grids_town_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
    )
    op.create_geospatial_index(
        "idx_grids_geometry", "grids", ["geometry"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_grids_town_id"), "grids", ["town_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("enforcement_cert_no", sa.String(length=64), nullable=True),
        sa.Column("enterprise_id", sa.UUID(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "NOT ('enterprise_officer' = ANY(roles)) OR enterprise_id IS NOT NULL",
            name=op.f("ck_users_enterprise_officer_has_enterprise"),
        ),
        sa.CheckConstraint(
            "NOT ('inspector' = ANY(roles)) OR enforcement_cert_no IS NOT NULL",
            name=op.f("ck_users_inspector_has_cert"),
        ),
        sa.CheckConstraint(
            "roles <@ ARRAY['admin','desk_officer','inspector','grid_worker','enterprise_officer']::text[] AND cardinality(roles) > 0",
            name=op.f("ck_users_roles_known"),
        ),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_users_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("app_version", sa.String(length=64), nullable=True),
        sa.Column("last_user_id", sa.UUID(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(["last_user_id"], ["users.id"], name=op.f("fk_devices_last_user_id_users")),
        sa.ForeignKeyConstraint(["revoked_by"], ["users.id"], name=op.f("fk_devices_revoked_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_geospatial_table(
        "enterprises",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("subtype", sa.String(length=32), nullable=False),
        sa.Column("address", sa.Text(), server_default="", nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "licences", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("region_id", sa.UUID(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "industry IN ('fireworks','hazardous_chemicals','construction','special_equipment','gas')",
            name=op.f("ck_enterprises_industry_known"),
        ),
        sa.CheckConstraint("risk IN ('red','orange','yellow','blue')", name=op.f("ck_enterprises_risk_known")),
        sa.CheckConstraint("uscc ~ '^[0-9A-HJ-NP-RTUWXY]{18}$'", name=op.f("ck_enterprises_uscc_format")),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_enterprises_grid_id_grids"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_enterprises_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprises_uscc")),
    )
    op.create_geospatial_index(
        "idx_enterprises_location",
        "enterprises",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_enterprises_grid_id"), "enterprises", ["grid_id"], unique=False)
    op.create_index(op.f("ix_enterprises_industry"), "enterprises", ["industry"], unique=False)
    op.create_index(op.f("ix_enterprises_region_id"), "enterprises", ["region_id"], unique=False)
    op.create_table(
        "grid_assignments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("grid_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.UUID(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name=op.f("fk_grid_assignments_assigned_by_users")),
        sa.ForeignKeyConstraint(["ended_by"], ["users.id"], name=op.f("fk_grid_assignments_ended_by_users")),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_grid_assignments_grid_id_grids"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_grid_assignments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_assignments")),
    )
    op.create_index(
        "ix_grid_assignments_user_open",
        "grid_assignments",
        ["user_id"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "uq_grid_assignments_open",
        "grid_assignments",
        ["grid_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "grid_villages",
        sa.Column("grid_id", sa.UUID(), nullable=False),
        sa.Column("village_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_grid_villages_grid_id_grids"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["village_id"], ["regions.id"], name=op.f("fk_grid_villages_village_id_regions")),
        sa.PrimaryKeyConstraint("grid_id", "village_id", name=op.f("pk_grid_villages")),
    )
    op.create_index(op.f("ix_grid_villages_village_id"), "grid_villages", ["village_id"], unique=False)
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_access_tokens_device_id_devices")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    op.create_index(op.f("ix_access_tokens_device_id"), "access_tokens", ["device_id"], unique=False)
    op.create_index(op.f("ix_access_tokens_user_id"), "access_tokens", ["user_id"], unique=False)
    # users and enterprises refer to each other (an enterprise officer belongs to one enterprise).
    op.create_foreign_key("fk_users_enterprise_id_enterprises", "users", "enterprises", ["enterprise_id"], ["id"])
    # The audit log is evidence: it only ever grows.
    op.execute("""
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_constraint("fk_users_enterprise_id_enterprises", "users", type_="foreignkey")
    op.drop_index(op.f("ix_access_tokens_user_id"), table_name="access_tokens")
    op.drop_index(op.f("ix_access_tokens_device_id"), table_name="access_tokens")
    op.drop_table("access_tokens")
    op.drop_index(op.f("ix_grid_villages_village_id"), table_name="grid_villages")
    op.drop_table("grid_villages")
    op.drop_index(
        "uq_grid_assignments_open", table_name="grid_assignments", postgresql_where=sa.text("ended_at IS NULL")
    )
    op.drop_index(
        "ix_grid_assignments_user_open", table_name="grid_assignments", postgresql_where=sa.text("ended_at IS NULL")
    )
    op.drop_table("grid_assignments")
    op.drop_index(op.f("ix_enterprises_region_id"), table_name="enterprises")
    op.drop_index(op.f("ix_enterprises_industry"), table_name="enterprises")
    op.drop_index(op.f("ix_enterprises_grid_id"), table_name="enterprises")
    op.drop_geospatial_index(
        "idx_enterprises_location", table_name="enterprises", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("enterprises")
    op.drop_table("devices")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")
    op.drop_index(op.f("ix_grids_town_id"), table_name="grids")
    op.drop_geospatial_index("idx_grids_geometry", table_name="grids", postgresql_using="gist", column_name="geometry")
    op.drop_geospatial_table("grids")
    op.drop_index("ix_regions_path_gist", table_name="regions", postgresql_using="gist")
    op.drop_index(op.f("ix_regions_parent_id"), table_name="regions")
    op.drop_geospatial_index(
        "idx_regions_geometry", table_name="regions", postgresql_using="gist", column_name="geometry"
    )
    op.drop_geospatial_table("regions")
    op.drop_index("ix_login_attempts_username_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_address_at", table_name="login_attempts")
    op.drop_table("login_attempts")
