"""people: how long each 执法证 (enforcement certificate) is valid

Revision ID: 0012_people
Revises: 0011_patrol_proof
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_people"
down_revision = "0011_patrol_proof"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("enforcement_cert_valid_until", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "enforcement_cert_valid_until")
