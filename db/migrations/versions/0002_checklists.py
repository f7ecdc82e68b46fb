"""checklist template versions

Revision ID: 0002_checklists
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002_checklists"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("subtypes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("major_count", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('published','withdrawn')", name=op.f("ck_checklist_templates_status_known")),
        sa.PrimaryKeyConstraint("code", "version", name=op.f("pk_checklist_templates")),
    )
    op.create_index(op.f("ix_checklist_templates_industry"), "checklist_templates", ["industry"], unique=False)
    # A published version's content never changes; only its status may move to withdrawn.
    op.execute("""
        CREATE FUNCTION checklist_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.content_hash <> OLD.content_hash OR NEW.code <> OLD.code OR NEW.version <> OLD.version THEN
                RAISE EXCEPTION 'checklist template % v% is published and immutable', OLD.code, OLD.version;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER checklist_version_immutable BEFORE UPDATE ON checklist_templates
            FOR EACH ROW EXECUTE FUNCTION checklist_version_immutable();
        CREATE FUNCTION checklist_version_undeletable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'checklist template versions stay readable forever';
        END $$;
        CREATE TRIGGER checklist_version_undeletable BEFORE DELETE ON checklist_templates
            FOR EACH ROW EXECUTE FUNCTION checklist_version_undeletable();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER checklist_version_undeletable ON checklist_templates")
    op.execute("DROP TRIGGER checklist_version_immutable ON checklist_templates")
    op.execute("DROP FUNCTION checklist_version_undeletable()")
    op.execute("DROP FUNCTION checklist_version_immutable()")
    op.drop_index(op.f("ix_checklist_templates_industry"), table_name="checklist_templates")
    op.drop_table("checklist_templates")
