"""Train AI: turn an arbiter's answer in a chat (corrected, or confirmed as right) and the
messages before it into a ``ready`` training conversation for that arbiter."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import mentions
from core.domain import (
    ChatMessageStatus,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ModelKind,
)
from core.errors import AlreadyExists, Problem, ValidationFailed
from core.models import TrainingConversation
from core.permissions import Actor, Permission, requires
from core.services import catalog, chat
from core.services.catalog import ModelDetail
from core.services.chat import ChatMessageView
from core.services.curation import conversations
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork

# How many messages before the answer the dialog offers.
CONTEXT_MESSAGES = 20


@dataclass(frozen=True)
class TrainCandidate:
    message_id: int
    role: MessageRole
    participant_name: str
    content: str
    preselected: bool
    is_answer: bool


@dataclass(frozen=True)
class TrainDraft:
    chat_id: int
    message_id: int
    model_id: int
    model_name: str
    candidates: list[TrainCandidate]
    answer: str
    # The conversation that already holds the preselected exchange, if it was trained.
    already_trained: int | None


@dataclass(frozen=True)
class TrainResult:
    conversation_id: int
    model_id: int
    created: bool
    message: str


def _context(
    uow: UnitOfWork, actor: Actor, message_id: int
) -> tuple[ChatMessageView, ModelDetail, list[ChatMessageView]]:
    target = chat.get_message(uow, actor, message_id)
    if not target.is_ai or target.author_id is None:
        raise ValidationFailed("Train AI works on an answer given by an AI model.")
    model = catalog.get_model(uow, actor, target.author_id)
    if model.kind != ModelKind.ARBITER:
        raise ValidationFailed(
            f"{model.name} is a build assistant, which is not fine-tuned; only arbiters learn "
            "from Train AI."
        )
    earlier = [
        v
        for v in chat.list_messages(
            uow, actor, target.chat_id, limit=CONTEXT_MESSAGES * 2, before_id=target.id
        )
        if v.status == ChatMessageStatus.COMPLETE and not v.interrupted and v.content.strip()
    ]
    return target, model, [*earlier[-CONTEXT_MESSAGES:], target]


def _role_for(view: ChatMessageView, model_id: int) -> MessageRole:
    mine = view.is_ai and view.author_id == model_id
    return MessageRole.ASSISTANT if mine else MessageRole.USER


def _exchange(target: ChatMessageView, views: Sequence[ChatMessageView], model_id: int) -> set[int]:
    """The question this answer replied to, and the answer."""
    question = target.reply_to_id
    if question is None or question not in {v.id for v in views}:
        question = next(
            (v.id for v in reversed(views[:-1]) if _role_for(v, model_id) == MessageRole.USER),
            None,
        )
    return {target.id} | ({question} if question is not None else set())


def _same_selection(
    session: Session, model_id: int, chat_id: int, message_ids: Collection[int]
) -> int | None:
    wanted = sorted(message_ids)
    refs = session.execute(
        select(TrainingConversation.id, TrainingConversation.origin_ref).where(
            TrainingConversation.model_id == model_id,
            TrainingConversation.origin == ConversationOrigin.CHAT,
        )
    ).all()
    for conv_id, ref in refs:
        if ref and ref.get("chat_id") == chat_id and sorted(ref.get("message_ids", [])) == wanted:
            return int(conv_id)
    return None


@requires(Permission.EDIT_TRAINING)
def train_preview(uow: UnitOfWork, actor: Actor, message_id: int) -> TrainDraft:
    """What the Train AI dialog offers: the earlier messages (the exchange preselected) and
    the answer to correct."""
    with uow:
        target, model, views = _context(uow, actor, message_id)
        preselected = _exchange(target, views, model.id)
        return TrainDraft(
            chat_id=target.chat_id,
            message_id=target.id,
            model_id=model.id,
            model_name=model.name,
            candidates=[
                TrainCandidate(
                    message_id=v.id,
                    role=_role_for(v, model.id),
                    participant_name=v.author_name,
                    content=v.content,
                    preselected=v.id in preselected,
                    is_answer=v.id == target.id,
                )
                for v in views
            ],
            answer="" if target.failed else target.content,
            already_trained=_same_selection(uow.session, model.id, target.chat_id, preselected),
        )


@requires(Permission.EDIT_TRAINING)
def train_from_chat(
    uow: UnitOfWork,
    actor: Actor,
    message_id: int,
    selected_ids: Collection[int],
    answer: str,
    context_only_ids: Collection[int] = (),
    title: str = "",
) -> TrainResult:
    """Turn the selected messages into a ``ready`` training conversation for the model that
    gave the answer: the answer replaced by ``answer`` (the correction, or the AI's own text
    when it was right) and learnt from; earlier answers in ``context_only_ids`` get weight 0.
    The same selection (or the same messages) trained before gives a warning instead."""
    with uow:
        target, model, views = _context(uow, actor, message_id)
        chosen = set(selected_ids) | {target.id}
        unknown = chosen - {v.id for v in views}
        if unknown:
            raise ValidationFailed(
                "Some selected messages are not among the messages before this answer.",
                [Problem("selection", f"message #{i}") for i in sorted(unknown)],
            )
        if not answer.strip():
            raise ValidationFailed(
                "Write the right answer first.", [Problem("answer", "must not be empty")]
            )
        ordered = [v for v in views if v.id in chosen]
        drafts = []
        for view in ordered:
            role = _role_for(view, model.id)
            if view.id == target.id:
                drafts.append(MessageDraft(role, answer, view.author_name, 1))
            elif role == MessageRole.ASSISTANT:
                weight = 0 if view.id in context_only_ids else 1
                drafts.append(MessageDraft(role, view.content, view.author_name, weight))
            else:
                # The model is trained on the question, not on how it was addressed.
                text = mentions.without_mention(view.content, model.name)
                drafts.append(MessageDraft(role, text, view.author_name))
        ids = [v.id for v in ordered]
        existing = _same_selection(uow.session, model.id, target.chat_id, ids)
        if existing is not None:
            return TrainResult(
                existing,
                model.id,
                False,
                f"This selection was already trained as conversation #{existing}; nothing new "
                "was created. Open it to change the answer.",
            )
        corrected = " ".join(answer.split()) != " ".join(target.content.split())
        try:
            created = conversations.create_conversation(
                uow,
                actor,
                model.id,
                drafts,
                title=title,
                notes="Corrected in chat with Train AI." if corrected else "Confirmed in chat.",
                status=ConversationStatus.READY,
                origin=ConversationOrigin.CHAT,
                # The wrong answer is kept beside the correction: a preference pair (DPO).
                origin_ref={"chat_id": target.chat_id, "message_ids": ids}
                | ({"rejected": target.content} if corrected and not target.failed else {}),
            )
        except AlreadyExists as exc:
            return TrainResult(exc.existing_id, model.id, False, exc.message)
        uow.commit()
        return TrainResult(
            created.id,
            model.id,
            True,
            f"Conversation #{created.id} is ready: it will be part of {model.name}'s next "
            "compilation.",
        )
