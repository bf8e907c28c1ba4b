"""Training conversations: listing with filters, the editor, status changes, creation from
chats and transcripts. Only ``ready`` conversations go into the next compilation, so a
conversation becomes ready only when it passes the rules of ``core.training.conversations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import Session

from core.domain import (
    NAME_MAX,
    NOTES_MAX,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    control_character,
    utcnow,
)
from core.errors import AlreadyExists, Problem, ValidationFailed
from core.models import AIModel, TrainingConversation, TrainingMessage, User
from core.permissions import Actor, Permission, requires
from core.services import catalog
from core.services.accounts.audit import record_audit
from core.services.shared import (
    Page,
    changed_fields,
    chat_titles,
    check_row_version,
    get_or_404,
    user_names,
)
from core.training import conversations as rules
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork

TITLE_MAX = 300


@dataclass(frozen=True)
class MessageView:
    id: int
    position: int
    role: MessageRole
    participant_name: str
    content: str
    weight: int | None

    def draft(self) -> MessageDraft:
        return MessageDraft(self.role, self.content, self.participant_name, self.weight)


@dataclass(frozen=True)
class ConversationFilter:
    statuses: Sequence[ConversationStatus] = ()
    origins: Sequence[ConversationOrigin] = ()
    changed_by_id: int | None = None
    changed_since: datetime | None = None
    search: str = ""


@dataclass(frozen=True)
class ConversationRow:
    id: int
    title: str
    status: ConversationStatus
    origin: ConversationOrigin
    origin_label: str
    message_count: int
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class ConversationDetail:
    id: int
    model_id: int
    model_name: str
    title: str
    notes: str
    status: ConversationStatus
    origin: ConversationOrigin
    origin_ref: dict[str, Any] | None
    origin_label: str
    messages: list[MessageView]
    created_by: str
    created_at: datetime
    changed_by: str
    changed_at: datetime
    row_version: int
    # For the editor's live checks: the example is built with the model's system message.
    system_message: str
    base_model: str | None
    problems: list[Problem]
    token_count: int

    @property
    def chat_id(self) -> int | None:
        ref = self.origin_ref or {}
        return int(ref["chat_id"]) if "chat_id" in ref else None

    @property
    def drafts(self) -> list[MessageDraft]:
        return [m.draft() for m in self.messages]


@dataclass(frozen=True)
class Editor:
    id: int
    name: str


class _MessageLike(Protocol):
    @property
    def role(self) -> MessageRole: ...
    @property
    def participant_name(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def weight(self) -> int | None: ...


def _messages_snapshot(messages: Sequence[_MessageLike]) -> list[dict[str, Any]]:
    return [
        {
            "role": m.role.value,
            "participant": m.participant_name,
            "weight": m.weight,
            "content": m.content,
        }
        for m in messages
    ]


def conversation_snapshot(conv: TrainingConversation) -> dict[str, Any]:
    return {
        "title": conv.title,
        "notes": conv.notes,
        "status": conv.status.value,
        "origin": conv.origin.value,
        "origin_ref": conv.origin_ref,
        "messages": _messages_snapshot(conv.messages),
    }


def conversation_detail(
    uow: UnitOfWork, actor: Actor, conv: TrainingConversation
) -> ConversationDetail:
    session = uow.session
    model = catalog.get_model(uow, actor, conv.model_id)
    names = user_names(session, [conv.created_by_id, conv.updated_by_id])
    messages = [
        MessageView(m.id, m.position, m.role, m.participant_name, m.content, m.weight)
        for m in conv.messages
    ]
    drafts = [m.draft() for m in messages]
    return ConversationDetail(
        id=conv.id,
        model_id=conv.model_id,
        model_name=model.name,
        title=conv.title,
        notes=conv.notes,
        status=conv.status,
        origin=conv.origin,
        origin_ref=conv.origin_ref,
        origin_label=rules.origin_label(
            conv.origin, conv.origin_ref, chat_titles(session, [conv.origin_ref])
        ),
        messages=messages,
        created_by=names.get(conv.created_by_id or 0, "system"),
        created_at=conv.created_at,
        changed_by=names.get(conv.updated_by_id or 0, "system"),
        changed_at=conv.updated_at,
        row_version=conv.row_version,
        system_message=model.system_message,
        base_model=model.effective_base_model,
        problems=rules.problems(drafts),
        token_count=rules.token_count(drafts, model.system_message, model.effective_base_model),
    )


def _clean_messages(messages: Sequence[MessageDraft]) -> list[MessageDraft]:
    """Normalise, and refuse what can never be stored (empty or oversized messages)."""
    cleaned = [m.normalised() for m in messages]
    hard = rules.message_problems(cleaned)
    if hard:
        raise ValidationFailed("The conversation cannot be saved.", hard)
    return cleaned


def _clean_text(title: str, notes: str, messages: Sequence[MessageDraft]) -> tuple[str, str]:
    problems: list[Problem] = []
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        problems.append(Problem("title", f"use at most {TITLE_MAX} characters"))
    if len(notes) > NOTES_MAX:
        problems.append(Problem("notes", f"use at most {NOTES_MAX:,} characters"))
    if problems:
        raise ValidationFailed("The conversation cannot be saved.", problems)
    if not title:
        first = next((m.content for m in messages if m.role == MessageRole.USER), "")
        title = " ".join(first.split())[:80] or "Untitled conversation"
    return title, notes.strip()


def require_trainable(messages: Sequence[MessageDraft], what: str) -> None:
    problems = rules.problems(messages)
    if problems:
        raise ValidationFailed(f"{what} cannot be marked ready yet.", problems)


def _store_messages(
    session: Session, conv: TrainingConversation, messages: Sequence[MessageDraft]
) -> None:
    # Old rows go first: positions are unique per conversation.
    conv.messages.clear()
    session.flush()
    conv.messages.extend(
        TrainingMessage(
            position=i,
            role=m.role,
            participant_name=m.participant_name[:NAME_MAX],
            content=m.content,
            weight=m.weight,
        )
        for i, m in enumerate(messages)
    )
    conv.content_hash = rules.content_hash(messages)


def _duplicate_of(
    session: Session, model_id: int, content_hash: str, except_id: int | None = None
) -> int | None:
    query = select(TrainingConversation.id).where(
        TrainingConversation.model_id == model_id,
        TrainingConversation.content_hash == content_hash,
    )
    if except_id is not None:
        query = query.where(TrainingConversation.id != except_id)
    return session.scalar(query.limit(1))


@requires(Permission.READ)
def list_conversations(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    filters: ConversationFilter | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[ConversationRow]:
    """One page of a model's conversations, most recently changed first."""
    filters = filters or ConversationFilter()
    tc = TrainingConversation
    with uow:
        session = uow.session
        get_or_404(session, AIModel, model_id, "Model")
        conditions: list[Any] = [tc.model_id == model_id]
        if filters.statuses:
            conditions.append(tc.status.in_(list(filters.statuses)))
        if filters.origins:
            conditions.append(tc.origin.in_(list(filters.origins)))
        if filters.changed_by_id is not None:
            conditions.append(tc.updated_by_id == filters.changed_by_id)
        if filters.changed_since is not None:
            conditions.append(tc.updated_at >= filters.changed_since)
        text = filters.search.strip()
        if control_character(text):
            conditions.append(false())  # no stored text holds one; PostgreSQL refuses NUL
        elif text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(
                or_(
                    tc.title.ilike(pattern, escape="\\"),
                    tc.notes.ilike(pattern, escape="\\"),
                    exists().where(
                        TrainingMessage.conversation_id == tc.id,
                        TrainingMessage.content.ilike(pattern, escape="\\"),
                    ),
                )
            )
        total = session.scalar(select(func.count()).select_from(tc).where(*conditions)) or 0
        counts = (
            select(TrainingMessage.conversation_id, func.count().label("n"))
            .group_by(TrainingMessage.conversation_id)
            .subquery()
        )
        rows = session.execute(
            select(tc, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.conversation_id == tc.id)
            .where(*conditions)
            .order_by(tc.updated_at.desc(), tc.id.desc())
            .offset(max(0, offset))
            .limit(max(1, min(limit, 1_000)))
        ).all()
        convs = [r[0] for r in rows]
        names = user_names(session, [c.updated_by_id for c in convs])
        titles = chat_titles(session, [c.origin_ref for c in convs])
        return Page(
            rows=[
                ConversationRow(
                    id=c.id,
                    title=c.title,
                    status=c.status,
                    origin=c.origin,
                    origin_label=rules.origin_label(c.origin, c.origin_ref, titles),
                    message_count=int(n),
                    changed_by=names.get(c.updated_by_id or 0, "system"),
                    changed_at=c.updated_at,
                )
                for c, n in rows
            ],
            total=total,
            offset=offset,
            limit=limit,
        )


