"""photo references remember who named the photo and whether that shows it to the record's viewers

Revision ID: 0014_photo_ref_grants
Revises: 0013_grid_retire
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_photo_ref_grants"
down_revision = "0013_grid_retire"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photo_refs", sa.Column("named_by", sa.UUID(), nullable=True))
    op.create_foreign_key(op.f("fk_photo_refs_named_by_users"), "photo_refs", "users", ["named_by"], ["id"])
    # References made before this revision recorded no namer: they keep showing their photos as they did.
    op.add_column("photo_refs", sa.Column("vouched", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.alter_column("photo_refs", "vouched", server_default=None)


def downgrade() -> None:
    op.drop_column("photo_refs", "vouched")
    op.drop_constraint(op.f("fk_photo_refs_named_by_users"), "photo_refs", type_="foreignkey")
    op.drop_column("photo_refs", "named_by")
