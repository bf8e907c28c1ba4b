"""An AI model's answer in a chat: streamed from the model's provider (its active version, or
the pinned one), saved as it grows, and naming the version that gave it."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import mentions
from core.domain import ChatMessageStatus, utcnow
from core.errors import ProviderError, ValidationFailed
from core.models import AIModel, Chat, ChatMessage, ModelVersion, ProviderConnection
from core.permissions import Actor, Permission, requires
from core.providers.base import ChatDelta, ChatTurn, Provider
from core.providers.local import LOCAL_BASE_MODEL
from core.providers.registry import ConnectionSettings, provider_for
from core.services import catalog
from core.services.chat.chats import chat_for
from core.services.chat.messages import ChatMessageView, get_message, message_views
from core.services.shared import get_or_404
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.chat")

# How many earlier messages a model reads, and Train AI offers, before the answer.
CONTEXT_MESSAGES = 20
SAVE_EVERY_SECONDS = 0.5


_OPENAI_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class _AnswerPlan:
    message_id: int
    model_name: str
    settings: ConnectionSettings | None
    provider_model: str
    turns: list[ChatTurn]
    unavailable: str | None = None  # why the model cannot answer at all, if it cannot


def _participant(name: str) -> str:
    return _OPENAI_NAME.sub("_", name).strip("_")[:64]


def _plan(uow: UnitOfWork, actor: Actor, message: ChatMessage) -> _AnswerPlan:
    session = uow.session
    if message.author_model_id is None:
        raise ValidationFailed("Only an AI message is answered by a model.")
    model = get_or_404(session, AIModel, message.author_model_id, "Model")
    detail = catalog.get_model(uow, actor, model.id)
    version = session.get(ModelVersion, message.version_id) if message.version_id else None
    settings = None
    unavailable: str | None = None
    # A version answers from the connection it was trained on, even after its model moved.
    connection_id = (version.connection_id if version else None) or detail.effective_connection_id
    if connection_id is not None:
        conn = session.get(ProviderConnection, connection_id)
        if conn is not None:
            settings = ConnectionSettings.of(conn)
    if version is not None:
        provider_model = version.deployment_name or version.provider_model_id
        system = version.system_message
        if version.deployment_state in ("manual", "removed") and not version.deployment_name:
            unavailable = (
                f"v{version.number} of {model.name} has no deployment to answer from: an admin "
                "names or makes one on the Versions tab."
            )
    else:
        fallback = LOCAL_BASE_MODEL if settings and settings.provider_type == "local" else ""
        provider_model = detail.effective_base_model or fallback
        system = model.system_message
    history = list(
        reversed(
            session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.chat_id == message.chat_id,
                    ChatMessage.id < message.id,
                    ChatMessage.status == ChatMessageStatus.COMPLETE,
                    ChatMessage.content != "",
                )
                .order_by(ChatMessage.id.desc())
                .limit(CONTEXT_MESSAGES)
            ).all()
        )
    )
    views = {v.id: v for v in message_views(session, history)}
    turns = [ChatTurn("system", system)] if system else []
    for past in history:
        view = views[past.id]
        if past.author_model_id == model.id:
            turns.append(ChatTurn("assistant", past.content))
        else:
            text = mentions.without_mention(past.content, model.name)
            turns.append(ChatTurn("user", text, _participant(view.author_name) or None))
    return _AnswerPlan(message.id, model.name, settings, provider_model, turns, unavailable)


def _finish(
    uow: UnitOfWork,
    message_id: int,
    content: str,
    status: ChatMessageStatus,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    with uow:
        message = uow.session.get(ChatMessage, message_id)
        if message is None:
            return
        message.content = content
        message.status = status
        message.meta = meta or None
        message.error = error
        chat = uow.session.get(Chat, message.chat_id)
        if chat is not None:
            chat.last_message_at = utcnow()
        uow.commit()


def _provider_of(plan: _AnswerPlan) -> Provider:
    if plan.unavailable:
        raise ProviderError(plan.unavailable)
    if plan.settings is None:
        raise ProviderError(
            f"{plan.model_name} has no provider connection (nor has any parent model), so "
            "it cannot answer. An admin can set one on the Models page."
        )
    if not plan.provider_model:
        raise ProviderError(
            f"{plan.model_name} has no base model and no trained version, so it cannot "
            "answer. Set a base model on the model or its connection."
        )
    return provider_for(plan.settings)


@requires(Permission.CHAT)
def stream_answer(
    uow: UnitOfWork, actor: Actor, message_id: int
) -> Generator[ChatDelta, None, None]:
    """Produce a pending answer from the model's provider, yielding its pieces as they come
    and saving the text as it grows. A provider failure is saved on the message with a clear
    error (and re-raised for the caller to show); the question stays in the chat."""
    with uow:
        message = get_or_404(uow.session, ChatMessage, message_id, "Message")
        chat_for(uow.session, actor, message.chat_id)
        if message.status != ChatMessageStatus.STREAMING:
            return
        plan = _plan(uow, actor, message)
    pieces: list[str] = []
    meta: dict[str, Any] = {}
    finished = False
    try:
        saved_at = time.monotonic()
        for delta in _provider_of(plan).chat(plan.provider_model, plan.turns):
            if delta.meta:
                meta.update(delta.meta)
            if delta.text:
                pieces.append(delta.text)
                yield delta
            if time.monotonic() - saved_at > SAVE_EVERY_SECONDS:
                _save_progress(uow, plan.message_id, "".join(pieces))
                saved_at = time.monotonic()
        text = "".join(pieces).strip()
        _finish(
            uow,
            plan.message_id,
            text or "(the model gave an empty answer)",
            ChatMessageStatus.COMPLETE,
            meta,
        )
        finished = True
    except ProviderError as exc:
        _finish(
            uow,
            plan.message_id,
            "".join(pieces),
            ChatMessageStatus.FAILED,
            meta,
            f"{plan.model_name} could not answer: {exc.message}",
        )
        finished = True
        raise
    except Exception:
        log.exception("answer %s failed", plan.message_id)
        _finish(
            uow,
            plan.message_id,
            "".join(pieces),
            ChatMessageStatus.FAILED,
            meta,
            f"{plan.model_name} could not answer because of an error on our side; "
            "try again, or tell an admin if it keeps happening.",
        )
        finished = True
        raise
    finally:
        if not finished:
            # The reader went away mid-answer (page closed or rerun): keep what arrived.
            _finish(
                uow,
                plan.message_id,
                "".join(pieces),
                ChatMessageStatus.FAILED,
                meta,
                "The answer was interrupted before it was complete; ask again to retry.",
            )


def _save_progress(uow: UnitOfWork, message_id: int, content: str) -> None:
    with uow:
        message = uow.session.get(ChatMessage, message_id)
        if message is not None and message.status == ChatMessageStatus.STREAMING:
            message.content = content
            uow.commit()


@requires(Permission.CHAT)
def answer_all(uow: UnitOfWork, actor: Actor, message_ids: Sequence[int]) -> list[ChatMessageView]:
    """Produce pending answers without streaming them anywhere (CLI, tests, benchmarks).
    A provider failure is recorded on its message and does not stop the others."""
    for message_id in message_ids:
        try:
            for _ in stream_answer(uow, actor, message_id):
                pass
        except ProviderError:
            pass
    return [get_message(uow, actor, mid) for mid in message_ids]
