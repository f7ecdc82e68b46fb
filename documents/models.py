"""Issued enforcement documents (执法文书) and the counters that number them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class DocumentCounter(Base):
    """The last serial given per issuing office, kind and year (locked while a document is issued)."""

    __tablename__ = "document_counters"
    __table_args__ = (PrimaryKeyConstraint("office_id", "kind", "year"),)

    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    last: Mapped[int]


class Document(Base):
    """One issued document: its number, what it says (``content``), the PDF and its SHA-256. A
    trigger refuses any change; a correction is a new document naming this one in ``replaces``."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("office_id", "kind", "year", "serial"),
        CheckConstraint("num_nonnulls(inspection_id, hazard_id, case_id) = 1", name="one_record"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    office_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    office_name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    serial: Mapped[int]
    number: Mapped[str] = mapped_column(String(100))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    enterprise_name: Mapped[str] = mapped_column(String(200))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hazards.id"), index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"), index=True)
    replaces: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    issued_at: Mapped[datetime]
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    content: Mapped[dict] = mapped_column(JSONB)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    # Copied from the record, so scope filters need no join.
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))


SIGNABLE_KINDS = ("site_inspection_record", "rectification_order", "recheck_opinion")
SIGNER_ROLES = ("party", "officer")


class Signature(Base):
    """A signature captured on the phone for a document of a record: the enterprise's representative
    (``party``) or an officer. The image is a photo (re-encoded PNG, ``sha256``) in the photo store,
    named by this signature; append-only like the records phones create."""

    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint("num_nonnulls(inspection_id, hazard_id) = 1", name="one_record"),
        CheckConstraint("role IN ('party','officer')", name="role_known"),
        CheckConstraint(
            "document_kind IN ('site_inspection_record','rectification_order','recheck_opinion')", name="kind_signable"
        ),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(32))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hazards.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(String(50))
    signer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    signed_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"))
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
