"""Transcript curation: conversations from files or chats wait in a per-model review queue
until a trainer approves them (they become ``ready`` training conversations), edits then
approves, rejects them with a reason, or skips them for later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core.domain import (
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    TranscriptStatus,
    utcnow,
)
from core.errors import AlreadyExists, Problem, ValidationFailed
from core.models import AIModel, Transcript
from core.permissions import Actor, Permission, requires
from core.services import chat
from core.services.accounts.audit import record_audit
from core.services.curation import conversations
from core.services.shared import Page, chat_titles, check_row_version, get_or_404, user_names
from core.training import conversations as rules
from core.training.conversations import MessageDraft
from core.training.transcript_files import (
    ParsedTranscript,
    parse_transcripts,
    personal_data_warnings,
)
from core.uow import UnitOfWork

REASON_MAX = 1_000


@dataclass(frozen=True)
class ImportResult:
    file: str
    imported: int
    with_personal_data: int


@dataclass(frozen=True)
class QueueProgress:
    pending: int
    skipped: int
    approved: int
    rejected: int

    @property
    def total(self) -> int:
        return self.pending + self.skipped + self.approved + self.rejected

    @property
    def reviewed(self) -> int:
        return self.approved + self.rejected


@dataclass(frozen=True)
class TranscriptRow:
    id: int
    title: str
    status: TranscriptStatus
    source_label: str
    message_count: int
    personal_data: bool
    imported_at: datetime
    reject_reason: str | None = None


@dataclass(frozen=True)
class TranscriptView:
    id: int
    model_id: int
    title: str
    source_ref: dict[str, Any]
    source_label: str
    messages: list[MessageDraft]
    times: list[str | None]
    pii_warnings: list[str]
    status: TranscriptStatus
    reject_reason: str | None
    conversation_id: int | None
    imported_by: str
    imported_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    row_version: int
    # Why it cannot be approved as it is (then: edit, then approve).
    problems: list[Problem]


@dataclass(frozen=True)
class Decision:
    transcript_id: int
    status: TranscriptStatus
    conversation_id: int | None
    message: str


def _source_label(ref: dict[str, Any], chat_titles: dict[int, str]) -> str:
    return rules.origin_label(ConversationOrigin.IMPORT, ref, chat_titles)


def _drafts(messages: Sequence[dict[str, Any]]) -> list[MessageDraft]:
    drafts = []
    for m in messages:
        role = MessageRole(m["role"])
        weight = m.get("weight") if role == MessageRole.ASSISTANT else None
        drafts.append(
            MessageDraft(role, str(m["content"]), str(m.get("participant") or ""), weight)
        )
    return drafts


def _view(session: Session, t: Transcript) -> TranscriptView:
    names = user_names(session, [t.imported_by_id, t.reviewed_by_id])
    drafts = _drafts(t.messages)
    return TranscriptView(
        id=t.id,
        model_id=t.model_id,
        title=t.title,
        source_ref=t.source_ref,
        source_label=_source_label(t.source_ref, chat_titles(session, [t.source_ref])),
        messages=drafts,
        times=[m.get("time") for m in t.messages],
        pii_warnings=list(t.pii_warnings or []),
        status=t.status,
        reject_reason=t.reject_reason,
        conversation_id=t.conversation_id,
        imported_by=names.get(t.imported_by_id or 0, "system"),
        imported_at=t.imported_at,
        reviewed_by=names.get(t.reviewed_by_id) if t.reviewed_by_id else None,
        reviewed_at=t.reviewed_at,
        row_version=t.row_version,
        problems=rules.problems([d.normalised() for d in drafts]),
    )


def _insert(
    session: Session, actor: Actor, model_id: int, parsed: Sequence[ParsedTranscript]
) -> None:
    now = utcnow()
    rows = [
        {
            "model_id": model_id,
            "title": p.title[:300],
            "source_ref": p.source_ref,
            "messages": p.messages,
            "pii_warnings": p.pii_warnings,
            "status": TranscriptStatus.PENDING,
            "imported_by_id": actor.user_id,
            "imported_at": now,
            "row_version": 1,
        }
        for p in parsed
    ]
    # One multi-row statement per chunk: 10,000 transcripts import in seconds.
    for start in range(0, len(rows), 1_000):
        session.execute(insert(Transcript), rows[start : start + 1_000])


@requires(Permission.EDIT_TRAINING)
def import_transcripts(
    uow: UnitOfWork, actor: Actor, model_id: int, filename: str, content: bytes
) -> ImportResult:
    """Put every transcript of a JSONL or CSV file into the model's review queue; a file with
    any bad line is refused whole, with each problem named by line."""
    parsed = parse_transcripts(filename, content)
    with uow:
        session = uow.session
        model = get_or_404(session, AIModel, model_id, "Model")
        _insert(session, actor, model_id, parsed)
        flagged = sum(1 for p in parsed if p.pii_warnings)
        record_audit(
            session,
            actor,
            "import",
            "transcripts",
            None,
            f"imported {len(parsed):,} transcripts from {filename} into the review queue of "
            f"{model.name}",
            after={"model_id": model_id, "file": filename, "count": len(parsed)},
        )
        uow.commit()
        return ImportResult(filename, len(parsed), flagged)


@requires(Permission.EDIT_TRAINING)
def send_chat_to_queue(
    uow: UnitOfWork, actor: Actor, chat_id: int, model_id: int | None = None
) -> TranscriptView:
    """Queue a chat for curation as training data of one of its models (the only one, or the
    one named): that model's answers become assistant turns, everything else user turns."""
    with uow:
        session = uow.session
        summary = chat.get_chat(uow, actor, chat_id)
        candidates = [m.id for m in summary.models]
        if model_id is None:
            if len(candidates) != 1:
                raise ValidationFailed(
                    "Choose which model this chat should train.",
                    [Problem("model", "the chat has several models" if candidates else "none")],
                )
            model_id = candidates[0]
        model = get_or_404(session, AIModel, model_id, "Model")
        views = [
            v
            for v in chat.list_messages(uow, actor, chat_id, limit=2_000)
            if not v.failed and v.content.strip() and v.status == "complete"
        ]
        messages = [
            {
                "role": "assistant" if v.is_ai and v.author_id == model_id else "user",
                "content": v.content,
                "participant": v.author_name,
                "time": v.created_at.isoformat(),
                "weight": None,
            }
            for v in views
        ]
        if not any(m["role"] == "assistant" for m in messages):
            raise ValidationFailed(
                f"{model.name} has not answered in this chat yet, so there is nothing to learn."
            )
        ref = {"chat_id": chat_id, "message_ids": [v.id for v in views]}
        parsed = ParsedTranscript(summary.title, ref, messages, personal_data_warnings(messages))
        transcript = Transcript(
            model_id=model_id,
            title=f"Chat “{summary.title}”"[:300],
            source_ref=parsed.source_ref,
            messages=parsed.messages,
            pii_warnings=parsed.pii_warnings,
            imported_by_id=actor.user_id,
        )
        session.add(transcript)
        session.flush()
        uow.commit()
        return _view(session, transcript)


