"""The OpenAI provider, through the official ``openai`` SDK.

The key never passes through the database: a connection names the environment variable
(or Streamlit secret) that holds it, and it is read only here, when a client is built.
SDK errors become domain errors with wording a trainer can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast

import openai
from openai import omit
from openai.types.chat import ChatCompletionMessageParam
from openai.types.fine_tuning import FineTuningJob, job_create_params

from core.errors import (
    FineTuningUnavailable,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers.base import (
    BaseModel,
    ChatDelta,
    ChatTurn,
    Checkpoint,
    Job,
    JobEvent,
    JobRequest,
)

# Models whose names start with these can be fine-tuned (the rest are listed for chat).
FINE_TUNABLE_PREFIXES = ("gpt-4o-mini", "gpt-4o-2024", "gpt-4.1", "gpt-3.5-turbo")
DEFAULT_TIMEOUT = 30.0
SUFFIX_MAX = 64
# Reads may be retried by the SDK (it honours Retry-After); job creation never is.
READ_RETRIES = 2


def _is_fine_tuning_unavailable(message: str, code: str | None = None) -> bool:
    if code == "model_not_available":
        return True
    text = message.lower()
    return ("fine-tun" in text or "fine_tun" in text) and (
        "not available" in text or "no longer" in text or "not supported" in text
    )


@contextmanager
def translate_errors(action: str, key_env: str | None = None) -> Iterator[None]:
    """Turn SDK exceptions into the domain's, naming what we were doing."""
    try:
        yield
    except openai.AuthenticationError as exc:
        where = f" (from {key_env})" if key_env else ""
        raise ProviderAuthError(
            f"OpenAI refused the API key{where} while trying to {action}. Check the key."
        ) from exc
    except openai.RateLimitError as exc:
        retry = exc.response.headers.get("retry-after") if exc.response is not None else None
        seconds = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
        raise ProviderRateLimited(
            f"OpenAI is rate-limiting requests ({action}); it will be retried"
            + (f" in {seconds:g} s." if seconds else " shortly."),
            retry_after=seconds,
        ) from exc
    except openai.APITimeoutError as exc:
        raise ProviderUnavailable(
            f"OpenAI did not answer in time while trying to {action}."
        ) from exc
    except openai.APIConnectionError as exc:
        raise ProviderUnavailable(
            f"Could not reach OpenAI while trying to {action} (network or outage)."
        ) from exc
    except openai.InternalServerError as exc:
        raise ProviderUnavailable(
            f"OpenAI had a server error ({exc.status_code}) while trying to {action}; "
            "try again later."
        ) from exc
    except openai.NotFoundError as exc:
        raise UnknownBaseModel(
            f"OpenAI does not know the model asked for ({action}): {exc.message}"
        ) from exc
    except openai.APIStatusError as exc:
        if _is_fine_tuning_unavailable(exc.message, getattr(exc, "code", None)):
            raise FineTuningUnavailable(
                "Fine-tuning is not available to this account or model at OpenAI "
                f"({exc.message}). OpenAI is winding down self-serve fine-tuning; export the "
                "training set as JSONL to use it elsewhere."
            ) from exc
        if exc.status_code == 403:
            raise ProviderAuthError(f"OpenAI refused to {action}: {exc.message}") from exc
        raise ProviderError(f"OpenAI could not {action}: {exc.message}") from exc


