"""feed floor: how far back the change feed still reaches after compaction

Revision ID: 0009_feed_floor
Revises: 0008_grids
"""

import sqlalchemy as sa
from alembic import op

from sync.models import Xid8

revision = "0009_feed_floor"
down_revision = "0008_grids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log_floor",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("txid", Xid8(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("compacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log_floor")),
    )


def downgrade() -> None:
    op.drop_table("change_log_floor")
