"""hazards: who found them (``source``: inspection, patrol, grid_report, self, public) and whether the
enterprise closed them itself (``self_fixed``, 自改); monthly figures count hazards found by source

Revision ID: 0017_hazard_source
Revises: 0016_documents
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017_hazard_source"
down_revision = "0016_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hazards", sa.Column("source", sa.String(16), nullable=True))
    op.add_column("hazards", sa.Column("self_fixed", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    # Existing hazards: from the inspection that raised them, else from the roles of who reported them
    # (the same order report_hazard uses: an officer's report counts as an inspection's finding).
    op.execute("""
        UPDATE hazards h SET source = CASE
            WHEN i.kind = 'self' THEN 'self'
            WHEN i.kind = 'patrol_check' THEN 'patrol'
            WHEN i.id IS NOT NULL THEN 'inspection'
            WHEN u.roles && ARRAY['inspector', 'desk_officer', 'admin']::text[] THEN 'inspection'
            WHEN 'grid_worker' = ANY(u.roles) THEN 'grid_report'
            WHEN 'enterprise_officer' = ANY(u.roles) THEN 'self'
            ELSE 'inspection' END
          FROM hazards h2
          LEFT JOIN inspections i ON i.id = h2.inspection_id
          JOIN users u ON u.id = h2.found_by
         WHERE h2.id = h.id""")
    op.alter_column("hazards", "source", nullable=False)
    op.create_check_constraint(
        op.f("ck_hazards_source_known"), "hazards", "source IN ('inspection','patrol','grid_report','self','public')"
    )
    op.create_check_constraint(
        op.f("ck_hazards_self_fixed_only_general"), "hazards", "NOT self_fixed OR level = 'general'"
    )
    op.add_column(
        "monthly_figures",
        sa.Column("hazards_found_by_source", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("monthly_figures", "hazards_found_by_source")
    op.drop_constraint(op.f("ck_hazards_self_fixed_only_general"), "hazards", type_="check")
    op.drop_constraint(op.f("ck_hazards_source_known"), "hazards", type_="check")
    op.drop_column("hazards", "self_fixed")
    op.drop_column("hazards", "source")
