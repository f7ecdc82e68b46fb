"""people administration: a temporary password to change at next login, deactivation (who, when),
a version and update time on users (optimistic locking and ETags), one account per phone number

Revision ID: 0019_people_admin
Revises: 0018_public_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_people_admin"
down_revision = "0018_public_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column("users", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("deactivated_by", sa.Uuid(), nullable=True))
    op.add_column("users", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column(
        "users", sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
    )
    op.create_foreign_key(op.f("fk_users_deactivated_by_users"), "users", "users", ["deactivated_by"], ["id"])
    # A phone number names one account (the roster import makes it the username): kept by deactivated ones too.
    op.create_index("uq_users_phone", "users", ["phone"], unique=True, postgresql_where=sa.text("phone IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_users_phone", table_name="users", postgresql_where=sa.text("phone IS NOT NULL"))
    op.drop_constraint(op.f("fk_users_deactivated_by_users"), "users", type_="foreignkey")
    for column in ("updated_at", "version", "deactivated_by", "deactivated_at", "must_change_password"):
        op.drop_column("users", column)
