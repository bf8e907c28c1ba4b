"""Deleting a model: what it would take with it (children, Q&As, conversations, history),
and the deletion itself, refused while anything would be lost unseen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from core.errors import Conflict, Problem, ValidationFailed
from core.models import (
    QA,
    AIModel,
    ChatMember,
    Compilation,
    ModelVersion,
    TrainingConversation,
    Transcript,
)
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.catalog.ai_models import AUDITED_FIELDS
from core.services.shared import get_or_404, snapshot
from core.uow import UnitOfWork


@dataclass(frozen=True)
class DeletionImpact:
    model_name: str
    children: list[str]
    qas: int
    conversations: int
    transcripts: int
    compilations: int
    versions: int
    chat_memberships: int
    losses: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return bool(self.losses)


def _count(uow: UnitOfWork, column: Any, model_id: int) -> int:
    return uow.session.scalar(select(func.count()).where(column == model_id)) or 0


@requires(Permission.MANAGE_MODELS)
def deletion_impact(uow: UnitOfWork, actor: Actor, model_id: int) -> DeletionImpact:
    """What deleting a model would remove, to name it in the confirmation."""
    with uow:
        model = get_or_404(uow.session, AIModel, model_id, "Model")
        children = list(
            uow.session.scalars(select(AIModel.name).where(AIModel.parent_id == model_id))
        )
        counts = {
            "Q&As": _count(uow, QA.model_id, model_id),
            "training conversations": _count(uow, TrainingConversation.model_id, model_id),
            "transcripts in the curation queue": _count(uow, Transcript.model_id, model_id),
            "compilations": _count(uow, Compilation.model_id, model_id),
            "versions": _count(uow, ModelVersion.model_id, model_id),
            "chat memberships": _count(uow, ChatMember.model_id, model_id),
        }
        return DeletionImpact(
            model_name=model.name,
            children=children,
            qas=counts["Q&As"],
            conversations=counts["training conversations"],
            transcripts=counts["transcripts in the curation queue"],
            compilations=counts["compilations"],
            versions=counts["versions"],
            chat_memberships=counts["chat memberships"],
            losses=[f"{n:,} {what}" for what, n in counts.items() if n],
        )


@requires(Permission.MANAGE_MODELS)
def delete_model(
    uow: UnitOfWork, actor: Actor, model_id: int, confirm_name: str | None = None
) -> None:
    """Delete a model. Refused while it has children; a model holding data is deleted only
    when the caller confirms by repeating its name."""
    impact = deletion_impact(uow, actor, model_id)
    if impact.children:
        raise Conflict(
            f"{impact.model_name} has child models ({', '.join(impact.children)}); move or delete "
            "them first."
        )
    if impact.has_data and (confirm_name or "").strip() != impact.model_name:
        raise ValidationFailed(
            f"Deleting {impact.model_name} also deletes {', '.join(impact.losses)}. Type the "
            "model's name to confirm.",
            [Problem("confirmation", "type the model's name exactly")],
        )
    with uow:
        model = get_or_404(uow.session, AIModel, model_id, "Model")
        record_audit(
            uow.session,
            actor,
            "delete",
            "model",
            model.id,
            f"deleted {model.name}"
            + (f" with {', '.join(impact.losses)}" if impact.losses else ""),
            before=snapshot(model, AUDITED_FIELDS),
        )
        # The active-version link points into rows this delete removes.
        model.active_version_id = None
        model.pinned_version_id = None
        uow.session.flush()
        uow.session.delete(model)
        uow.commit()
