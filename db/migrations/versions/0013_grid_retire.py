"""grid retire: a grid is retired (soft), kept for the records naming it, and leaves every phone's view

Revision ID: 0013_grid_retire
Revises: 0012_people
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_grid_retire"
down_revision = "0012_people"
branch_labels = None
depends_on = None


def _feed(grid_op: str, assignment_op: str) -> str:
    """The change-log functions of grids and their assignments, with the op each logs for a grid."""
    return f"""
CREATE OR REPLACE FUNCTION log_grid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, old_grid_id, old_region_path)
    VALUES ('grid', OLD.id::text, 'delete', OLD.version, OLD.id, change_log_region_path(OLD.town_id));
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path, old_region_path)
  VALUES ('grid', NEW.id::text, {grid_op}, NEW.version, NEW.id, NEW.id, change_log_region_path(NEW.town_id),
          CASE WHEN TG_OP = 'UPDATE' THEN change_log_region_path(OLD.town_id) END);
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION log_grid_assignment_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  g grids%ROWTYPE;
BEGIN
  SELECT * INTO g FROM grids WHERE id = COALESCE(NEW.grid_id, OLD.grid_id);
  IF FOUND THEN
    INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path)
    VALUES ('grid', g.id::text, {assignment_op}, g.version, g.id, g.id, change_log_region_path(g.town_id));
  END IF;
  RETURN NULL;
END $$;
"""


# A retired grid is logged as a delete: its row stays, but phones drop it (the assignment trigger fires
# while its assignments are closed, so it follows the same rule).
FEED = _feed(
    "CASE WHEN NEW.retired_at IS NULL THEN 'upsert' ELSE 'delete' END",
    "CASE WHEN g.retired_at IS NULL THEN 'upsert' ELSE 'delete' END",
)
# As 0006_sync made them.
FEED_BEFORE = _feed("'upsert'", "'upsert'")


def upgrade() -> None:
    op.add_column("grids", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("grids", sa.Column("retired_by", sa.UUID(), nullable=True))
    op.create_foreign_key(op.f("fk_grids_retired_by_users"), "grids", "users", ["retired_by"], ["id"])
    op.execute(FEED)


def downgrade() -> None:
    op.execute(FEED_BEFORE)
    op.drop_constraint(op.f("fk_grids_retired_by_users"), "grids", type_="foreignkey")
    op.drop_column("grids", "retired_by")
    op.drop_column("grids", "retired_at")
