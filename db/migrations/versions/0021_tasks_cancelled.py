"""tasks a desk officer withdraws (撤销) end as 'cancelled', apart from the 'declined' of the person
who refused one

Revision ID: 0021_tasks_cancelled
Revises: 0020_signatures
"""

from alembic import op

revision = "0021_tasks_cancelled"
down_revision = "0020_signatures"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('open','accepted','done','declined')"
NEW_STATUSES = "status IN ('open','accepted','done','declined','cancelled')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_tasks_status_known"), "tasks", type_="check")
    op.create_check_constraint(op.f("ck_tasks_status_known"), "tasks", NEW_STATUSES)


def downgrade() -> None:
    # The older schema knows no withdrawn task: the nearest it has is one that will not be done.
    op.execute("UPDATE tasks SET status = 'declined' WHERE status = 'cancelled'")
    op.drop_constraint(op.f("ck_tasks_status_known"), "tasks", type_="check")
    op.create_check_constraint(op.f("ck_tasks_status_known"), "tasks", OLD_STATUSES)
