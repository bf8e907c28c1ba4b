"""Notifications by e-mail and chat webhook: users opt in, models and connections name a
webhook, and every notification is fanned out once into deliveries the worker sends

Revision ID: 0012_notification_deliveries
Revises: 0011_open_weights
Create Date: 2026-12-04 19:30:00

Chained to 0009 on the ui branch; the lead re-chains it after 0010 and 0011. Notifications
that exist when this runs are marked as already dispatched, so that upgrading does not
mail out old news.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_notification_deliveries"
down_revision: str | None = "0011_open_weights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("notify_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("notify_webhook", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_notifications_dispatch", ["dispatched_at"], unique=False)
    op.execute("UPDATE notifications SET dispatched_at = created_at")
    op.create_table(
        "notification_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(model_id IS NULL) <> (connection_id IS NULL)",
            name=op.f("ck_notification_webhooks_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ai_models.id"],
            name=op.f("fk_notification_webhooks_model_id_ai_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["provider_connections.id"],
            name=op.f("fk_notification_webhooks_connection_id_provider_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_webhooks")),
        sa.UniqueConstraint("model_id", name=op.f("uq_notification_webhooks_model_id")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_notification_webhooks_connection_id")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_notification_deliveries_idempotency_key")
        ),
    )
    with op.batch_alter_table("notification_deliveries") as batch_op:
        batch_op.create_index(
            "ix_notification_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_notification_deliveries_notification", ["notification_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notification_webhooks")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_dispatch")
        batch_op.drop_column("dispatched_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("notify_webhook")
        batch_op.drop_column("notify_email")
