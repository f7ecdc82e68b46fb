"""The change feed and the record of pushed batches.

``change_log`` rows are written by database triggers on every pullable table, so no write path —
ORM, bulk SQL, a migration — can forget one. Each row carries the record's scope keys before and
after the change, so a pull can tell who must hear of it (including as a tombstone)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Identity, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from db.base import Base, Ltree


class Xid8(UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw):
        return "XID8"


class ChangeLogEntry(Base):
    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_position", "txid", "seq"),
        Index("ix_change_log_record", "entity", "entity_id", "txid", "seq"),
        Index("ix_change_log_grid", "grid_id"),
        Index("ix_change_log_old_grid", "old_grid_id"),
        Index("ix_change_log_region", "region_path", postgresql_using="gist"),
        Index("ix_change_log_old_region", "old_region_path", postgresql_using="gist"),
        Index("ix_change_log_audience", "audience", postgresql_using="gin"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The writing transaction: pulls serve only transactions older than every one still running.
    txid = mapped_column(Xid8, nullable=False, server_default=text("pg_current_xact_id()"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    op: Mapped[str] = mapped_column(String(8))
    version: Mapped[int | None]
    grid_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    old_grid_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    region_path = mapped_column(Ltree, nullable=True)
    old_region_path = mapped_column(Ltree, nullable=True)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    audience: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class ChangeLogFloor(Base):
    """How far back the feed still reaches (one row, id 1): rows before this position that a later
    change of the same record superseded, and old tombstones, were compacted away, so a cursor
    before it can no longer be honoured and answers ``reset``."""

    __tablename__ = "change_log_floor"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    txid = mapped_column(Xid8, nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    compacted_at: Mapped[datetime]


class SyncBatch(Base):
    """A pushed batch and the answer it got: a retry gets the same answer, and nothing is applied twice."""

    __tablename__ = "sync_batches"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    received_at: Mapped[datetime]
    change_count: Mapped[int]
    response: Mapped[dict] = mapped_column(JSONB)
    sent_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)


# Let reflection (alembic check, the migration test) recognise xid8 columns.
from sqlalchemy.dialects.postgresql.base import ischema_names as _ischema_names  # noqa: E402

_ischema_names["xid8"] = Xid8
