"""Domain vocabulary shared by every layer: enumerations, limits and the clock.

No SQLAlchemy here, so that pages may use these names without touching the ORM.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

# Limits shared by the services, importers and the UI.
NAME_MAX = 120
SECTION_MAX = 120
QUESTION_MAX = 4_000
ANSWER_MAX = 32_000
NOTES_MAX = 4_000
SYSTEM_MESSAGE_MAX = 8_000
MESSAGE_MAX = 64_000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"
    MANAGER = "manager"


class ProviderType(enum.StrEnum):
    OPENAI = "openai"
    LOCAL = "local"


class ModelKind(enum.StrEnum):
    ARBITER = "arbiter"
    ASSISTANT = "assistant"


class QAType(enum.StrEnum):
    TRAINING = "training"
    VALIDATION = "validation"


class ConversationOrigin(enum.StrEnum):
    MANUAL = "manual"
    CHAT = "chat"
    IMPORT = "import"


class ConversationStatus(enum.StrEnum):
    DRAFT = "draft"
    READY = "ready"
    EXCLUDED = "excluded"


class MessageRole(enum.StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class ChatKind(enum.StrEnum):
    GROUP = "group"
    DIRECT = "direct"


class AnswerMode(enum.StrEnum):
    MENTION = "mention"
    EVERY_MESSAGE = "every"


class ChatMessageStatus(enum.StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    FAILED = "failed"


class TranscriptStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"


class CompilationStatus(enum.StrEnum):
    QUEUED = "queued"
    VALIDATING = "validating"
    UPLOADING = "uploading"
    TRAINING = "training"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_COMPILATION_STATUSES


ACTIVE_COMPILATION_STATUSES = frozenset(
    {
        CompilationStatus.QUEUED,
        CompilationStatus.VALIDATING,
        CompilationStatus.UPLOADING,
        CompilationStatus.TRAINING,
    }
)