@requires(Permission.READ)
def conversation_editors(uow: UnitOfWork, actor: Actor, model_id: int) -> list[Editor]:
    """The people who last changed a conversation of this model (the "changed by" filter)."""
    with uow:
        rows = uow.session.execute(
            select(User.id, User.display_name)
            .where(
                User.id.in_(
                    select(TrainingConversation.updated_by_id).where(
                        TrainingConversation.model_id == model_id
                    )
                )
            )
            .order_by(User.display_name)
        ).all()
        return [Editor(uid, name) for uid, name in rows]


@requires(Permission.READ)
def get_conversation(uow: UnitOfWork, actor: Actor, conversation_id: int) -> ConversationDetail:
    with uow:
        conv = get_or_404(uow.session, TrainingConversation, conversation_id, "Conversation")
        return conversation_detail(uow, actor, conv)


@requires(Permission.EDIT_TRAINING)
def create_conversation(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    messages: Sequence[MessageDraft],
    *,
    title: str = "",
    notes: str = "",
    status: ConversationStatus = ConversationStatus.DRAFT,
    origin: ConversationOrigin = ConversationOrigin.MANUAL,
    origin_ref: dict[str, Any] | None = None,
) -> ConversationDetail:
    """A new conversation. The same messages already stored for this model are not stored
    twice: ``AlreadyExists`` names the existing conversation instead."""
    with uow:
        session = uow.session
        get_or_404(session, AIModel, model_id, "Model")
        cleaned = _clean_messages(messages)
        title, notes = _clean_text(title, notes, cleaned)
        status = ConversationStatus(status)
        if status == ConversationStatus.READY:
            require_trainable(cleaned, "The conversation")
        digest = rules.content_hash(cleaned)
        existing = _duplicate_of(session, model_id, digest)
        if existing is not None:
            raise AlreadyExists(
                f"These messages were already trained: conversation #{existing} holds the same "
                "exchange. Nothing new was created.",
                entity="conversation",
                existing_id=existing,
            )
        now = utcnow()
        conv = TrainingConversation(
            model_id=model_id,
            title=title,
            notes=notes,
            origin=origin,
            origin_ref=origin_ref,
            status=status,
            created_by_id=actor.user_id,
            created_at=now,
            updated_by_id=actor.user_id,
            updated_at=now,
        )
        session.add(conv)
        _store_messages(session, conv, cleaned)
        session.flush()
        record_audit(
            session,
            actor,
            "create",
            "conversation",
            conv.id,
            f"created {status.value} conversation “{title}” ({origin.value})",
            after=conversation_snapshot(conv),
        )
        uow.commit()
        return conversation_detail(uow, actor, conv)


