"""Compilations with their events and stored files, and the model versions they produce."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from core.domain import CompilationStatus, utcnow
from core.models.base import ACTIVE_SQL, Base, enum_column


class Compilation(Base):
    __tablename__ = "compilations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[CompilationStatus] = mapped_column(
        enum_column(CompilationStatus, "compilation_status"), default=CompilationStatus.QUEUED
    )
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_override: Mapped[bool] = mapped_column(Boolean, default=False)
    config_only: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    dataset_hash: Mapped[str | None] = mapped_column(String(64))
    config_hash: Mapped[str | None] = mapped_column(String(64))
    example_count: Mapped[int | None]
    token_count: Mapped[int | None] = mapped_column(BigInteger)
    billed_tokens_estimate: Mapped[int | None] = mapped_column(BigInteger)
    cost_estimate: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    trained_tokens: Mapped[int | None] = mapped_column(BigInteger)
    actual_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    base_model: Mapped[str | None] = mapped_column(String(200))
    provider_file_id: Mapped[str | None] = mapped_column(String(200))
    provider_job_id: Mapped[str | None] = mapped_column(String(200))
    provider_model: Mapped[str | None] = mapped_column(String(300))
    provider_status: Mapped[str | None] = mapped_column(String(40))
    estimated_finish_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # Why a compilation was skipped or held back (shown as is).
    reason: Mapped[str | None] = mapped_column(Text)
    build_log: Mapped[str] = mapped_column(Text, default="")
    validation_report: Mapped[dict[str, Any] | None]
    dataset_stats: Mapped[dict[str, Any] | None]
    diff_summary: Mapped[dict[str, Any] | None]
    validation_score: Mapped[float | None]
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", use_alter=True, ondelete="SET NULL")
    )
    # Worker claim: who holds it and until when; an expired lease may be taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_compilations_model_created", "model_id", "created_at"),
        Index("ix_compilations_created_at", "created_at"),
        # Also covers the dashboard's success rates and durations (the rows are wide).
        Index(
            "ix_compilations_status_created_times",
            "status",
            "created_at",
            "started_at",
            "finished_at",
        ),
        Index("ix_compilations_requested_by", "requested_by_id", "created_at"),
        # One running compilation per model, enforced by the database itself.
        Index(
            "uq_compilations_one_active_per_model",
            "model_id",
            unique=True,
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
        Index("ix_compilations_claim", "status", "lease_until"),
    )


class CompilationEvent(Base):
    __tablename__ = "compilation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    compilation_id: Mapped[int] = mapped_column(ForeignKey("compilations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(10), default="info")
    # "status" (our own step), "message" or "metrics" (the provider's events).
    event_type: Mapped[str] = mapped_column(String(20), default="message")
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None]
    # The provider's event id, so that re-reading events after a restart adds none twice.
    provider_event_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_compilation_events_compilation_id_id", "compilation_id", "id"),
        UniqueConstraint(
            "compilation_id", "provider_event_id", name="uq_compilation_events_provider_event"
        ),
    )


class CompilationAsset(Base):
    __tablename__ = "compilation_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    compilation_id: Mapped[int] = mapped_column(
        ForeignKey("compilations.id", ondelete="CASCADE"), index=True
    )
    # training_file, validation_report, metrics, build_log ...
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("compilation_id", "kind", name="uq_compilation_assets_kind"),
    )


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    compilation_id: Mapped[int | None] = mapped_column(
        ForeignKey("compilations.id", ondelete="SET NULL")
    )
    number: Mapped[int]
    provider_model_id: Mapped[str] = mapped_column(String(300))
    base_model: Mapped[str | None] = mapped_column(String(200))
    system_message: Mapped[str] = mapped_column(Text, default="")
    dataset_hash: Mapped[str | None] = mapped_column(String(64))
    config_hash: Mapped[str | None] = mapped_column(String(64))
    config_only: Mapped[bool] = mapped_column(Boolean, default=False)
    validation_score: Mapped[float | None]
    # Why the validation Q&As could not be asked (the version exists all the same: its job
    # was trained and billed); the validation can be run again.
    validation_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The connection it was trained on: it answers from there even after its model moved.
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="SET NULL")
    )
    # Where the provider needs a deployment to answer (Azure OpenAI), billed per hour while
    # it exists: its name, state ("creating", "ready", "failed", "manual", "removed"), when it
    # became ready and was removed, and the hourly price at the time.
    deployment_name: Mapped[str | None] = mapped_column(String(64))
    deployment_state: Mapped[str | None] = mapped_column(String(20))
    deployed_at: Mapped[datetime | None]
    deployment_removed_at: Mapped[datetime | None]
    hosting_price_per_hour: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # A rollback to a version whose deployment was removed deploys it again first; the
    # worker activates it once the deployment is ready.
    activate_when_deployed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_model_versions_number"),
        Index("ix_model_versions_compilation_id", "compilation_id"),
    )
