"""How much review work waits under each model, so the curation page can open where a
trainer is needed and its model picker can say how much is waiting where."""

from __future__ import annotations

from sqlalchemy import func, select

from core.domain import TranscriptStatus
from core.models import Transcript
from core.permissions import Actor, Permission, requires
from core.uow import UnitOfWork


@requires(Permission.READ)
def waiting_by_model(uow: UnitOfWork, actor: Actor) -> dict[int, int]:
    """Transcripts waiting for review (pending) per model id; models with none are absent."""
    with uow:
        rows = uow.session.execute(
            select(Transcript.model_id, func.count())
            .where(Transcript.status == TranscriptStatus.PENDING)
            .group_by(Transcript.model_id)
        ).all()
        return {int(model_id): int(count) for model_id, count in rows}