@requires(Permission.READ)
def queue_progress(uow: UnitOfWork, actor: Actor, model_id: int) -> QueueProgress:
    with uow:
        counts = dict(
            uow.session.execute(
                select(Transcript.status, func.count())
                .where(Transcript.model_id == model_id)
                .group_by(Transcript.status)
            ).all()
        )
        return QueueProgress(
            pending=counts.get(TranscriptStatus.PENDING, 0),
            skipped=counts.get(TranscriptStatus.SKIPPED, 0),
            approved=counts.get(TranscriptStatus.APPROVED, 0),
            rejected=counts.get(TranscriptStatus.REJECTED, 0),
        )


@requires(Permission.READ)
def next_in_queue(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    after_id: int | None = None,
    status: TranscriptStatus = TranscriptStatus.PENDING,
) -> TranscriptView | None:
    """The oldest transcript waiting (after ``after_id``, to move on without deciding)."""
    with uow:
        query = select(Transcript).where(
            Transcript.model_id == model_id, Transcript.status == TranscriptStatus(status)
        )
        if after_id is not None:
            query = query.where(Transcript.id > after_id)
        found = uow.session.scalar(query.order_by(Transcript.id).limit(1))
        return _view(uow.session, found) if found else None


@requires(Permission.READ)
def get_transcript(uow: UnitOfWork, actor: Actor, transcript_id: int) -> TranscriptView:
    with uow:
        return _view(uow.session, get_or_404(uow.session, Transcript, transcript_id, "Transcript"))


