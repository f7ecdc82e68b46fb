"""audit entity_id: 128 characters, as long as the device ids it names (a logout or revoke of a
device with an id of 65–128 characters failed with a 500)

Revision ID: 0015_audit_entity_id
Revises: 0014_photo_ref_grants
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_audit_entity_id"
down_revision = "0014_photo_ref_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Widening a varchar rewrites nothing and fires no trigger (the log's append-only triggers are
    # on UPDATE and DELETE of rows).
    op.alter_column("audit_log", "entity_id", type_=sa.String(128), existing_type=sa.String(64), existing_nullable=True)


def downgrade() -> None:
    op.alter_column("audit_log", "entity_id", type_=sa.String(64), existing_type=sa.String(128), existing_nullable=True)
