"""Curation: training conversations, imported transcripts, and Train AI from chat answers.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.curation.conversation_status import (
    delete_conversation,
    set_status,
    set_status_bulk,
)
from core.services.curation.conversations import (
    ConversationDetail,
    ConversationFilter,
    ConversationRow,
    Editor,
    MessageView,
    conversation_editors,
    create_conversation,
    get_conversation,
    list_conversations,
    save_conversation,
)
from core.services.curation.train_ai import TrainResult, train_from_chat, train_preview
from core.services.curation.transcript_preview import TranscriptPreview, preview_transcripts
from core.services.curation.transcript_undo import undo_decision
from core.services.curation.transcripts import (
    Decision,
    TranscriptView,
    approve_transcript,
    get_transcript,
    import_transcripts,
    list_transcripts,
    next_in_queue,
    queue_progress,
    reject_transcript,
    requeue_skipped,
    send_chat_to_queue,
    skip_transcript,
)
from core.services.curation.waiting import waiting_by_model

__all__ = [
    "ConversationDetail",
    "ConversationFilter",
    "ConversationRow",
    "Decision",
    "Editor",
    "MessageView",
    "TrainResult",
    "TranscriptPreview",
    "TranscriptView",
    "approve_transcript",
    "conversation_editors",
    "create_conversation",
    "delete_conversation",
    "get_conversation",
    "get_transcript",
    "import_transcripts",
    "list_conversations",
    "list_transcripts",
    "next_in_queue",
    "preview_transcripts",
    "queue_progress",
    "reject_transcript",
    "requeue_skipped",
    "save_conversation",
    "send_chat_to_queue",
    "set_status",
    "set_status_bulk",
    "skip_transcript",
    "train_from_chat",
    "train_preview",
    "undo_decision",
    "waiting_by_model",
]
