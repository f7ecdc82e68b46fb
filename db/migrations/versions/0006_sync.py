"""change feed (triggers on every pullable table) and pushed batches

Revision ID: 0006_sync
Revises: 0005_inspections
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from db.base import Ltree
from sync.models import Xid8

revision = "0006_sync"
down_revision = "0005_inspections"
branch_labels = None
depends_on = None

# Each pullable table logs (entity, id, op, version, scope keys before/after) on every row change.
TRIGGERS = """
CREATE FUNCTION change_log_region_path(region uuid) RETURNS ltree LANGUAGE sql STABLE AS
  $$ SELECT path FROM regions WHERE id = region $$;

CREATE FUNCTION log_enterprise_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, old_grid_id, old_region_path, enterprise_id)
    VALUES ('enterprise', OLD.id::text, 'delete', OLD.version, OLD.grid_id, change_log_region_path(OLD.region_id), OLD.id);
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path, old_region_path, enterprise_id)
  VALUES ('enterprise', NEW.id::text, 'upsert', NEW.version, NEW.grid_id,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.grid_id END, change_log_region_path(NEW.region_id),
          CASE WHEN TG_OP = 'UPDATE' THEN change_log_region_path(OLD.region_id) END, NEW.id);
  RETURN NEW;
END $$;

CREATE FUNCTION log_grid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, old_grid_id, old_region_path)
    VALUES ('grid', OLD.id::text, 'delete', OLD.version, OLD.id, change_log_region_path(OLD.town_id));
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path, old_region_path)
  VALUES ('grid', NEW.id::text, 'upsert', NEW.version, NEW.id, NEW.id, change_log_region_path(NEW.town_id),
          CASE WHEN TG_OP = 'UPDATE' THEN change_log_region_path(OLD.town_id) END);
  RETURN NEW;
END $$;

-- A worker put on or taken off a grid changes the grid record phones hold (its worker list).
CREATE FUNCTION log_grid_assignment_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  g grids%ROWTYPE;
BEGIN
  SELECT * INTO g FROM grids WHERE id = COALESCE(NEW.grid_id, OLD.grid_id);
  IF FOUND THEN
    INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path)
    VALUES ('grid', g.id::text, 'upsert', g.version, g.id, g.id, change_log_region_path(g.town_id));
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION log_hazard_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, old_grid_id, old_region_path, enterprise_id)
    VALUES ('hazard', OLD.id::text, 'delete', OLD.version, OLD.grid_id, change_log_region_path(OLD.region_id),
            OLD.enterprise_id);
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, grid_id, old_grid_id, region_path, old_region_path, enterprise_id)
  VALUES ('hazard', NEW.id::text, 'upsert', NEW.version, NEW.grid_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.grid_id END,
          change_log_region_path(NEW.region_id),
          CASE WHEN TG_OP = 'UPDATE' THEN change_log_region_path(OLD.region_id) END, NEW.enterprise_id);
  RETURN NEW;
END $$;

CREATE FUNCTION log_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, audience)
    VALUES ('task', OLD.id::text, 'delete', OLD.version, ARRAY[OLD.assignee_id]);
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, audience)
  VALUES ('task', NEW.id::text, 'upsert', NEW.version,
          ARRAY[NEW.assignee_id] || CASE WHEN TG_OP = 'UPDATE' AND OLD.assignee_id <> NEW.assignee_id
                                         THEN ARRAY[OLD.assignee_id] ELSE ARRAY[]::uuid[] END);
  RETURN NEW;
END $$;

-- Plans reach only the people on them (team and author): unannounced plans must never leak.
CREATE FUNCTION log_plan_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (entity, entity_id, op, version, audience)
    VALUES ('plan', OLD.id::text, 'delete', OLD.version, OLD.inspector_ids || OLD.created_by);
    RETURN OLD;
  END IF;
  INSERT INTO change_log (entity, entity_id, op, version, audience)
  VALUES ('plan', NEW.id::text, 'upsert', NEW.version,
          NEW.inspector_ids || NEW.created_by
            || CASE WHEN TG_OP = 'UPDATE' THEN OLD.inspector_ids ELSE ARRAY[]::uuid[] END);
  RETURN NEW;
END $$;

CREATE FUNCTION log_checklist_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO change_log (entity, entity_id, op, version)
  VALUES ('checklist_template', NEW.code || '@' || NEW.version,
          CASE WHEN NEW.status = 'published' THEN 'upsert' ELSE 'delete' END, NEW.version);
  RETURN NEW;
END $$;

CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON enterprises
  FOR EACH ROW EXECUTE FUNCTION log_enterprise_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON grids
  FOR EACH ROW EXECUTE FUNCTION log_grid_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON grid_assignments
  FOR EACH ROW EXECUTE FUNCTION log_grid_assignment_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON hazards
  FOR EACH ROW EXECUTE FUNCTION log_hazard_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION log_task_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE OR DELETE ON plans
  FOR EACH ROW EXECUTE FUNCTION log_plan_change();
CREATE TRIGGER change_log AFTER INSERT OR UPDATE ON checklist_templates
  FOR EACH ROW EXECUTE FUNCTION log_checklist_change();
"""

TABLES = ["enterprises", "grids", "grid_assignments", "hazards", "tasks", "plans", "checklist_templates"]
FUNCTIONS = [
    "log_enterprise_change",
    "log_grid_change",
    "log_grid_assignment_change",
    "log_hazard_change",
    "log_task_change",
    "log_plan_change",
    "log_checklist_change",
]


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("txid", Xid8(), server_default=sa.text("pg_current_xact_id()"), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.UUID(), nullable=True),
        sa.Column("old_grid_id", sa.UUID(), nullable=True),
        sa.Column("region_path", Ltree(), nullable=True),
        sa.Column("old_region_path", Ltree(), nullable=True),
        sa.Column("enterprise_id", sa.UUID(), nullable=True),
        sa.Column("audience", sa.ARRAY(sa.UUID()), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    op.create_index("ix_change_log_position", "change_log", ["txid", "seq"])
    op.create_index("ix_change_log_record", "change_log", ["entity", "entity_id", "txid", "seq"])
    op.create_index("ix_change_log_grid", "change_log", ["grid_id"])
    op.create_index("ix_change_log_old_grid", "change_log", ["old_grid_id"])
    op.create_index("ix_change_log_region", "change_log", ["region_path"], postgresql_using="gist")
    op.create_index("ix_change_log_old_region", "change_log", ["old_region_path"], postgresql_using="gist")
    op.create_index("ix_change_log_audience", "change_log", ["audience"], postgresql_using="gin")
    op.create_table(
        "sync_batches",
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "batch_id", name=op.f("pk_sync_batches")),
    )
    op.execute(TRIGGERS)
    # Records that existed before the feed: log them once, so a first pull is complete.
    op.execute("""
        UPDATE enterprises SET version = version;
        UPDATE grids SET version = version;
        UPDATE hazards SET version = version;
        UPDATE tasks SET version = version;
        UPDATE plans SET version = version;
        UPDATE checklist_templates SET status = status;
    """)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER change_log ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION change_log_region_path(uuid)")
    op.drop_table("sync_batches")
    op.drop_table("change_log")
