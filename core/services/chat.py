"""Chats with people and arbiters (Train AI on their answers is in ``train_ai``).

Posting commits the user's message (and one pending answer per model that should reply)
before any provider is called, so an outage never loses what a person wrote. Each answer
is then streamed from the model's provider by ``stream_answer``, saved as it grows, and
records the model and the version that produced it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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
    PermissionDenied,
    Problem,
    ProviderError,
    ValidationFailed,
)
from core.models import (
    AIModel,
    Chat,
    ChatMember,
    ChatMessage,
    ModelVersion,
    ProviderConnection,
    User,
)
from core.permissions import Actor, Permission, requires
from core.providers.base import ChatDelta, ChatTurn
from core.providers.local import LOCAL_BASE_MODEL
from core.providers.registry import ConnectionSettings, provider_for
from core.services import ai_models
from core.services._common import get_or_404, user_names
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.chat")

TITLE_MAX = 200
HISTORY_LIMIT = 200
# How many earlier messages a model reads, and Train AI offers, before the answer.
CONTEXT_MESSAGES = 20
SAVE_EVERY_SECONDS = 0.5
# A pending answer nobody has touched for this long was interrupted (page closed).
STALE_AFTER = timedelta(minutes=5)
_OPENAI_NAME = re.compile(r"[^A-Za-z0-9_-]+")

MemberKind = Literal["user", "model"]


@dataclass(frozen=True)
class Member:
    kind: MemberKind
    id: int
    name: str


@dataclass(frozen=True)
class ChatSummary:
    id: int
    title: str
    kind: ChatKind
    answer_mode: AnswerMode
    members: list[Member]
    last_message_at: datetime | None

    @property
    def models(self) -> list[Member]:
        return [m for m in self.members if m.kind == "model"]

    @property
    def people(self) -> list[Member]:
        return [m for m in self.members if m.kind == "user"]


@dataclass(frozen=True)
class Directory:
    """Who can be added to a chat."""

    users: list[Member]
    models: list[Member]


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


@dataclass(frozen=True)
class _AnswerPlan:
    message_id: int
    model_name: str
    settings: ConnectionSettings | None
    provider_model: str
    turns: list[ChatTurn]


# --- helpers ------------------------------------------------------------------------------


def _members(session: Session, chat_ids: Collection[int]) -> dict[int, list[Member]]:
    result: dict[int, list[Member]] = {cid: [] for cid in chat_ids}
    if not chat_ids:
        return result
    kinds: tuple[tuple[MemberKind, Any, Any, Any], ...] = (
        ("user", User.id, User.display_name, ChatMember.user_id),
        ("model", AIModel.id, AIModel.name, ChatMember.model_id),
    )
    for kind, key, name, link in kinds:
        rows = session.execute(
            select(ChatMember.chat_id, key, name)
            .join(key.table, key == link)
            .where(ChatMember.chat_id.in_(chat_ids))
            .order_by(name)
        ).all()
        for chat_id, member_id, member_name in rows:
            result[chat_id].append(Member(kind, member_id, member_name))
    return result


def _summary(chat: Chat, members: list[Member]) -> ChatSummary:
    return ChatSummary(
        id=chat.id,
        title=chat.title,
        kind=chat.kind,
        answer_mode=chat.answer_mode,
        members=members,
        last_message_at=chat.last_message_at,
    )


def _chat_for(session: Session, actor: Actor, chat_id: int) -> Chat:
    """The chat, if the actor takes part in it (the system operator sees every chat)."""
    chat = get_or_404(session, Chat, chat_id, "Chat")
    if actor.is_system:
        return chat
    member = session.scalar(
        select(ChatMember.id).where(
            ChatMember.chat_id == chat_id, ChatMember.user_id == actor.user_id
        )
    )
    if member is None:
        raise PermissionDenied("You are not a member of this chat.")
    return chat


def _version_for(model: AIModel) -> int | None:
    """The version that answers: the active one, or the pinned one when the model does not
    follow the latest version."""
    if not model.auto_update_to_latest and model.pinned_version_id is not None:
        return model.pinned_version_id
    return model.active_version_id


def _views(session: Session, messages: Sequence[ChatMessage]) -> list[ChatMessageView]:
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


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise ValidationFailed(
            "The chat cannot be saved.", [Problem("title", f"at most {TITLE_MAX} characters")]
        )
    return title


# --- chats and members --------------------------------------------------------------------


@requires(Permission.CHAT)
def chat_directory(uow: UnitOfWork, actor: Actor) -> Directory:
    """Active people and the models that can take part in chats."""
    with uow:
        users = uow.session.execute(
            select(User.id, User.display_name)
            .where(User.is_active.is_(True))
            .order_by(User.display_name)
        ).all()
        models = uow.session.execute(select(AIModel.id, AIModel.name).order_by(AIModel.name)).all()
        return Directory(
            users=[Member("user", uid, name) for uid, name in users],
            models=[Member("model", mid, name) for mid, name in models],
        )


@requires(Permission.CHAT)
def list_chats(uow: UnitOfWork, actor: Actor) -> list[ChatSummary]:
    """The chats the actor takes part in, most recently active first."""
    with uow:
        session = uow.session
        query = select(Chat)
        if not actor.is_system:
            query = query.where(
                Chat.id.in_(select(ChatMember.chat_id).where(ChatMember.user_id == actor.user_id))
            )
        chats = list(
            session.scalars(
                query.order_by(
                    func.coalesce(Chat.last_message_at, Chat.created_at).desc(), Chat.id.desc()
                )
            )
        )
        members = _members(session, [c.id for c in chats])
        return [_summary(c, members[c.id]) for c in chats]


@requires(Permission.CHAT)
def get_chat(uow: UnitOfWork, actor: Actor, chat_id: int) -> ChatSummary:
    with uow:
        chat = _chat_for(uow.session, actor, chat_id)
        return _summary(chat, _members(uow.session, [chat.id])[chat.id])


def _check_members(session: Session, user_ids: Collection[int], model_ids: Collection[int]) -> None:
    found_users = set(
        session.scalars(select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True)))
    )
    found_models = set(session.scalars(select(AIModel.id).where(AIModel.id.in_(model_ids))))
    problems = [
        Problem("members", f"user #{u} does not exist or is disabled")
        for u in set(user_ids) - found_users
    ]
    problems += [
        Problem("members", f"model #{m} does not exist") for m in set(model_ids) - found_models
    ]
    if problems:
        raise ValidationFailed("The chat cannot be saved.", problems)


@requires(Permission.CHAT)
def create_chat(
    uow: UnitOfWork,
    actor: Actor,
    title: str,
    kind: ChatKind,
    user_ids: Collection[int] = (),
    model_ids: Collection[int] = (),
    answer_mode: AnswerMode = AnswerMode.MENTION,
) -> ChatSummary:
    """A group chat, or a direct chat between the actor and one person or model (an existing
    direct chat with the same counterpart is reused)."""
    kind = ChatKind(kind)
    others = {u for u in user_ids if u != actor.user_id}
    models = set(model_ids)
    with uow:
        session = uow.session
        _check_members(session, others, models)
        if kind == ChatKind.DIRECT:
            if len(others) + len(models) != 1:
                raise ValidationFailed(
                    "A direct chat is with exactly one person or one model.",
                    [Problem("members", "choose exactly one")],
                )
            existing = _existing_direct(session, actor, others, models)
            if existing is not None:
                return _summary(existing, _members(session, [existing.id])[existing.id])
            if not title.strip():
                title = (
                    session.get(User, next(iter(others))).display_name  # type: ignore[union-attr]
                    if others
                    else session.get(AIModel, next(iter(models))).name  # type: ignore[union-attr]
                )
        title = _clean_title(title)
        if not title:
            raise ValidationFailed(
                "The chat cannot be saved.", [Problem("title", "give the group a name")]
            )
        chat = Chat(
            title=title,
            kind=kind,
            answer_mode=AnswerMode(answer_mode),
            created_by_id=actor.user_id,
        )
        session.add(chat)
        session.flush()
        people = others | ({actor.user_id} if actor.user_id is not None else set())
        session.add_all(ChatMember(chat_id=chat.id, user_id=uid) for uid in sorted(people))
        session.add_all(ChatMember(chat_id=chat.id, model_id=mid) for mid in sorted(models))
        uow.commit()
        return _summary(chat, _members(session, [chat.id])[chat.id])


def _existing_direct(
    session: Session, actor: Actor, others: set[int], models: set[int]
) -> Chat | None:
    mine = select(ChatMember.chat_id).where(ChatMember.user_id == actor.user_id)
    theirs = (
        select(ChatMember.chat_id).where(ChatMember.user_id.in_(others))
        if others
        else select(ChatMember.chat_id).where(ChatMember.model_id.in_(models))
    )
    return session.scalar(
        select(Chat)
        .where(Chat.kind == ChatKind.DIRECT, Chat.id.in_(mine), Chat.id.in_(theirs))
        .limit(1)
    )


@requires(Permission.CHAT)
def update_chat(
    uow: UnitOfWork,
    actor: Actor,
    chat_id: int,
    *,
    title: str | None = None,
    answer_mode: AnswerMode | None = None,
    add_user_ids: Collection[int] = (),
    add_model_ids: Collection[int] = (),
    remove: Collection[Member] = (),
) -> ChatSummary:
    """Rename a group, change when its models answer, add or remove members."""
    with uow:
        session = uow.session
        chat = _chat_for(session, actor, chat_id)
        changes_members = bool(add_user_ids or add_model_ids or remove)
        if chat.kind == ChatKind.DIRECT and (changes_members or answer_mode is not None):
            raise ValidationFailed(
                "A direct chat always has the same two members; start a group chat instead."
            )
        if title is not None:
            cleaned = _clean_title(title)
            if not cleaned:
                raise ValidationFailed(
                    "The chat cannot be saved.", [Problem("title", "give the group a name")]
                )
            chat.title = cleaned
        if answer_mode is not None:
            chat.answer_mode = AnswerMode(answer_mode)
        current = _members(session, [chat.id])[chat.id]
        _check_members(session, set(add_user_ids), set(add_model_ids))
        for uid in set(add_user_ids) - {m.id for m in current if m.kind == "user"}:
            session.add(ChatMember(chat_id=chat.id, user_id=uid))
        for mid in set(add_model_ids) - {m.id for m in current if m.kind == "model"}:
            session.add(ChatMember(chat_id=chat.id, model_id=mid))
        for member in remove:
            column = ChatMember.user_id if member.kind == "user" else ChatMember.model_id
            row = session.scalar(
                select(ChatMember).where(ChatMember.chat_id == chat.id, column == member.id)
            )
            if row is not None:
                session.delete(row)
        session.flush()
        after = _members(session, [chat.id])[chat.id]
        if not any(m.kind == "user" for m in after):
            raise ValidationFailed("A chat needs at least one person; nothing was changed.")
        uow.commit()
        return _summary(chat, after)


# --- messages -----------------------------------------------------------------------------


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
        _chat_for(session, actor, chat_id)
        query = select(ChatMessage).where(ChatMessage.chat_id == chat_id)
        if before_id is not None:
            query = query.where(ChatMessage.id < before_id)
        newest = list(
            session.scalars(query.order_by(ChatMessage.id.desc()).limit(max(1, min(limit, 2_000))))
        )
        return _views(session, list(reversed(newest)))


@requires(Permission.CHAT)
def chat_activity(uow: UnitOfWork, actor: Actor, chat_id: int) -> str:
    """A token that changes whenever a message is added or an answer finishes: pages poll it
    cheaply and reload the chat only when it changed."""
    with uow:
        _chat_for(uow.session, actor, chat_id)
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
        _chat_for(uow.session, actor, message.chat_id)
        return _views(uow.session, [message])[0]


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
        version_id=_version_for(model),
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
        chat = _chat_for(session, actor, chat_id)
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
        return Posted(_views(session, [message])[0], [p.id for p in pending])


@requires(Permission.CHAT)
def retry_answer(uow: UnitOfWork, actor: Actor, message_id: int) -> int:
    """Ask the model again for a failed or interrupted answer; stream it with stream_answer."""
    with uow:
        session = uow.session
        message = get_or_404(session, ChatMessage, message_id, "Message")
        _chat_for(session, actor, message.chat_id)
        view = _views(session, [message])[0]
        if not view.is_ai or message.author_model_id is None:
            raise ValidationFailed("Only an AI answer can be asked again.")
        if not view.failed:
            raise ValidationFailed("This answer did not fail; there is nothing to retry.")
        model = get_or_404(session, AIModel, message.author_model_id, "Model")
        message.version_id = _version_for(model)
        message.status = ChatMessageStatus.STREAMING
        message.content = ""
        message.error = None
        message.meta = None
        message.created_at = utcnow()
        uow.commit()
        return message.id


def _participant(name: str) -> str:
    return _OPENAI_NAME.sub("_", name).strip("_")[:64]


def _plan(uow: UnitOfWork, actor: Actor, message: ChatMessage) -> _AnswerPlan:
    session = uow.session
    if message.author_model_id is None:
        raise ValidationFailed("Only an AI message is answered by a model.")
    model = get_or_404(session, AIModel, message.author_model_id, "Model")
    detail = ai_models.get_model(uow, actor, model.id)
    version = session.get(ModelVersion, message.version_id) if message.version_id else None
    settings = None
    if detail.effective_connection_id is not None:
        conn = session.get(ProviderConnection, detail.effective_connection_id)
        if conn is not None:
            settings = ConnectionSettings(conn.provider_type, conn.base_url, conn.api_key_env)
    if version is not None:
        provider_model, system = version.provider_model_id, version.system_message
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
    views = {v.id: v for v in _views(session, history)}
    turns = [ChatTurn("system", system)] if system else []
    for past in history:
        view = views[past.id]
        if past.author_model_id == model.id:
            turns.append(ChatTurn("assistant", past.content))
        else:
            text = mentions.without_mention(past.content, model.name)
            turns.append(ChatTurn("user", text, _participant(view.author_name) or None))
    return _AnswerPlan(message.id, model.name, settings, provider_model, turns)


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


@requires(Permission.CHAT)
def stream_answer(
    uow: UnitOfWork, actor: Actor, message_id: int
) -> Generator[ChatDelta, None, None]:
    """Produce a pending answer from the model's provider, yielding its pieces as they come
    and saving the text as it grows. A provider failure is saved on the message with a clear
    error (and re-raised for the caller to show); the question stays in the chat."""
    with uow:
        message = get_or_404(uow.session, ChatMessage, message_id, "Message")
        _chat_for(uow.session, actor, message.chat_id)
        if message.status != ChatMessageStatus.STREAMING:
            return
        plan = _plan(uow, actor, message)
    pieces: list[str] = []
    meta: dict[str, Any] = {}
    finished = False
    try:
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
        provider = provider_for(plan.settings)
        saved_at = time.monotonic()
        for delta in provider.chat(plan.provider_model, plan.turns):
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
