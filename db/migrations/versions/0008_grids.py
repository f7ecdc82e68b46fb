"""grids: an index for a grid's assignment history (who assigned whom, when)

Revision ID: 0008_grids
Revises: 0007_jobs
"""

from alembic import op

revision = "0008_grids"
down_revision = "0007_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_grid_assignments_grid_history", "grid_assignments", ["grid_id", "assigned_at"])


def downgrade() -> None:
    op.drop_index("ix_grid_assignments_grid_history", table_name="grid_assignments")
