"""signatures captured on the phone for the 现场检查记录, 责令限期整改指令书 and 整改复查意见书 (the image
is a photo: re-encoded PNG in the photo store, named by the signature); cases found by hazard (GIN);
the case number (案件编号) on the case

Revision ID: 0020_signatures
Revises: 0019_people_admin
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_signatures"
down_revision = "0019_people_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signatures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_kind", sa.String(32), nullable=False),
        sa.Column(
            "inspection_id",
            sa.Uuid(),
            sa.ForeignKey("inspections.id", name=op.f("fk_signatures_inspection_id_inspections")),
            nullable=True,
        ),
        sa.Column(
            "hazard_id",
            sa.Uuid(),
            sa.ForeignKey("hazards.id", name=op.f("fk_signatures_hazard_id_hazards")),
            nullable=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("signer_name", sa.String(50), nullable=False),
        sa.Column(
            "signer_id", sa.Uuid(), sa.ForeignKey("users.id", name=op.f("fk_signatures_signer_id_users")), nullable=True
        ),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_by",
            sa.Uuid(),
            sa.ForeignKey("users.id", name=op.f("fk_signatures_recorded_by_users")),
            nullable=False,
        ),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column(
            "region_id",
            sa.Uuid(),
            sa.ForeignKey("regions.id", name=op.f("fk_signatures_region_id_regions")),
            nullable=True,
        ),
        sa.Column(
            "grid_id",
            sa.Uuid(),
            sa.ForeignKey("grids.id", ondelete="SET NULL", name=op.f("fk_signatures_grid_id_grids")),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sa.CheckConstraint("num_nonnulls(inspection_id, hazard_id) = 1", name=op.f("ck_signatures_one_record")),
        sa.CheckConstraint("role IN ('party','officer')", name=op.f("ck_signatures_role_known")),
        sa.CheckConstraint(
            "document_kind IN ('site_inspection_record','rectification_order','recheck_opinion')",
            name=op.f("ck_signatures_kind_signable"),
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_signatures_sha256_hex")),
    )
    op.create_index(op.f("ix_signatures_inspection_id"), "signatures", ["inspection_id"])
    op.create_index(op.f("ix_signatures_hazard_id"), "signatures", ["hazard_id"])
    # The ledger asks "which case did this hazard lead to?": hazard_ids @> ARRAY[id].
    op.create_index("ix_cases_hazard_ids", "cases", ["hazard_ids"], postgresql_using="gin")
    # 案件编号: the number of the case's 立案审批表 (简易程序: of its decision), set when that is issued.
    op.add_column("cases", sa.Column("number", sa.String(100), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "number")
    op.drop_index("ix_cases_hazard_ids", table_name="cases")
    op.drop_table("signatures")
