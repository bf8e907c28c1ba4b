"""The ORM: every entity of the domain, typed with SQLAlchemy 2 ``Mapped[]``, one module per
part of the domain. ``Base.metadata`` holds every table (Alembic compares against it).

Conventions:
- every table has an integer ``id``; timestamps are timezone-aware UTC;
- records users edit concurrently carry ``row_version`` (SQLAlchemy's version counter), so a
  stale update raises instead of silently overwriting;
- enumerations are stored as short strings with a CHECK constraint (portable to SQLite and
  PostgreSQL, readable in SQL);
- indexes follow the queries of a model with 100,000+ Q&As: everything is looked up by
  model first.
"""

from core.models.accounts import AuditEntry, LoginSession, Notification, User
from core.models.base import SEARCH_TEXT, Base
from core.models.catalog import AIModel, BaseModelInfo, ProviderConnection
from core.models.chat import Chat, ChatMember, ChatMessage
from core.models.compilation import Compilation, CompilationAsset, CompilationEvent, ModelVersion
from core.models.evaluation import EvaluationResult, EvaluationRun
from core.models.notifications import NotificationDelivery, NotificationWebhook
from core.models.training import (
    QA,
    QABulkJournal,
    TrainingConversation,
    TrainingMessage,
    Transcript,
)

__all__ = [
    "QA",
    "SEARCH_TEXT",
    "AIModel",
    "AuditEntry",
    "Base",
    "BaseModelInfo",
    "Chat",
    "ChatMember",
    "ChatMessage",
    "Compilation",
    "CompilationAsset",
    "CompilationEvent",
    "EvaluationResult",
    "EvaluationRun",
    "LoginSession",
    "ModelVersion",
    "Notification",
    "NotificationDelivery",
    "NotificationWebhook",
    "ProviderConnection",
    "QABulkJournal",
    "TrainingConversation",
    "TrainingMessage",
    "Transcript",
    "User",
]
