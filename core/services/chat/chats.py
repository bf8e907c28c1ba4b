"""Chats and their members: group chats and direct chats with people and AI models."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import AnswerMode, ChatKind
from core.errors import PermissionDenied, Problem, ValidationFailed
from core.models import AIModel, Chat, ChatMember, User
from core.permissions import Actor, Permission, requires
from core.services.shared import get_or_404
from core.uow import UnitOfWork

TITLE_MAX = 200


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


def chat_for(session: Session, actor: Actor, chat_id: int) -> Chat:
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


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise ValidationFailed(
            "The chat cannot be saved.", [Problem("title", f"at most {TITLE_MAX} characters")]
        )
    return title


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
        chat = chat_for(uow.session, actor, chat_id)
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
        chat = chat_for(session, actor, chat_id)
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
