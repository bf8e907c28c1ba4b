"""Messages in a chat: reading them, and posting one (Train AI on answers is in
``core.services.curation``).

Posting commits the user's message (and one pending answer per model that should reply)
before any provider is called, so an outage never loses what a person wrote. Each answer
is then streamed from the model's provider by ``stream_answer`` (``answers``), saved as it grows, and
records the model and the version that produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import mentions
from core.domain import (
    MESSAGE_MAX,
    AnswerMode,
    ChatKind,
    ChatMessageStatus,
    control_character,
    utcnow,
)
from core.errors import (
    Problem,
    ValidationFailed,
)
from core.models import (
    AIModel,
    Chat,
    ChatMember,
    ChatMessage,
    ModelVersion,
)
from core.permissions import Actor, Permission, requires
from core.services.chat.chats import MemberKind, chat_for
from core.services.shared import get_or_404, user_names
from core.uow import UnitOfWork

HISTORY_LIMIT = 200
# A pending answer nobody has touched for this long was interrupted (page closed).
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class ChatMessageView:
    id: int
    chat_id: int
    author_kind: MemberKind
    author_id: int | None
    author_name: str
    content: str
    status: ChatMessageStatus
    error: str | None
    meta: dict[str, Any]
    version_id: int | None
    version_number: int | None
    reply_to_id: int | None
    created_at: datetime
    interrupted: bool = False

    @property
    def is_ai(self) -> bool:
        return self.author_kind == "model"

    @property
    def failed(self) -> bool:
        return self.status == ChatMessageStatus.FAILED or self.interrupted

    @property
    def version_label(self) -> str:
        if not self.is_ai:
            return ""
        if self.version_number is not None:
            return f"version {self.version_number}"
        return "base model (no trained version yet)"

    @property
    def provenance(self) -> str:
        """What the provider told us about the answer, in words (the local provider names the
        training example it answered from and how close it was)."""
        meta = self.meta
        if meta.get("provider") != "local":
            return ""
        score = meta.get("score")
        if meta.get("example_line") is not None:
            question = str(meta.get("matched_question") or "")
            shown = question if len(question) <= 120 else question[:117] + "…"
            return (
                f"Local retrieval: answered from training example line {meta['example_line']} "
                f"(similarity {float(score or 0):.2f}), which asks “{shown}”"
            )
        if score is None:
            return "Local retrieval: no training data yet"
        return f"Local retrieval: no close training example (best similarity {float(score):.2f})"


@dataclass(frozen=True)
class Posted:
    message: ChatMessageView
    # The AI messages created for the models that answer; stream each with stream_answer.
    pending_answers: list[int] = field(default_factory=list)


def version_for(model: AIModel) -> int | None:
    """The version that answers: the active one, or the pinned one when the model does not
    follow the latest version."""
    if not model.auto_update_to_latest and model.pinned_version_id is not None:
        return model.pinned_version_id
    return model.active_version_id


def message_views(session: Session, messages: Sequence[ChatMessage]) -> list[ChatMessageView]:
    people = user_names(session, [m.author_user_id for m in messages])
    model_ids = {m.author_model_id for m in messages if m.author_model_id}
    models = (
        dict(
            session.execute(select(AIModel.id, AIModel.name).where(AIModel.id.in_(model_ids))).all()
        )
        if model_ids
        else {}
    )
    version_ids = {m.version_id for m in messages if m.version_id}
    numbers = (
        dict(
            session.execute(
                select(ModelVersion.id, ModelVersion.number).where(ModelVersion.id.in_(version_ids))
            ).all()
        )
        if version_ids
        else {}
    )
    stale_before = utcnow() - STALE_AFTER
    views = []
    for m in messages:
        is_ai = m.author_model_id is not None or (
            m.author_user_id is None and m.version_id is not None
        )
        created = m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC)
        views.append(
            ChatMessageView(
                id=m.id,
                chat_id=m.chat_id,
                author_kind="model" if is_ai else "user",
                author_id=m.author_model_id if is_ai else m.author_user_id,
                author_name=(
                    models.get(m.author_model_id or 0, "a deleted model")
                    if is_ai
                    else people.get(m.author_user_id or 0, "a former member")
                ),
                content=m.content,
                status=m.status,
                error=m.error,
                meta=dict(m.meta or {}),
                version_id=m.version_id,
                version_number=numbers.get(m.version_id or 0),
                reply_to_id=m.reply_to_id,
                created_at=m.created_at,
                interrupted=m.status == ChatMessageStatus.STREAMING and created < stale_before,
            )
        )
    return views


@requires(Permission.CHAT)
def list_messages(
    uow: UnitOfWork,
    actor: Actor,
    chat_id: int,
    limit: int = HISTORY_LIMIT,
    before_id: int | None = None,
) -> list[ChatMessageView]:
    """The latest messages of a chat (or the latest before ``before_id``), oldest first."""
    with uow:
        session = uow.session
        chat_for(session, actor, chat_id)
        query = select(ChatMessage).where(ChatMessage.chat_id == chat_id)
        if before_id is not None:
            query = query.where(ChatMessage.id < before_id)
        newest = list(
            session.scalars(query.order_by(ChatMessage.id.desc()).limit(max(1, min(limit, 2_000))))
        )
        return message_views(session, list(reversed(newest)))


@requires(Permission.CHAT)
def chat_activity(uow: UnitOfWork, actor: Actor, chat_id: int) -> str:
    """A token that changes whenever a message is added or an answer finishes: pages poll it
    cheaply and reload the chat only when it changed."""
    with uow:
        chat_for(uow.session, actor, chat_id)
        newest, open_answers = uow.session.execute(
            select(
                func.max(ChatMessage.id),
                func.count().filter(ChatMessage.status == ChatMessageStatus.STREAMING),
            ).where(ChatMessage.chat_id == chat_id)
        ).one()
        return f"{newest or 0}:{open_answers}"


@requires(Permission.CHAT)
def get_message(uow: UnitOfWork, actor: Actor, message_id: int) -> ChatMessageView:
    with uow:
        message = get_or_404(uow.session, ChatMessage, message_id, "Message")
        chat_for(uow.session, actor, message.chat_id)
        return message_views(uow.session, [message])[0]


def _responders(session: Session, chat: Chat, content: str) -> list[AIModel]:
    models = list(
        session.scalars(
            select(AIModel)
            .join(ChatMember, ChatMember.model_id == AIModel.id)
            .where(ChatMember.chat_id == chat.id)
            .order_by(AIModel.name)
        )
    )
    if chat.kind == ChatKind.DIRECT or chat.answer_mode == AnswerMode.EVERY_MESSAGE:
        return models
    by_id = {m.id: m for m in models}
    return [by_id[i] for i in mentions.mentioned(content, [(m.id, m.name) for m in models])]


def _pending_answer(session: Session, chat: Chat, model: AIModel, reply_to: int) -> ChatMessage:
    answer = ChatMessage(
        chat_id=chat.id,
        author_model_id=model.id,
        version_id=version_for(model),
        reply_to_id=reply_to,
        content="",
        status=ChatMessageStatus.STREAMING,
    )
    session.add(answer)
    return answer


@requires(Permission.CHAT)
def post_message(uow: UnitOfWork, actor: Actor, chat_id: int, content: str) -> Posted:
    """Store the actor's message and one pending answer for each model that should reply
    (mentioned ones; every model in an "every message" group or a direct chat)."""
    text = content.strip()
    if not text:
        raise ValidationFailed("Write something first.", [Problem("message", "is empty")])
    if len(text) > MESSAGE_MAX:
        raise ValidationFailed(
            "The message is too long.", [Problem("message", f"at most {MESSAGE_MAX:,} characters")]
        )
    control = control_character(text)
    if control:
        raise ValidationFailed(
            "The message holds a control character.",
            [Problem("message", f"remove the control character {control}")],
        )
    with uow:
        session = uow.session
        chat = chat_for(session, actor, chat_id)
        responders = _responders(session, chat, text)
        message = ChatMessage(
            chat_id=chat.id,
            author_user_id=actor.user_id,
            content=text,
            meta={"mentions": [m.id for m in responders]} if responders else None,
        )
        session.add(message)
        session.flush()
        pending = [_pending_answer(session, chat, model, message.id) for model in responders]
        chat.last_message_at = utcnow()
        session.flush()
        uow.commit()
        return Posted(message_views(session, [message])[0], [p.id for p in pending])


@requires(Permission.CHAT)
def retry_answer(uow: UnitOfWork, actor: Actor, message_id: int) -> int:
    """Ask the model again for a failed or interrupted answer; stream it with stream_answer."""
    with uow:
        session = uow.session
        message = get_or_404(session, ChatMessage, message_id, "Message")
        chat_for(session, actor, message.chat_id)
        view = message_views(session, [message])[0]
        if not view.is_ai or message.author_model_id is None:
            raise ValidationFailed("Only an AI answer can be asked again.")
        if not view.failed:
            raise ValidationFailed("This answer did not fail; there is nothing to retry.")
        model = get_or_404(session, AIModel, message.author_model_id, "Model")
        message.version_id = version_for(model)
        message.status = ChatMessageStatus.STREAMING
        message.content = ""
        message.error = None
        message.meta = None
        message.created_at = utcnow()
        uow.commit()
        return message.id
