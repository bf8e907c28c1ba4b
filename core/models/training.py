"""Training data: Q&As (with the journal of bulk actions), training conversations and their messages, and imported transcripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.domain import (
    NAME_MAX,
    SECTION_MAX,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    QAType,
    TranscriptStatus,
    utcnow,
)
from core.models.base import NEVER_REUSE_IDS, SEARCH_TEXT, Base, enum_column


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
    qa_type: Mapped[QAType] = mapped_column(enum_column(QAType, "qa_type"), default=QAType.TRAINING)
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


class TrainingConversation(Base):
    __tablename__ = "training_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[ConversationOrigin] = mapped_column(
        enum_column(ConversationOrigin, "origin"), default=ConversationOrigin.MANUAL
    )
    # Chat and message ids, or file name and line: where this conversation came from.
    origin_ref: Mapped[dict[str, Any] | None]
    # Hash of the messages, to warn when the same selection is trained twice.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ConversationStatus] = mapped_column(
        enum_column(ConversationStatus, "conversation_status"), default=ConversationStatus.DRAFT
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
    role: Mapped[MessageRole] = mapped_column(enum_column(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(Text)
    # Assistant messages only: 1 = learn from it, 0 = context only.
    weight: Mapped[int | None]

    conversation: Mapped[TrainingConversation] = relationship(back_populates="messages")

    __table_args__ = (
        UniqueConstraint("conversation_id", "position", name="uq_training_messages_position"),
        CheckConstraint("weight IS NULL OR weight IN (0, 1)", name="weight_0_or_1"),
        CheckConstraint("weight IS NULL OR role = 'assistant'", name="weight_on_assistant"),
    )


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
        enum_column(TranscriptStatus, "transcript_status"), default=TranscriptStatus.PENDING
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
