"""scheduled jobs: the job-run log and the monthly figures

Revision ID: 0007_jobs
Revises: 0006_sync
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0007_jobs"
down_revision = "0006_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job", "started_at"])
    op.create_table(
        "monthly_figures",
        sa.Column("region_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspections", sa.Integer(), nullable=False),
        sa.Column("inspections_by_kind", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hazards_found", sa.Integer(), nullable=False),
        sa.Column("hazards_found_major", sa.Integer(), nullable=False),
        sa.Column("hazards_closed", sa.Integer(), nullable=False),
        sa.Column("closure_rate", sa.Float(), nullable=True),
        sa.Column("hazards_closed_in_month", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("major_open", sa.Integer(), nullable=False),
        sa.Column("major_supervised", sa.Integer(), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("enterprises_patrolled", sa.Integer(), nullable=False),
        sa.Column("patrol_coverage", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("rank_of", sa.Integer(), nullable=False),
        sa.Column("office", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_monthly_figures_region_id_regions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("region_id", "month", name=op.f("pk_monthly_figures")),
    )


def downgrade() -> None:
    op.drop_table("monthly_figures")
    op.drop_index("ix_job_runs_job_started", table_name="job_runs")
    op.drop_table("job_runs")