@requires(Permission.EDIT_TRAINING)
def save_conversation(
    uow: UnitOfWork,
    actor: Actor,
    conversation_id: int,
    messages: Sequence[MessageDraft],
    *,
    title: str,
    notes: str,
    expected_version: int | None,
) -> ConversationDetail:
    """The editor's save: title, notes and the whole message list (added, removed, reordered
    and edited messages) in one change. A ready conversation must stay trainable."""
    with uow:
        session = uow.session
        conv = get_or_404(session, TrainingConversation, conversation_id, "Conversation")
        check_row_version(conv, expected_version, entity="conversation")
        cleaned = _clean_messages(messages)
        title, notes = _clean_text(title, notes, cleaned)
        if conv.status == ConversationStatus.READY:
            require_trainable(cleaned, "This ready conversation")
        before = conversation_snapshot(conv)
        conv.title, conv.notes = title, notes
        if before["messages"] != _messages_snapshot(cleaned):
            _store_messages(session, conv, cleaned)
        after = conversation_snapshot(conv)
        changed = changed_fields(before, after)
        if changed:
            conv.updated_by_id = actor.user_id
            conv.updated_at = utcnow()
            session.flush()
            record_audit(
                session,
                actor,
                "update",
                "conversation",
                conv.id,
                f"changed {', '.join(changed)} of conversation “{conv.title}”",
                before,
                after,
            )
        uow.commit()
        return conversation_detail(uow, actor, conv)
