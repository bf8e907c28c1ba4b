"""The domain error tree.

Every error a user can meet derives from :class:`ArbiterError` and carries a message that is
fit to show as is. Pages display them in one way (``ui.errors``); the CLI prints the message
and exits non-zero. Anything else is a bug: it is logged with its traceback and the user sees
a short apology with a reference, never the traceback.

    ArbiterError
    ├── NotFound
    ├── Conflict
    │   ├── EditConflict            a row changed since it was read (optimistic locking)
    │   ├── AlreadyExists           the same record exists already (e.g. trained twice)
    │   ├── AlreadyRunning          one compilation per model at a time
    │   └── DatabaseBusy            rolled back after a lock wait or deadlock: try again
    ├── PermissionDenied
    ├── AuthenticationFailed
    │   └── AccountLocked
    ├── ValidationFailed            bad input; ``problems`` names each field or row
    ├── BudgetExceeded
    └── ProviderError               the AI provider could not do what was asked
        ├── ProviderUnavailable     outage, timeout, dropped connection: try again later
        │   └── ProviderRateLimited ``retry_after``: the seconds the provider asked for
        ├── ProviderAuthError       missing or rejected API key or token
        ├── ProviderOutOfCredit     out of credit or over quota: retrying does not help
        ├── UnknownBaseModel        no such base model, or not one that can be fine-tuned
        ├── FineTuningUnavailable   the account or model cannot be fine-tuned (any more)
        └── DeploymentFailed        the provider could not deploy a trained model
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ArbiterError(Exception):
    """Base of every error whose message may be shown to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ArbiterError):
    pass


class Conflict(ArbiterError):
    pass


@dataclass(frozen=True)
class FieldChange:
    """One field of a record as the user last saw it, as stored now, and as attempted."""

    field: str
    seen: Any
    stored: Any
    attempted: Any


class EditConflict(Conflict):
    """Someone else changed the record since it was read; nothing was overwritten."""

    def __init__(
        self,
        message: str,
        *,
        entity: str,
        entity_id: int,
        stored_version: int,
        changes: Sequence[FieldChange] = (),
    ) -> None:
        super().__init__(message)
        self.entity = entity
        self.entity_id = entity_id
        self.stored_version = stored_version
        self.changes = list(changes)


class AlreadyRunning(Conflict):
    pass


class AlreadyExists(Conflict):
    """Nothing was written because the same record exists already; ``existing_id`` names it
    so that the user can be sent there."""

    def __init__(self, message: str, *, entity: str, existing_id: int) -> None:
        super().__init__(message)
        self.entity = entity
        self.existing_id = existing_id


class PermissionDenied(ArbiterError):
    pass


class DatabaseBusy(Conflict):
    """Another change held the database (or the rows) for too long, or two changes deadlocked;
    this one was rolled back whole and may simply be tried again."""


class AuthenticationFailed(ArbiterError):
    pass


class AccountLocked(AuthenticationFailed):
    pass


@dataclass(frozen=True)
class Problem:
    """One reason an input was refused: where (field, row or line) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ValidationFailed(ArbiterError):
    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"- {p}" for p in self.problems[:20])]
        if len(self.problems) > 20:
            lines.append(f"- … and {len(self.problems) - 20} more")
        return "\n".join(lines)


class BudgetExceeded(ArbiterError):
    pass


class ProviderError(ArbiterError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class ProviderAuthError(ProviderError):
    pass


class ProviderRateLimited(ProviderUnavailable):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderOutOfCredit(ProviderError):
    """The account is out of credit or over its quota (OpenAI's 429 ``insufficient_quota``,
    Azure's ``quotaExceeded``): not a rate limit, so it is never retried."""


class UnknownBaseModel(ProviderError):
    pass


class FineTuningUnavailable(ProviderError):
    pass


class DeploymentFailed(ProviderError):
    """The provider reported that a deployment of a trained model failed."""
