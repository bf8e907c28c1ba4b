"""Domain vocabulary shared by every layer: enumerations, limits and the clock.

No SQLAlchemy here, so that pages may use these names without touching the ORM.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import overload

# Limits shared by the services, importers and the UI.
NAME_MAX = 120
SECTION_MAX = 120
QUESTION_MAX = 4_000
ANSWER_MAX = 32_000
NOTES_MAX = 4_000
SYSTEM_MESSAGE_MAX = 8_000
MESSAGE_MAX = 64_000
# Q&A and transcript files are parsed in memory (several times their size, with the preview
# and the duplicate checks), so one file may hold at most this much; the validator streams
# and has no such limit. Streamlit's upload limit (.streamlit/config.toml) matches it.
IMPORT_MAX_BYTES = 50 * 1024 * 1024
IMPORT_MAX_MB = IMPORT_MAX_BYTES // (1024 * 1024)
# Within those bytes, a million one-word lines or ten thousand empty columns per row would
# still cost gigabytes as rows: a file holds at most this many rows (lines, transcripts) and
# columns. Q&A sheets have six columns, a grid page is 100,000 rows at most in the benchmarks.
IMPORT_MAX_ROWS = 100_000
IMPORT_MAX_COLUMNS = 100

# C0 control characters other than tab, line feed and carriage return: PostgreSQL cannot
# store NUL in text, XLSX cannot hold any of them, and none means anything in training text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_character(text: str) -> str | None:
    """The first control character that no stored text may hold, as ``U+0000``, or None."""
    found = _CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment with its zone: SQLite hands timestamps back without one, and they
    are stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"
    MANAGER = "manager"


class ProviderType(enum.StrEnum):
    OPENAI = "openai"
    LOCAL = "local"
    AZURE_OPENAI = "azure_openai"
    OPEN_WEIGHTS = "open_weights"


# The providers whose base models must be in the catalogue to be used: their APIs take only
# the names they know, and a typo would only show after the upload.
CATALOGUED_PROVIDERS = frozenset({ProviderType.OPENAI, ProviderType.AZURE_OPENAI})


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
