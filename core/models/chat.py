"""Chats, their members (users and AI models) and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.domain import AnswerMode, ChatKind, ChatMessageStatus, utcnow
from core.models.base import Base, enum_column


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ChatKind] = mapped_column(enum_column(ChatKind, "chat_kind"))
    answer_mode: Mapped[AnswerMode] = mapped_column(
        enum_column(AnswerMode, "answer_mode"), default=AnswerMode.MENTION
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
        enum_column(ChatMessageStatus, "chat_message_status"), default=ChatMessageStatus.COMPLETE
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Provider facts about an answer, e.g. the local provider's nearest example and score.
    meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_chat_messages_chat_id_id", "chat_id", "id"),)