class OpenAIProvider:
    kind = "openai"
    poll_seconds = 10.0
    max_poll_seconds = 120.0

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not api_key:
            raise ProviderAuthError(
                f"No OpenAI API key: set the environment variable or secret "
                f"{key_env or 'OPENAI_API_KEY'}."
            )
        self.key_env = key_env
        # max_retries=0 here; callers that may safely retry do so themselves (a retried job
        # creation could start a second, paid job).
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )
        self.reading = self.client.with_options(max_retries=READ_RETRIES)

    def list_base_models(self) -> list[BaseModel]:
        with translate_errors("list the models", self.key_env):
            models = list(self.client.models.list())
        result = []
        for model in models:
            shutdown = getattr(model, "shutdown_date", None)
            result.append(
                BaseModel(
                    id=model.id,
                    fine_tunable=model.id.startswith(FINE_TUNABLE_PREFIXES)
                    and not model.id.startswith("ft:"),
                    shutdown_date=date.fromisoformat(shutdown[:10]) if shutdown else None,
                    owned_by=model.owned_by,
                )
            )
        return sorted(result, key=lambda m: m.id)

    def chat(self, model: str, messages: Sequence[ChatTurn]) -> Iterator[ChatDelta]:
        payload = cast(
            "list[ChatCompletionMessageParam]",
            [
                {"role": m.role, "content": m.content, **({"name": m.name} if m.name else {})}
                for m in messages
            ],
        )
        with translate_errors("answer in chat", self.key_env):
            stream = self.client.chat.completions.create(
                model=model,
                messages=payload,
                stream=True,
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield ChatDelta(chunk.choices[0].delta.content)
        yield ChatDelta("", meta={"provider": "openai", "model": model})

    # Fine-tuning jobs --------------------------------------------------------------------

    def upload_training_file(self, filename: str, content: bytes) -> str:
        with translate_errors("upload the training file", self.key_env):
            uploaded = self.reading.files.create(file=(filename, content), purpose="fine-tune")
        return uploaded.id

    def create_job(self, request: JobRequest) -> Job:
        # Never retried here (self.client has max_retries=0): the API takes no idempotency
        # key, so a retry after a lost answer could start a second, paid job. The caller
        # looks the job up by its metadata instead.
        hyper = request.hyperparameters
        hyperparameters: dict[str, Any] = {
            "n_epochs": hyper.n_epochs if hyper.n_epochs is not None else "auto",
            "batch_size": hyper.batch_size if hyper.batch_size is not None else "auto",
            "learning_rate_multiplier": hyper.learning_rate_multiplier
            if hyper.learning_rate_multiplier is not None
            else "auto",
        }
        method = cast(
            "job_create_params.Method",
            {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
        )
        with translate_errors("start the fine-tuning job", self.key_env):
            job = self.client.fine_tuning.jobs.create(
                model=request.base_model,
                training_file=request.training_file_id,
                validation_file=request.validation_file_id or omit,
                suffix=request.suffix[:SUFFIX_MAX] or omit,
                metadata=dict(request.metadata),
                method=method,
            )
        return _job(job)

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        with translate_errors("look for the fine-tuning job", self.key_env):
            page = self.reading.fine_tuning.jobs.list(metadata=dict(metadata), limit=10)
            for job in page:
                if all((job.metadata or {}).get(k) == v for k, v in metadata.items()):
                    return _job(job)
        return None

    def get_job(self, job_id: str) -> Job:
        with translate_errors("read the fine-tuning job", self.key_env):
            return _job(self.reading.fine_tuning.jobs.retrieve(job_id))

    def list_events(self, job_id: str, since_id: str | None = None) -> list[JobEvent]:
        newest_first: list[JobEvent] = []
        with translate_errors("read the job's events", self.key_env):
            # Newest first, page by page, until the newest event already known.
            for event in self.reading.fine_tuning.jobs.list_events(job_id, limit=100):
                if event.id == since_id:
                    break
                newest_first.append(
                    JobEvent(
                        id=event.id,
                        created_at=_time(event.created_at) or datetime.now(UTC),
                        level=event.level,
                        message=event.message,
                        event_type=event.type or "message",
                        data=cast("Mapping[str, Any] | None", event.data) or None,
                    )
                )
        return newest_first[::-1]

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        result: list[Checkpoint] = []
        with translate_errors("read the job's checkpoints", self.key_env):
            for item in self.reading.fine_tuning.jobs.checkpoints.list(job_id, limit=100):
                metrics = {
                    k: float(v) for k, v in item.metrics.model_dump().items() if v is not None
                }
                result.append(
                    Checkpoint(
                        id=item.id,
                        step=item.step_number,
                        metrics=metrics,
                        created_at=_time(item.created_at),
                        model=item.fine_tuned_model_checkpoint,
                    )
                )
        return sorted(result, key=lambda c: c.step)

    def cancel_job(self, job_id: str) -> Job:
        with translate_errors("cancel the fine-tuning job", self.key_env):
            return _job(self.reading.fine_tuning.jobs.cancel(job_id))


def _time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _job(job: FineTuningJob) -> Job:
    hyper = job.hyperparameters
    epochs = hyper.n_epochs if hyper is not None else None
    return Job(
        id=job.id,
        status=job.status,
        base_model=job.model,
        fine_tuned_model=job.fine_tuned_model,
        trained_tokens=job.trained_tokens,
        error=job.error.message if job.error else None,
        error_code=job.error.code if job.error else None,
        estimated_finish=_time(job.estimated_finish),
        metadata=dict(job.metadata or {}),
        created_at=_time(job.created_at),
        finished_at=_time(job.finished_at),
        n_epochs=epochs if isinstance(epochs, int) else None,
    )
