"""The ORM: every entity of the domain (see DESIGN.md), typed with SQLAlchemy 2 ``Mapped[]``.

Conventions:
- every table has an integer ``id``; timestamps are timezone-aware UTC;
- records users edit concurrently carry ``row_version`` (SQLAlchemy's version counter), so a
  stale update raises instead of silently overwriting;
- enumerations are stored as short strings with a CHECK constraint (portable to SQLite and
  PostgreSQL, readable in SQL);
- indexes follow the queries of a model with 100,000+ Q&As: everything is looked up by
  model first.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from core.domain import (
    NAME_MAX,
    SECTION_MAX,
    AnswerMode,
    ChatKind,
    ChatMessageStatus,
    CompilationStatus,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ModelKind,
    ProviderType,
    QAType,
    Role,
    TranscriptStatus,
    utcnow,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ACTIVE_SQL = "status IN ('queued', 'validating', 'uploading', 'training')"
# A Q&A's question and answer as a search reads them (the line feed keeps a phrase from
# matching across the two: a search term never holds one).
SEARCH_TEXT = "lower(question || '\n' || answer)"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Tables whose edits are guarded by a row version: on SQLite an id must never be handed out
# again, or a save meant for a deleted row would pass the version check on its successor
# (migration 0007).
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    # Null for accounts that only sign in through single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = NEVER_REUSE_IDS


class ProviderConnection(Base):
    __tablename__ = "provider_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    provider_type: Mapped[ProviderType] = mapped_column(_enum(ProviderType, "provider_type"))
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

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = NEVER_REUSE_IDS


class AIModel(Base):
    __tablename__ = "ai_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ModelKind] = mapped_column(_enum(ModelKind, "model_kind"))
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


class QA(Base):
    __tablename__ = "qas"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(SECTION_MAX), default="")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # Lower-cased, whitespace- and punctuation-folded question: duplicate and conflict checks.
    question_key: Mapped[str] = mapped_column(String(512), default="")
    # What a search scans on PostgreSQL (migration 0008): the texts lower-cased once when
    # written, not on every search. Never loaded with the row.
    search_text: Mapped[str | None] = mapped_column(
        Text, Computed(SEARCH_TEXT, persisted=True), deferred=True
    )
    qa_type: Mapped[QAType] = mapped_column(_enum(QAType, "qa_type"), default=QAType.TRAINING)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        CheckConstraint("length(question) > 0", name="question_not_empty"),
        CheckConstraint("length(answer) > 0", name="answer_not_empty"),
        Index("ix_qas_model_id_id", "model_id", "id"),
        Index("ix_qas_model_id_section", "model_id", "section"),
        Index("ix_qas_model_id_changed_at", "model_id", "changed_at"),
        Index("ix_qas_model_id_question_key", "model_id", "question_key"),
        Index("ix_qas_model_id_active_type", "model_id", "is_active", "qa_type"),
        # Covers the dashboard's weekly training-data counts (no table read on SQLite).
        Index(
            "ix_qas_type_model_added",
            "qa_type",
            "model_id",
            "added_at",
            "is_active",
            "deactivated_at",
        ),
        NEVER_REUSE_IDS,
    )


class TrainingConversation(Base):
    __tablename__ = "training_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[ConversationOrigin] = mapped_column(
        _enum(ConversationOrigin, "origin"), default=ConversationOrigin.MANUAL
    )
    # Chat and message ids, or file name and line: where this conversation came from.
    origin_ref: Mapped[dict[str, Any] | None]
    # Hash of the messages, to warn when the same selection is trained twice.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus, "conversation_status"), default=ConversationStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    messages: Mapped[list[TrainingMessage]] = relationship(
        back_populates="conversation",
        order_by="TrainingMessage.position",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        Index("ix_training_conversations_model_status", "model_id", "status"),
        Index("ix_training_conversations_model_updated", "model_id", "updated_at"),
        Index("ix_training_conversations_model_hash", "model_id", "content_hash"),
        NEVER_REUSE_IDS,
    )


class TrainingMessage(Base):
    __tablename__ = "training_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("training_conversations.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    participant_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(Text)
    # Assistant messages only: 1 = learn from it, 0 = context only.
    weight: Mapped[int | None]

    conversation: Mapped[TrainingConversation] = relationship(back_populates="messages")

    __table_args__ = (
        UniqueConstraint("conversation_id", "position", name="uq_training_messages_position"),
        CheckConstraint("weight IS NULL OR weight IN (0, 1)", name="weight_0_or_1"),
        CheckConstraint("weight IS NULL OR role = 'assistant'", name="weight_on_assistant"),
    )


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ChatKind] = mapped_column(_enum(ChatKind, "chat_kind"))
    answer_mode: Mapped[AnswerMode] = mapped_column(
        _enum(AnswerMode, "answer_mode"), default=AnswerMode.MENTION
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime | None]


class ChatMember(Base):
    __tablename__ = "chat_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_models.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (model_id IS NULL)", name="exactly_one_member"),
        UniqueConstraint("chat_id", "user_id", "model_id", name="uq_chat_members_member"),
    )


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_models.id", ondelete="SET NULL")
    )
    # The model version that answered (AI messages only).
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL")
    )
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ChatMessageStatus] = mapped_column(
        _enum(ChatMessageStatus, "chat_message_status"), default=ChatMessageStatus.COMPLETE
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Provider facts about an answer, e.g. the local provider's nearest example and score.
    meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_chat_messages_chat_id_id", "chat_id", "id"),)


class Transcript(Base):
    """A conversation waiting in the curation queue before it becomes training data."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    # Where it came from: {"file": name, "line": n} or {"chat_id": id, "message_ids": [...]}.
    source_ref: Mapped[dict[str, Any]]
    # [{"role", "content", "participant", "time"}...] as imported.
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pii_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[TranscriptStatus] = mapped_column(
        _enum(TranscriptStatus, "transcript_status"), default=TranscriptStatus.PENDING
    )
    reject_reason: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_conversations.id", ondelete="SET NULL")
    )
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        Index("ix_transcripts_model_status_id", "model_id", "status", "id"),
        NEVER_REUSE_IDS,
    )


class Compilation(Base):
    __tablename__ = "compilations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[CompilationStatus] = mapped_column(
        _enum(CompilationStatus, "compilation_status"), default=CompilationStatus.QUEUED
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
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("model_id", "number", name="uq_model_versions_number"),
        Index("ix_model_versions_compilation_id", "compilation_id"),
    )


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


class QABulkJournal(Base):
    """What one bulk action on Q&As changed, so that the page can undo it right after."""

    __tablename__ = "qa_bulk_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text, default="")
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    # The rows as they were before, with the version each row got from the action.
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_qa_bulk_journal_model_created", "model_id", "created_at"),)


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

    __table_args__ = (Index("ix_notifications_user_read", "user_id", "is_read", "created_at"),)


class BaseModelInfo(Base):
    """Known base models and their shutdown dates: filled from the provider's model list
    where it gives them, editable by admins where it does not."""

    __tablename__ = "base_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_type: Mapped[ProviderType] = mapped_column(_enum(ProviderType, "provider_type"))
    name: Mapped[str] = mapped_column(String(200))
    fine_tunable: Mapped[bool] = mapped_column(Boolean, default=True)
    context_tokens: Mapped[int | None]
    shutdown_date: Mapped[date | None]
    # Where the shutdown date came from: "provider" (its model list) or "admin" (typed in).
    shutdown_source: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("provider_type", "name", name="uq_base_models_name"),)
