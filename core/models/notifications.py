"""Notifications sent beyond the app: by e-mail and to chat webhooks (Slack, Teams).

Each notification is fanned out once into *deliveries* (one per channel and receiver), each
with an idempotency key; the worker sends them with retries, recording a delivery as being
sent before the network call and as sent after it, so that a restarted worker never sends
a delivered one again and a receiver can drop a repeat by its key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.domain import utcnow
from core.models.base import Base


class NotificationWebhook(Base):
    """Where a model's (or, for every model on it, a connection's) notifications are posted."""

    __tablename__ = "notification_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_models.id", ondelete="CASCADE"), unique=True
    )
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("(model_id IS NULL) <> (connection_id IS NULL)", name="one_owner"),
    )


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # email | webhook
    target: Mapped[str] = mapped_column(String(1000))  # an address or a URL
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    # pending -> sending -> sent, or failed after the last attempt
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_notification", "notification_id"),
    )