@requires(Permission.READ)
def list_transcripts(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    status: TranscriptStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page[TranscriptRow]:
    """One page of the queue, oldest first (the queue holds tens of thousands)."""
    conditions: list[Any] = [Transcript.model_id == model_id]
    if status is not None:
        conditions.append(Transcript.status == TranscriptStatus(status))
    with uow:
        session = uow.session
        total = session.scalar(select(func.count()).select_from(Transcript).where(*conditions))
        found = list(
            session.scalars(
                select(Transcript)
                .where(*conditions)
                .order_by(Transcript.id)
                .offset(max(0, offset))
                .limit(max(1, min(limit, 1_000)))
            )
        )
        titles = chat_titles(session, [t.source_ref for t in found])
        return Page(
            rows=[
                TranscriptRow(
                    id=t.id,
                    title=t.title,
                    status=t.status,
                    source_label=_source_label(t.source_ref, titles),
                    message_count=len(t.messages),
                    personal_data=bool(t.pii_warnings),
                    imported_at=t.imported_at,
                    reject_reason=t.reject_reason,
                )
                for t in found
            ],
            total=total or 0,
            offset=offset,
            limit=limit,
        )


def _pending(session: Session, transcript_id: int, expected_version: int | None) -> Transcript:
    transcript = get_or_404(session, Transcript, transcript_id, "Transcript")
    check_row_version(transcript, expected_version, entity="transcript")
    if transcript.status not in (TranscriptStatus.PENDING, TranscriptStatus.SKIPPED):
        who = user_names(session, [transcript.reviewed_by_id]).get(
            transcript.reviewed_by_id or 0, "someone"
        )
        raise ValidationFailed(
            f"This transcript was already {transcript.status.value} by {who}; open the next one."
        )
    return transcript


def _decided(
    session: Session, actor: Actor, transcript: Transcript, status: TranscriptStatus
) -> None:
    transcript.status = status
    transcript.reviewed_by_id = actor.user_id
    transcript.reviewed_at = utcnow()
    session.flush()


@requires(Permission.EDIT_TRAINING)
def approve_transcript(
    uow: UnitOfWork,
    actor: Actor,
    transcript_id: int,
    messages: Sequence[MessageDraft] | None = None,
    title: str | None = None,
    expected_version: int | None = None,
) -> Decision:
    """Approve as it is, or with the trainer's edited ``messages``: it becomes a ``ready``
    training conversation that names the file and line (or chat) it came from."""
    with uow:
        session = uow.session
        transcript = _pending(session, transcript_id, expected_version)
        drafts = list(messages) if messages is not None else _drafts(transcript.messages)
        origin = (
            ConversationOrigin.CHAT
            if "chat_id" in transcript.source_ref
            else ConversationOrigin.IMPORT
        )
        edited = messages is not None
        try:
            created = conversations.create_conversation(
                uow,
                actor,
                transcript.model_id,
                drafts,
                title=title if title is not None else transcript.title,
                notes="Curated from a transcript"
                + (", edited before approval." if edited else "."),
                status=ConversationStatus.READY,
                origin=origin,
                origin_ref=dict(transcript.source_ref),
            )
            conversation_id, message = (
                created.id,
                f"Approved: conversation #{created.id} is ready for the next compilation.",
            )
        except AlreadyExists as exc:
            conversation_id = exc.existing_id
            message = (
                f"Approved; these messages were already trained as conversation "
                f"#{exc.existing_id}, so no copy was made."
            )
        transcript.conversation_id = conversation_id
        _decided(session, actor, transcript, TranscriptStatus.APPROVED)
        record_audit(
            session,
            actor,
            "approve",
            "transcript",
            transcript.id,
            f"approved transcript “{transcript.title}” as conversation #{conversation_id}"
            + (" after editing" if edited else ""),
        )
        uow.commit()
        return Decision(transcript.id, TranscriptStatus.APPROVED, conversation_id, message)


@requires(Permission.EDIT_TRAINING)
def reject_transcript(
    uow: UnitOfWork,
    actor: Actor,
    transcript_id: int,
    reason: str,
    expected_version: int | None = None,
) -> Decision:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed("Say why it is rejected.", [Problem("reason", "must not be empty")])
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            "The reason is too long.", [Problem("reason", f"at most {REASON_MAX} characters")]
        )
    with uow:
        session = uow.session
        transcript = _pending(session, transcript_id, expected_version)
        transcript.reject_reason = reason
        _decided(session, actor, transcript, TranscriptStatus.REJECTED)
        record_audit(
            session,
            actor,
            "reject",
            "transcript",
            transcript.id,
            f"rejected transcript “{transcript.title}”: {reason}",
        )
        uow.commit()
        return Decision(transcript.id, TranscriptStatus.REJECTED, None, "Rejected.")


@requires(Permission.EDIT_TRAINING)
def skip_transcript(
    uow: UnitOfWork, actor: Actor, transcript_id: int, expected_version: int | None = None
) -> Decision:
    """Set aside for later: skipped transcripts wait until they are put back in the queue."""
    with uow:
        session = uow.session
        transcript = _pending(session, transcript_id, expected_version)
        _decided(session, actor, transcript, TranscriptStatus.SKIPPED)
        uow.commit()
        return Decision(transcript.id, TranscriptStatus.SKIPPED, None, "Skipped for later.")


@requires(Permission.EDIT_TRAINING)
def requeue_skipped(uow: UnitOfWork, actor: Actor, model_id: int) -> int:
    """Put every skipped transcript of the model back in the queue."""
    with uow:
        result = uow.session.execute(
            update(Transcript)
            .where(
                Transcript.model_id == model_id,
                Transcript.status == TranscriptStatus.SKIPPED,
            )
            .values(status=TranscriptStatus.PENDING, row_version=Transcript.row_version + 1)
        )
        uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)
