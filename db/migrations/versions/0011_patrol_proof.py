"""patrol proof: each patrol visit flagged when recorded beyond the geofence of its enterprise

Revision ID: 0011_patrol_proof
Revises: 0010_recheck
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_patrol_proof"
down_revision = "0010_recheck"
branch_labels = None
depends_on = None

# Visits recorded before this migration are judged against the default ANXUN_GEOFENCE_METERS.
DEFAULT_GEOFENCE_M = 300


def upgrade() -> None:
    op.add_column("patrol_visits", sa.Column("outside_geofence", sa.Boolean(), nullable=True))
    op.execute(
        f"UPDATE patrol_visits SET outside_geofence = distance_m > {DEFAULT_GEOFENCE_M} WHERE distance_m IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("patrol_visits", "outside_geofence")
