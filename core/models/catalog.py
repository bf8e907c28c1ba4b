"""Provider connections, AI models (the hierarchy and their configuration) and the base-model catalogue."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.domain import NAME_MAX, ModelKind, ProviderType, utcnow
from core.models.base import NEVER_REUSE_IDS, Base, enum_column


class ProviderConnection(Base):
    __tablename__ = "provider_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    provider_type: Mapped[ProviderType] = mapped_column(enum_column(ProviderType, "provider_type"))
    base_url: Mapped[str | None] = mapped_column(String(500))
    # The *name* of the environment variable or secret that holds the key; never the key.
    api_key_env: Mapped[str | None] = mapped_column(String(120))
    default_base_model: Mapped[str | None] = mapped_column(String(200))
    price_per_million_tokens: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=0)
    monthly_budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Azure OpenAI: the data-plane API version; Microsoft Entra ID instead of a key; the
    # Resource Manager coordinates of the resource whose deployments are made (or
    # manual_deployments: an admin makes them and names one per version); what a
    # deployment costs per hour while it exists.
    api_version: Mapped[str | None] = mapped_column(String(40))
    entra_id: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    azure_subscription_id: Mapped[str | None] = mapped_column(String(64))
    azure_resource_group: Mapped[str | None] = mapped_column(String(90))
    azure_account_name: Mapped[str | None] = mapped_column(String(64))
    manual_deployments: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hosting_price_per_hour: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # Open-weights: the rank of the LoRA adapters its trainings make (None: the default).
    lora_rank: Mapped[int | None]

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        CheckConstraint("lora_rank IS NULL OR lora_rank BETWEEN 1 AND 256", name="lora_rank_range"),
        NEVER_REUSE_IDS,
    )


class AIModel(Base):
    __tablename__ = "ai_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ModelKind] = mapped_column(enum_column(ModelKind, "model_kind"))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="RESTRICT"), index=True
    )
    base_model: Mapped[str | None] = mapped_column(String(200))
    system_message: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_models.id", ondelete="RESTRICT"), index=True
    )
    inherit_parent_training: Mapped[bool] = mapped_column(Boolean, default=False)
    aggregate_children_training: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hyperparameters: None means "auto" (the provider decides).
    n_epochs: Mapped[int | None]
    batch_size: Mapped[int | None]
    learning_rate_multiplier: Mapped[float | None]
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_update_to_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    # Hold back a new version whose validation score is lower than the active one's.
    activation_gate: Mapped[bool] = mapped_column(Boolean, default=False)
    active_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", use_alter=True, ondelete="SET NULL")
    )
    pinned_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    connection: Mapped[ProviderConnection | None] = relationship()
    parent: Mapped[AIModel | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("n_epochs IS NULL OR n_epochs BETWEEN 1 AND 50", name="epochs_range"),
        CheckConstraint("batch_size IS NULL OR batch_size BETWEEN 1 AND 256", name="batch_range"),
        CheckConstraint(
            "learning_rate_multiplier IS NULL OR learning_rate_multiplier > 0", name="lr_positive"
        ),
        NEVER_REUSE_IDS,
    )


class BaseModelInfo(Base):
    """Known base models and their shutdown dates: filled from the provider's model list
    where it gives them, editable by admins where it does not."""

    __tablename__ = "base_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_type: Mapped[ProviderType] = mapped_column(enum_column(ProviderType, "provider_type"))
    name: Mapped[str] = mapped_column(String(200))
    fine_tunable: Mapped[bool] = mapped_column(Boolean, default=True)
    context_tokens: Mapped[int | None]
    shutdown_date: Mapped[date | None]
    # Where the shutdown date came from: "provider" (its model list) or "admin" (typed in).
    shutdown_source: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    # Facts beside the catalogue file's (core/providers/catalogue.toml); ``sources`` says
    # per fact who set it here ("provider" or "admin"). Empty columns fall back to the file.
    example_token_limit: Mapped[int | None]
    training_price_per_million: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    hosting_price_per_hour: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    fine_tuning_ends: Mapped[date | None]
    sources: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("provider_type", "name", name="uq_base_models_name"),)
