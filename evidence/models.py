"""Photo evidence (照片证据): one row per photo held, keyed by the SHA-256 of its bytes,
and the references records make to photos by that name."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

PHOTO_MIMES = ("image/jpeg", "image/png", "image/heic")


class Photo(Base):
    """A photo the server holds (original and thumbnail in the photo store).

    What EXIF said is kept as read: ``gps`` is WGS-84 (EXIF GPS always is), ``taken_at``
    the camera's clock (Beijing time when the camera wrote no offset)."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("mime IN ('image/jpeg','image/png','image/heic')", name="mime_known"),
        CheckConstraint("orientation BETWEEN 1 AND 8", name="orientation_exif"),
        # The orphan sweep scans by age.
        Index("ix_photos_uploaded_at", "uploaded_at"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # As displayed, i.e. after the EXIF orientation is applied.
    width: Mapped[int]
    height: Mapped[int]
    taken_at: Mapped[datetime | None]
    gps = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    orientation: Mapped[int] = mapped_column(SmallInteger)
    camera: Mapped[str | None] = mapped_column(String(200))
    # None: sent by a member of the public with a 12350 report (public_reports).
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    uploaded_from: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    uploaded_at: Mapped[datetime]
    thumb_stored: Mapped[bool]


class PhotoRef(Base):
    """A record naming a photo. No foreign key to ``photos``: a phone may push a record
    before its photos arrive (SYNC_PROTOCOL.md §2 rule 5), and the record still names them.

    A photo's name is no key to it: the reference shows the photo to the record's viewers only when
    ``vouched`` — its namer could see the photo when naming it, or uploaded it or proved its bytes
    since (a PUT whose body hashes to the name). ``named_by`` is null for references older than this
    rule; those are vouched."""

    __tablename__ = "photo_refs"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        # "Which photos does this record name?"; the primary key answers "who names this photo?".
        Index("ix_photo_refs_entity", "entity", "entity_id"),
    )

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    entity: Mapped[str] = mapped_column(Text, primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    named_at: Mapped[datetime]
    named_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    vouched: Mapped[bool]
