"""documents and penalty cases: enforcement documents numbered without gaps and immutable once issued,
行政处罚 cases with their ledger, the enterprise's legal representative

Revision ID: 0016_documents
Revises: 0015_audit_entity_id
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_documents"
down_revision = "0015_audit_entity_id"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # 法定代表人（负责人）: every enforcement document names them.
    op.add_column("enterprises", sa.Column("legal_representative", sa.String(100), nullable=True))

    op.create_table(
        "cases",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("procedure", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enterprise_id", UUID, sa.ForeignKey("enterprises.id"), nullable=False, index=True),
        sa.Column("inspection_ids", postgresql.ARRAY(UUID), nullable=False, server_default="{}"),
        sa.Column("hazard_ids", postgresql.ARRAY(UUID), nullable=False, server_default="{}"),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("violated", sa.Text, nullable=False),
        sa.Column("penalty_basis", sa.Text, nullable=False),
        sa.Column("penalty", sa.Text, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False, server_default="0"),
        sa.Column("deadlines", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("hearing_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("opened_by", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("officer_ids", postgresql.ARRAY(UUID), nullable=False),
        sa.Column("region_id", UUID, sa.ForeignKey("regions.id"), nullable=True, index=True),
        sa.Column("grid_id", UUID, sa.ForeignKey("grids.id", ondelete="SET NULL"), nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("procedure IN ('simple','general')", name=op.f("ck_cases_procedure_known")),
        sa.CheckConstraint(
            "status IN ('filed','investigating','notified','decided','executed','closed')",
            name=op.f("ck_cases_status_known"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_cases_amount_not_negative")),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", UUID, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("actor_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("data", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )

    # 行政处罚 in the monthly figures.
    op.add_column("monthly_figures", sa.Column("penalty_cases", sa.Integer, nullable=False, server_default="0"))
    op.add_column("monthly_figures", sa.Column("penalty_amount", sa.Numeric(14, 2), nullable=False, server_default="0"))

    # The last number given per office, kind and year: taking the next one locks this row until the
    # document's transaction ends, so a rolled-back issue gives its number back and none is skipped.
    op.create_table(
        "document_counters",
        sa.Column("office_id", UUID, sa.ForeignKey("regions.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("last", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("office_id", "kind", "year", name=op.f("pk_document_counters")),
    )
    op.create_table(
        "documents",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("office_id", UUID, sa.ForeignKey("regions.id"), nullable=False),
        sa.Column("office_name", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("enterprise_id", UUID, sa.ForeignKey("enterprises.id"), nullable=False, index=True),
        sa.Column("enterprise_name", sa.String(200), nullable=False),
        sa.Column("inspection_id", UUID, sa.ForeignKey("inspections.id"), nullable=True, index=True),
        sa.Column("hazard_id", UUID, sa.ForeignKey("hazards.id"), nullable=True, index=True),
        sa.Column("case_id", UUID, sa.ForeignKey("cases.id"), nullable=True, index=True),
        sa.Column("replaces", UUID, sa.ForeignKey("documents.id"), nullable=True, unique=True),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("issued_by", UUID, sa.ForeignKey("users.id"), nullable=False),
        # What was rendered, as rendered: the document can be re-read without the records it came from.
        sa.Column("content", postgresql.JSONB, nullable=False),
        sa.Column("pdf", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("region_id", UUID, sa.ForeignKey("regions.id"), nullable=True, index=True),
        sa.Column("grid_id", UUID, sa.ForeignKey("grids.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint(
            "office_id", "kind", "year", "serial", name=op.f("uq_documents_office_id_kind_year_serial")
        ),
        sa.CheckConstraint("num_nonnulls(inspection_id, hazard_id, case_id) = 1", name=op.f("ck_documents_one_record")),
    )
    # An issued document is evidence: never changed, never deleted (a correction is a new document that
    # names it in ``replaces``). The grid link alone may be cleared when a grid is deleted (SET NULL).
    op.execute("""
        CREATE FUNCTION documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'grid_id') = (to_jsonb(OLD) - 'grid_id') THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'document % is issued and immutable', OLD.number;
        END $$;
        CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
            FOR EACH ROW EXECUTE FUNCTION documents_immutable();
        CREATE FUNCTION documents_untruncatable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'documents are evidence';
        END $$;
        CREATE TRIGGER documents_untruncatable BEFORE TRUNCATE ON documents
            FOR EACH STATEMENT EXECUTE FUNCTION documents_untruncatable();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER documents_untruncatable ON documents")
    op.execute("DROP TRIGGER documents_immutable ON documents")
    op.execute("DROP FUNCTION documents_untruncatable()")
    op.execute("DROP FUNCTION documents_immutable()")
    op.drop_table("documents")
    op.drop_table("document_counters")
    op.drop_table("case_events")
    op.drop_column("monthly_figures", "penalty_amount")
    op.drop_column("monthly_figures", "penalty_cases")
    op.drop_table("cases")
    op.drop_column("enterprises", "legal_representative")
