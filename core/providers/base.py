"""The provider interface. Services and the worker speak only this; a new cloud (Azure
OpenAI) or a self-hosted trainer is a new implementation, not a change to the services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class BaseModel:
    """A base model the provider offers (``shutdown_date`` where the provider gives one;
    ``fine_tuning_ends``: the last day new fine-tuning jobs are taken, where it says)."""

    id: str
    fine_tunable: bool = True
    context_tokens: int | None = None
    shutdown_date: date | None = None
    owned_by: str = ""
    fine_tuning_ends: date | None = None


@dataclass(frozen=True)
class Hyperparameters:
    """None means "auto": the provider chooses."""

    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None


@dataclass(frozen=True)
class JobRequest:
    training_file_id: str
    base_model: str
    suffix: str
    hyperparameters: Hyperparameters
    metadata: Mapping[str, str]
    validation_file_id: str | None = None
    # "supervised" (chat examples) or "dpo" (preference pairs, OpenAI's preference JSONL),
    # with DPO's beta (None: auto).
    method: str = "supervised"
    beta: float | None = None


@dataclass(frozen=True)
class JobEvent:
    id: str
    created_at: datetime
    level: str
    message: str
    event_type: str = "message"  # "message" or "metrics"
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Checkpoint:
    id: str
    step: int
    metrics: Mapping[str, float]
    created_at: datetime | None = None
    model: str | None = None  # a usable model at this step, where the provider offers one


# Job statuses as the provider reports them, mapped to what we do next. Unknown statuses
# are treated as "still running" so that a new provider state never breaks the worker.
JOB_RUNNING = frozenset(
    {"validating_files", "queued", "running", "pausing", "paused", "created", "pending"}
)
JOB_FINISHED = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    base_model: str
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    error: str | None = None
    error_code: str | None = None
    estimated_finish: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    finished_at: datetime | None = None
    n_epochs: int | None = None

    @property
    def finished(self) -> bool:
        return self.status in JOB_FINISHED


@dataclass(frozen=True)
class ChatTurn:
    role: str
    content: str
    name: str | None = None


@dataclass(frozen=True)
class ChatDelta:
    """A piece of a streamed answer. The last piece may carry facts about the answer (the
    local provider names the training example it answered from and how close it was)."""

    text: str
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Deployment:
    """A trained model made callable at the provider (Azure OpenAI answers only through a
    deployment, billed per hour while it exists). ``state`` is the provider's word
    (Azure's ``provisioningState``: Creating, Succeeded, Failed, ...)."""

    name: str
    model: str
    state: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.state in DEPLOYMENT_READY

    @property
    def failed(self) -> bool:
        return self.state in DEPLOYMENT_FAILED


DEPLOYMENT_READY = frozenset({"Succeeded", "Manual"})
DEPLOYMENT_FAILED = frozenset({"Failed", "Canceled", "Disabled"})


class Deployments(Protocol):
    """Deployments of trained models. Every call is idempotent: ``deploy`` with the name of
    an existing deployment of the same model changes nothing, so a worker that was killed
    while deploying simply asks again."""

    automatic: bool  # False: an admin makes deployments by hand and names them
    # An implementation may also say ``named_after_model = True``: the deployment of a
    # trained model is named after the model itself (an adapter server such as vLLM, where
    # the adapter's name is what chat asks for; ``open_weights_serving.AdapterServer``).

    def deploy(self, model: str, name: str, tags: Mapping[str, str] | None = None) -> Deployment:
        """Ask for ``model`` to be deployed as ``name``; returns at once (poll the status)."""
        ...

    def deployment_status(self, name: str) -> Deployment | None:
        """The deployment as it is now, or None if there is none of that name."""
        ...

    def remove_deployment(self, name: str) -> None:
        """Remove the deployment (and its hourly charge); no error if it is gone already."""
        ...

    def list_deployments(self) -> list[Deployment]: ...


class Provider(Protocol):
    kind: str
    # How long to wait before reading a running job again: first, then doubling up to max.
    poll_seconds: float
    max_poll_seconds: float

    @property
    def deployments(self) -> Deployments | None:
        """None: a trained model answers by its id, no deployment needed (OpenAI, local)."""
        ...

    def list_base_models(self) -> list[BaseModel]:
        """The base models this connection can use, with shutdown dates where known."""
        ...

    def upload_training_file(self, filename: str, content: bytes) -> str:
        """Upload a JSONL training file; return the provider's file id."""
        ...

    def create_job(self, request: JobRequest) -> Job:
        """Start a fine-tuning job. Never retried blindly: see ``find_job``."""
        ...

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        """Find the job created with this metadata (after a timeout or a restart)."""
        ...

    def get_job(self, job_id: str) -> Job: ...

    def list_events(self, job_id: str, since_id: str | None = None) -> list[JobEvent]:
        """The job's events newer than ``since_id`` (all if None), oldest first."""
        ...

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]: ...

    def cancel_job(self, job_id: str) -> Job: ...

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        """Answer a conversation, streaming the text as it is produced."""
        ...
