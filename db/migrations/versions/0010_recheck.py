"""recheck: what a recheck inspection (复查) did to the open hazards of the items it judged

Revision ID: 0010_recheck
Revises: 0009_feed_floor
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_recheck"
down_revision = "0009_feed_floor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "inspections",
        sa.Column(
            "rechecked", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("inspections", "rechecked")
