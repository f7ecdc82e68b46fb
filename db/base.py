"""Declarative base with the constraint naming convention (readable, stable migrations),
and column types the schema shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
    }


class Ltree(UserDefinedType):
    """PostgreSQL ``ltree``: the region hierarchy as a path of division codes."""

    cache_ok = True

    def get_col_spec(self, **kw):
        return "LTREE"

    class comparator_factory(UserDefinedType.Comparator):
        def descendant_of(self, other):
            """``self <@ other``: self is other or lies below it."""
            return self.op("<@", return_type=_Boolean())(other)

        def ancestor_of(self, other):
            """``self @> other``: self is other or lies above it."""
            return self.op("@>", return_type=_Boolean())(other)


def _Boolean():
    from sqlalchemy import Boolean

    return Boolean()


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


# Let reflection (alembic check/autogenerate) recognise ltree columns.
from sqlalchemy.dialects.postgresql.base import ischema_names as _ischema_names  # noqa: E402

_ischema_names["ltree"] = Ltree
