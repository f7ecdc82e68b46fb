"""Users, their devices, tokens bound to a device, and login attempts (for throttling)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, created_at_column, uuid_pk

ROLES = ("admin", "desk_officer", "inspector", "grid_worker", "enterprise_officer")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['admin','desk_officer','inspector','grid_worker','enterprise_officer']::text[]"
            " AND cardinality(roles) > 0",
            name="roles_known",
        ),
        # 执法人员 must hold an enforcement certificate (执法证) to inspect.
        CheckConstraint("NOT ('inspector' = ANY(roles)) OR enforcement_cert_no IS NOT NULL", name="inspector_has_cert"),
        CheckConstraint(
            "NOT ('enterprise_officer' = ANY(roles)) OR enterprise_id IS NOT NULL",
            name="enterprise_officer_has_enterprise",
        ),
        # One account per phone number (the roster import makes it the username); deactivated ones keep theirs.
        Index("uq_users_phone", "phone", unique=True, postgresql_where=text("phone IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"))
    enforcement_cert_no: Mapped[str | None] = mapped_column(String(64))
    # Last day the 执法证 is valid (NULL: no expiry recorded).
    enforcement_cert_valid_until: Mapped[date | None]
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("enterprises.id", use_alter=True, name="fk_users_enterprise_id_enterprises")
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    # A temporary password (new account, reset) works once: the next login can only change it.
    must_change_password: Mapped[bool] = mapped_column(server_default=text("false"))
    # When and by whom people administration deactivated it (an account inactive by birth, such as the
    # scheduler's own, has none).
    deactivated_at: Mapped[datetime | None]
    deactivated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()

    region = relationship("Region", lazy="raise")


class Device(Base):
    """A phone (or browser) identified by the id it made for itself."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(64))
    app_version: Mapped[str | None] = mapped_column(String(64))
    last_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    first_seen_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class AccessToken(Base):
    """A bearer token bound to one user and one device; only its SHA-256 is stored."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool]
