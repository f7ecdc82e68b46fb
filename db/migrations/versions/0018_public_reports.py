"""public reports (12350 举报): reports, spent proof-of-work challenges, the challenge key; photos may
have no uploader account (a member of the public); a task to verify a report

Revision ID: 0018_public_reports
Revises: 0017_hazard_source
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_public_reports"
down_revision = "0017_hazard_source"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('patrol','self_inspection','recheck','overdue_hazard')"
NEW_KINDS = "kind IN ('patrol','self_inspection','recheck','overdue_hazard','verify_report')"


def upgrade() -> None:
    op.create_table(
        "public_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("place", sa.String(200), server_default="", nullable=False),
        sa.Column("location", geoalchemy2.Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("location_given", postgresql.JSONB(), nullable=False),
        sa.Column(
            "region_id",
            sa.Uuid(),
            sa.ForeignKey("regions.id", name=op.f("fk_public_reports_region_id_regions")),
            nullable=True,
        ),
        sa.Column(
            "grid_id",
            sa.Uuid(),
            sa.ForeignKey("grids.id", ondelete="SET NULL", name=op.f("fk_public_reports_grid_id_grids")),
            nullable=True,
        ),
        sa.Column("photos", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("reporter_name", sa.String(50), nullable=True),
        sa.Column("reporter_phone", sa.String(20), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), server_default="received", nullable=False),
        sa.Column(
            "duplicate_of",
            sa.Uuid(),
            sa.ForeignKey("public_reports.id", name=op.f("fk_public_reports_duplicate_of_public_reports")),
            nullable=True,
        ),
        sa.Column("desk_note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "assigned_to",
            sa.Uuid(),
            sa.ForeignKey("users.id", name=op.f("fk_public_reports_assigned_to_users")),
            nullable=True,
        ),
        sa.Column(
            "task_id", sa.Uuid(), sa.ForeignKey("tasks.id", name=op.f("fk_public_reports_task_id_tasks")), nullable=True
        ),
        sa.Column(
            "enterprise_id",
            sa.Uuid(),
            sa.ForeignKey("enterprises.id", name=op.f("fk_public_reports_enterprise_id_enterprises")),
            nullable=True,
        ),
        sa.Column(
            "hazard_id",
            sa.Uuid(),
            sa.ForeignKey("hazards.id", name=op.f("fk_public_reports_hazard_id_hazards")),
            nullable=True,
        ),
        sa.Column("case_ref", sa.String(64), nullable=True),
        sa.Column("outcome", sa.Text(), server_default="", nullable=False),
        sa.Column("reward_amount", sa.Numeric(10, 2), nullable=True),
        sa.Column("reward_paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('received','duplicate','not_safety','to_verify','verified','unfounded')",
            name=op.f("ck_public_reports_status_known"),
        ),
        sa.CheckConstraint(
            "reward_amount IS NULL OR status = 'verified'", name=op.f("ck_public_reports_reward_only_verified")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_public_reports_code")),
    )
    op.create_index(op.f("ix_public_reports_region_id"), "public_reports", ["region_id"])
    op.create_geospatial_index(
        "idx_public_reports_location",
        "public_reports",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_public_reports_address_created", "public_reports", ["client_address", "created_at"])
    op.create_table(
        "public_spent_challenges",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_spent_challenges")),
    )
    op.create_index(op.f("ix_public_spent_challenges_expires_at"), "public_spent_challenges", ["expires_at"])
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    # gen_random_uuid() draws from the server's strong random source: two of them, 244 random bits.
    op.execute(
        "INSERT INTO server_secrets (name, value) "
        "VALUES ('public_challenge', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))"
    )
    op.alter_column("photos", "uploaded_by", nullable=True, existing_type=sa.Uuid())
    op.drop_constraint(op.f("ck_tasks_kind_known"), "tasks", type_="check")
    op.create_check_constraint(op.f("ck_tasks_kind_known"), "tasks", NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM tasks WHERE kind = 'verify_report'")
    op.drop_constraint(op.f("ck_tasks_kind_known"), "tasks", type_="check")
    op.create_check_constraint(op.f("ck_tasks_kind_known"), "tasks", OLD_KINDS)
    op.execute("DELETE FROM photos WHERE uploaded_by IS NULL")
    op.alter_column("photos", "uploaded_by", nullable=False, existing_type=sa.Uuid())
    op.drop_table("server_secrets")
    op.drop_table("public_spent_challenges")
    op.drop_table("public_reports")
