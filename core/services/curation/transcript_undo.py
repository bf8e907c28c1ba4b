"""Taking back a decision on a transcript: it waits in the queue again. An approval that
made a training conversation takes it away too, as long as nobody changed it since (a
changed one is somebody's work: it is left, and the undo refused with a word on why)."""

from __future__ import annotations

from core.domain import ConversationStatus, TranscriptStatus, as_utc
from core.errors import Conflict, ValidationFailed
from core.models import TrainingConversation, Transcript
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.curation.transcripts import Decision
from core.services.shared import get_or_404
from core.uow import UnitOfWork

_DECIDED = (TranscriptStatus.APPROVED, TranscriptStatus.REJECTED, TranscriptStatus.SKIPPED)


@requires(Permission.EDIT_TRAINING)
def undo_decision(uow: UnitOfWork, actor: Actor, transcript_id: int) -> Decision:
    with uow:
        session = uow.session
        transcript = get_or_404(session, Transcript, transcript_id, "Transcript")
        if transcript.status not in _DECIDED:
            raise ValidationFailed(
                "This transcript is waiting for review: there is nothing to undo."
            )
        was = transcript.status
        removed = ""
        if was == TranscriptStatus.APPROVED and transcript.conversation_id is not None:
            conversation = session.get(TrainingConversation, transcript.conversation_id)
            made_here = (
                conversation is not None
                and conversation.origin_ref == transcript.source_ref
                and conversation.notes.startswith("Curated from a transcript")
            )
            if made_here and conversation is not None:
                approved_at = as_utc(transcript.reviewed_at)
                changed = (
                    approved_at is None
                    or (as_utc(conversation.updated_at) or approved_at) > approved_at
                )
                if changed or conversation.status != ConversationStatus.READY:
                    raise Conflict(
                        f"Conversation #{conversation.id} was changed since the approval; "
                        "change or delete it on the Training conversations page instead."
                    )
                session.delete(conversation)
                removed = f"; conversation #{conversation.id} is removed"
        transcript.status = TranscriptStatus.PENDING
        transcript.reviewed_by_id = None
        transcript.reviewed_at = None
        transcript.reject_reason = None
        transcript.conversation_id = None
        session.flush()
        record_audit(
            session, actor, "undo", "transcript", transcript.id,
            f"took back the {was.value} decision on transcript “{transcript.title}”{removed}",
        )  # fmt: skip
        uow.commit()
        return Decision(
            transcript.id,
            TranscriptStatus.PENDING,
            None,
            f"Undone: #{transcript.id} waits for review again{removed}.",
        )
