"""Users, their login sessions, the audit trail and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from core.domain import NAME_MAX, Role, utcnow
from core.models.base import NEVER_REUSE_IDS, Base, enum_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # Null for accounts that only sign in through single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Opt-in: notifications also by e-mail, and posted to the model's chat webhook.
    notify_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notify_webhook: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = NEVER_REUSE_IDS


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor", "actor_id", "at"),
    )


class LoginSession(Base):
    """A signed-in browser: lets a reload or a new tab keep the sign-in, and lets signing
    out end it for good. Only a hash of the token is stored; the browser holds the token."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_login_sessions_user", "user_id", "ended_at"),)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the worker fanned it out into e-mail and webhook deliveries (once).
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "is_read", "created_at"),
        Index("ix_notifications_dispatch", "dispatched_at"),
    )
