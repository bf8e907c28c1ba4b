"""A training conversation's status (draft, ready, excluded), one at a time or in bulk, and
deleting it. Becoming ``ready`` requires passing the rules of ``core.training.conversations``."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from core.domain import ConversationStatus, utcnow
from core.errors import Problem, ValidationFailed
from core.models import TrainingConversation
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.curation.conversations import (
    ConversationDetail,
    conversation_detail,
    conversation_snapshot,
    require_trainable,
)
from core.services.shared import check_row_version, get_or_404
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork

BULK_MAX = 5_000


def _change_status(
    uow: UnitOfWork, actor: Actor, conv: TrainingConversation, status: ConversationStatus
) -> bool:
    if conv.status == status:
        return False
    if status == ConversationStatus.READY:
        require_trainable(
            [MessageDraft(m.role, m.content, m.participant_name, m.weight) for m in conv.messages],
            f"Conversation #{conv.id} “{conv.title}”",
        )
    before = conv.status.value
    conv.status = status
    conv.updated_by_id = actor.user_id
    conv.updated_at = utcnow()
    record_audit(
        uow.session,
        actor,
        "status",
        "conversation",
        conv.id,
        f"conversation “{conv.title}”: {before} → {status.value}",
        {"status": before},
        {"status": status.value},
    )
    return True


@requires(Permission.EDIT_TRAINING)
def set_status(
    uow: UnitOfWork,
    actor: Actor,
    conversation_id: int,
    status: ConversationStatus,
    expected_version: int | None = None,
) -> ConversationDetail:
    with uow:
        conv = get_or_404(uow.session, TrainingConversation, conversation_id, "Conversation")
        check_row_version(conv, expected_version, entity="conversation")
        _change_status(uow, actor, conv, ConversationStatus(status))
        uow.session.flush()
        uow.commit()
        return conversation_detail(uow, actor, conv)


@requires(Permission.EDIT_TRAINING)
def set_status_bulk(
    uow: UnitOfWork, actor: Actor, conversation_ids: Collection[int], status: ConversationStatus
) -> int:
    """Change many at once, all or nothing: if one cannot become ready, none changes and the
    error names each one that cannot. Returns how many changed."""
    status = ConversationStatus(status)
    ids = sorted(set(conversation_ids))
    if len(ids) > BULK_MAX:
        raise ValidationFailed(f"Change at most {BULK_MAX:,} conversations at once.")
    with uow:
        convs = list(
            uow.session.scalars(
                select(TrainingConversation).where(TrainingConversation.id.in_(ids))
            )
        )
        missing = set(ids) - {c.id for c in convs}
        problems = [Problem(f"conversation #{i}", "no longer exists") for i in sorted(missing)]
        changed = 0
        for conv in convs:
            try:
                changed += _change_status(uow, actor, conv, status)
            except ValidationFailed as exc:
                first = exc.problems[0] if exc.problems else Problem("", exc.message)
                problems.append(Problem(f"conversation #{conv.id} “{conv.title}”", str(first)))
        if problems:
            raise ValidationFailed(
                f"No status was changed: {len(problems)} of the selected conversations cannot "
                f"become {status.value}.",
                problems,
            )
        uow.commit()
        return changed


@requires(Permission.EDIT_TRAINING)
def delete_conversation(uow: UnitOfWork, actor: Actor, conversation_id: int) -> None:
    with uow:
        conv = get_or_404(uow.session, TrainingConversation, conversation_id, "Conversation")
        record_audit(
            uow.session,
            actor,
            "delete",
            "conversation",
            conv.id,
            f"deleted conversation “{conv.title}”",
            before=conversation_snapshot(conv),
        )
        uow.session.delete(conv)
        uow.commit()
