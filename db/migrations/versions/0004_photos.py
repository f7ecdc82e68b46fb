"""photos and the records' references to them

Revision ID: 0004_photos
Revises: 0002_checklists
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = "0004_photos"
down_revision = "0002_checklists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "gps",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("orientation", sa.SmallInteger(), nullable=False),
        sa.Column("camera", sa.String(length=200), nullable=True),
        sa.Column("uploaded_by", sa.UUID(), nullable=False),
        sa.Column("uploaded_from", sa.String(length=128), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("thumb_stored", sa.Boolean(), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_photos_sha256_hex")),
        sa.CheckConstraint("mime IN ('image/jpeg','image/png','image/heic')", name=op.f("ck_photos_mime_known")),
        sa.CheckConstraint("orientation BETWEEN 1 AND 8", name=op.f("ck_photos_orientation_exif")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_photos_uploaded_by_users")),
        sa.ForeignKeyConstraint(["uploaded_from"], ["devices.id"], name=op.f("fk_photos_uploaded_from_devices")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_photos")),
    )
    op.create_index("ix_photos_uploaded_at", "photos", ["uploaded_at"], unique=False)
    # No foreign key to photos: a record may name a photo before it is uploaded.
    op.create_table(
        "photo_refs",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_photo_refs_sha256_hex")),
        sa.PrimaryKeyConstraint("sha256", "entity", "entity_id", name=op.f("pk_photo_refs")),
    )
    op.create_index("ix_photo_refs_entity", "photo_refs", ["entity", "entity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_photo_refs_entity", table_name="photo_refs")
    op.drop_table("photo_refs")
    op.drop_index("ix_photos_uploaded_at", table_name="photos")
    op.drop_table("photos")
